"""Profiles: named sets of checks with levels and selectors, from ``profiles/*.toml``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runner.errors import ConfigError
from runner.model import CheckConfig, Level, Limits, Profile, VectorSelector
from runner.paths import display
from runner.schema import check_document, load_toml

SCHEMA_ID = "aiii:schemas/profile"


def _selector(raw: dict[str, Any]) -> VectorSelector:
    return VectorSelector(
        tags_any=tuple(raw.get("tags_any", ())),
        tags_all=tuple(raw.get("tags_all", ())),
        tags_none=tuple(raw.get("tags_none", ())),
        media_types=tuple(raw.get("media_types", ())),
        ids=tuple(raw.get("ids", ())),
        limit_per_media_type=raw.get("limit_per_media_type"),
    )


def load_profile(profiles_dir: Path, name: str, known_checks: set[str], _seen: tuple[str, ...] = ()) -> Profile:
    """Load a profile by name (or path), resolving ``include``; errors name file and key."""
    path = Path(name) if name.endswith(".toml") else profiles_dir / f"{name}.toml"
    shown = display(path)
    if not path.is_file():
        available = ", ".join(sorted(p.stem for p in profiles_dir.glob("*.toml")))
        raise ConfigError(f"{shown}: no such profile (available: {available})")
    doc = load_toml(path, shown)
    check_document(SCHEMA_ID, doc, shown)
    checks: list[CheckConfig] = []
    channels: dict[str, Any] = {}
    limits: dict[str, int] = {}
    for i, inc in enumerate(doc.get("include", [])):
        if inc in _seen or inc == doc["name"]:
            raise ConfigError(f"{shown}: include[{i}]: {inc!r} includes itself")
        try:
            included = load_profile(profiles_dir, inc, known_checks, (*_seen, doc["name"]))
            checks.extend(included.checks)
            channels.update(included.channels)
            limits.update({k: v for k, v in vars(included.limits).items() if v != getattr(Limits(), k)})
        except ConfigError as exc:
            raise ConfigError(f"{shown}: include[{i}]: {exc}") from None
    for i, raw in enumerate(doc.get("checks", [])):
        if raw["id"] not in known_checks:
            raise ConfigError(f"{shown}: checks[{i}].id: unknown check {raw['id']!r} (known: {', '.join(sorted(known_checks))})")
        cfg = CheckConfig(
            id=raw["id"],
            level=Level(raw["level"]),
            vectors=_selector(raw.get("vectors", {})),
            vendors=tuple(raw.get("vendors", ("*",))),
            params=dict(raw.get("params", {})),
        )
        # a later definition of a check overrides an included one, in its place
        ids = [c.id for c in checks]
        if cfg.id in ids:
            checks[ids.index(cfg.id)] = cfg
        else:
            checks.append(cfg)
    if not checks:
        raise ConfigError(f"{shown}: checks: the profile runs no check")
    fail_on = doc.get("fail_on", "never")  # no gate unless the profile's author asks for one
    return Profile(
        name=doc["name"],
        description=doc["description"],
        path=path,
        checks=tuple(checks),
        vendors=tuple(doc.get("vendors", ("*",))),
        fail_on=None if fail_on == "never" else Level(fail_on),
        channels={**channels, **doc.get("channels", {})},
        limits=Limits(**{**limits, **doc.get("limits", {})}),
    )


def list_profiles(profiles_dir: Path) -> list[tuple[str, str]]:
    """(name, description) of every profile file, without resolving includes."""
    out = []
    for path in sorted(profiles_dir.glob("*.toml")):
        doc = load_toml(path, display(path))
        out.append((path.stem, str(doc.get("description", ""))))
    return out
