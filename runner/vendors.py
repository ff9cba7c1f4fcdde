"""Vendor manifests: loading, validation and what a vendor needs to run here."""

from __future__ import annotations

import fnmatch
import hashlib
import importlib
import importlib.metadata
import importlib.util
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from aiii_kit.server import resolve_version

from runner.errors import ConfigError
from runner.model import Capability, Expectation, VendorManifest
from runner.paths import display
from runner.preflight import vendor_folders
from runner.schema import check_document, load_toml

SCHEMA_ID = "aiii:schemas/vendor"


def load_manifest(path: Path) -> VendorManifest:
    """Load and validate one ``vendor.toml``; errors name the file and the key."""
    shown = display(path)
    doc = load_toml(path, shown)
    if "transport" in doc:  # the key's name before the placements were named so
        raise ConfigError(f"{shown}: transport: the key is now called placement: rename it (placement = {doc['transport']!r})")
    check_document(SCHEMA_ID, doc, shown)
    if doc["id"] != path.parent.name:
        raise ConfigError(f"{shown}: id: {doc['id']!r} must equal its folder name {path.parent.name!r}")
    adapter = doc.get("adapter", {})
    if doc["placement"] != "http" and not adapter.get("entry") and not doc.get("process", {}).get("command"):
        raise ConfigError(f"{shown}: adapter.entry: required for placement {doc['placement']!r}")
    process = doc.get("process", {})
    if process.get("build") == "cargo-install" and "command" in process:
        raise ConfigError(f"{shown}: process.command: not with build = 'cargo-install' (the kit's server runs the"
                          " adapter, which finds the installed program as {binary} in [adapter.config])")
    stray = [key for key in ("crate", "version", "bin") if key in process and process.get("build") != "cargo-install"]
    if stray:
        raise ConfigError(f"{shown}: process.{stray[0]}: only with build = 'cargo-install'")
    if doc["placement"] == "http" and "http" not in doc:
        raise ConfigError(f"{shown}: http: required for placement 'http' (url, token_env, ...)")
    if "adapter" in doc["version"] and not adapter and doc["placement"] == "inproc":
        raise ConfigError(f"{shown}: version.adapter: needs an [adapter] table")
    if "processes" in adapter and doc["placement"] not in ("inproc", "process"):
        raise ConfigError(f"{shown}: adapter.processes: only for placements 'inproc' and 'process', not"
                          f" {doc['placement']!r} (a container's or endpoint's concurrency is its max_concurrency)")
    caps = tuple(
        Capability(c["operation"], tuple(c["media_types"]), dict(c.get("options", {}))) for c in doc["capabilities"]
    )
    # An operation may be declared once per media type: a vendor serving images and audio
    # with different options (algorithms) declares one capability for each.
    seen: set[tuple[str, str]] = set()
    for i, cap in enumerate(caps):
        for media_type in cap.media_types:
            if (cap.operation, media_type) in seen:
                raise ConfigError(f"{shown}: capabilities[{i}].operation: {cap.operation!r} declared twice"
                                  f" for {media_type}")
            seen.add((cap.operation, media_type))
    expectations = []
    for i, exp in enumerate(doc.get("expectations", [])):
        try:
            expires = date.fromisoformat(exp["expires"])
        except ValueError:
            raise ConfigError(f"{shown}: expectations[{i}].expires: not a date: {exp['expires']!r}") from None
        expectations.append(Expectation(exp["check"], exp["reason"], exp["link"], expires))
    return VendorManifest(
        id=doc["id"],
        name=doc["name"],
        organisation=doc["organisation"],
        placement=doc["placement"],
        folder=path.parent.resolve(),
        version_rule=dict(doc["version"]),
        capabilities=caps,
        expectations=tuple(expectations),
        role=doc.get("role", "reference"),
        default=doc.get("default", True),
        description=doc.get("description", ""),
        homepage=doc.get("homepage"),
        adapter_entry=adapter.get("entry"),
        requires=tuple(adapter.get("requires", ())),
        max_concurrency=adapter.get("max_concurrency", 1),
        processes=adapter.get("processes"),
        timeout_s=adapter.get("timeout_s"),
        config=dict(adapter.get("config", {})),
        process=dict(doc.get("process", {})),
        docker=dict(doc.get("docker", {})),
        http=dict(doc.get("http", {})),
        limits=dict(doc.get("limits", {})),
    )


def load_vendors(vendors_dir: Path, extra_dirs: Iterable[Path] = ()) -> dict[str, VendorManifest]:
    """Every ``*/vendor.toml`` under the vendor folders, by id."""
    extra = list(extra_dirs)
    vendor_folders(extra)  # a mistyped --vendor-dir is an error, not a silently smaller run
    out: dict[str, VendorManifest] = {}
    for directory in (vendors_dir, *extra):
        for path in sorted(directory.glob("*/vendor.toml")):
            manifest = load_manifest(path)
            if manifest.id in out:
                raise ConfigError(f"{display(path)}: id: {manifest.id!r} already defined")
            out[manifest.id] = manifest
    return out


def select_vendors(
    vendors: dict[str, VendorManifest], patterns: Iterable[str] | None
) -> dict[str, VendorManifest]:
    """Vendors whose id matches any glob; no patterns means the default set."""
    if not patterns:
        return {k: v for k, v in vendors.items() if v.default}
    pats = list(patterns)
    chosen = {k: v for k, v in vendors.items() if any(fnmatch.fnmatchcase(k, p) for p in pats)}
    unknown = [p for p in pats if not any(fnmatch.fnmatchcase(k, p) for k in vendors)]
    if unknown:
        raise ConfigError(f"--vendors: no vendor matches {', '.join(unknown)} (known: {', '.join(sorted(vendors))})")
    return chosen


@dataclass(frozen=True)
class Availability:
    runnable: bool
    reason: str | None


def availability(manifest: VendorManifest, placement: str | None = None) -> Availability:
    """Whether the vendor can run on this machine in its placement, and why not."""
    where = placement or manifest.placement
    if where == "http":
        token_env = manifest.http.get("token_env")
        if token_env and not os.environ.get(token_env):
            return Availability(False, f"environment variable {token_env} (the bearer token) is not set")
        return Availability(True, None)
    if where == "docker":
        return docker_availability()
    if where == "process" and (manifest.process.get("requirements") or manifest.process.get("no_deps")):
        return Availability(True, None)  # its own environment is built at start-up
    for module in manifest.requires:
        try:
            if importlib.util.find_spec(module) is None:
                return Availability(False, f"Python module {module!r} is not installed")
        except (ImportError, ValueError) as exc:
            return Availability(False, f"Python module {module!r} cannot be found: {exc}")
    if manifest.adapter_entry:
        file = manifest.folder / manifest.adapter_entry.split(":", 1)[0]
        if not file.is_file():
            return Availability(False, f"adapter file {display(file)} is missing")
    return Availability(True, None)


def docker_availability() -> Availability:
    """Whether a Docker engine answers here."""
    try:
        import docker  # type: ignore[import-untyped]

        client = docker.from_env(timeout=10)
        client.ping()
        client.close()
    except Exception as exc:  # noqa: BLE001 - any failure means no engine
        return Availability(False, f"no Docker engine reachable: {str(exc)[:200]}")
    return Availability(True, None)


def rule_version(manifest: VendorManifest) -> str | None:
    """The version from a ``distribution`` or ``attribute`` rule (None for ``adapter``)."""
    return resolve_version(dict(manifest.version_rule))


def code_hash(manifest: VendorManifest) -> str:
    """A hash of the vendor folder's code and manifest: part of every cache key."""
    digest = hashlib.sha256()
    for path in manifest.code_files():
        if path.suffix in {".py", ".toml", ".txt", ".json", ".cfg", ".rs", ".lock"}:  # .rs, .lock: a built server
            digest.update(str(path.relative_to(manifest.folder)).encode())
            digest.update(path.read_bytes())
    if manifest.adapter_entry:  # an adapter shared with a sibling vendor's folder counts too
        entry = (manifest.folder / manifest.adapter_entry.split(":", 1)[0]).resolve()
        if manifest.folder.resolve() not in entry.parents and entry.is_file():
            digest.update(entry.read_bytes())
    return digest.hexdigest()[:16]
