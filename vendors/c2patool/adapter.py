"""c2patool, the C2PA reference SDK's command-line tool (a c2pa-rs release of its own),
run as a subprocess: signs with ``--manifest`` and a settings file, validates by printing
the manifest store's JSON.

Every call works in a scratch folder that is also the tool's ``HOME``, and names its own
settings file there: c2patool otherwise reads ``~/.config/c2pa/c2pa.toml``, trust files
beside it, and ``C2PA_SIGN_CERT``/``C2PA_PRIVATE_KEY`` from the environment, none of
which may decide a verdict here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from aiii_kit import Adapter, AdapterError, Asset, Unsupported
from aiii_kit.c2pa import empty_provenance_report, manifest_definition, summarise_manifest_json

#: Media types verified to sign and read back with c2patool 0.27.22.
SIGN_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/webp", "image/tiff", "image/gif", "audio/wav", "audio/mpeg", "audio/flac"}
)
STATES = ("Invalid", "Valid", "Trusted")
#: What c2patool prints (stderr) for an asset without a manifest store.
NO_MANIFEST = ("No claim found",)


class C2patoolAdapter(Adapter):
    """``provenance.sign`` and ``provenance.read`` through the c2patool program."""

    _version: str | None = None

    @property
    def _timeout(self) -> float:
        return float(self.config.get("command_timeout_s", 60))

    def _exe(self) -> str:
        command = str(self.config.get("command", ""))
        if not command or "{binary}" in command:
            raise AdapterError("c2patool is not built here: serve the vendor in its process placement, which "
                               "installs it with cargo ([process] build = \"cargo-install\")")
        if not Path(command).is_file():
            raise AdapterError(f"c2patool not found at {command}")
        return command

    def _run(self, args: list[str], work: Path) -> subprocess.CompletedProcess[bytes]:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work), "XDG_CONFIG_HOME": str(work),
               "LANG": "C.UTF-8", "RUST_LOG": "error"}
        try:
            return subprocess.run([self._exe(), *args], capture_output=True, timeout=self._timeout, check=False,
                                  cwd=work, env=env, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise AdapterError(f"c2patool did not finish within {self._timeout:.0f} s") from None

    def implementation_version(self) -> str | None:
        if self._version is None:
            with tempfile.TemporaryDirectory(prefix="c2patool-") as work:
                proc = self._run(["--version"], Path(work))
            match = re.search(rb"c2patool (\S+)", proc.stdout)
            if match is None:
                raise AdapterError(f"c2patool --version printed no version: {_last_line(proc.stderr or proc.stdout)}")
            self._version = match.group(1).decode("ascii", "replace")
        return self._version

    def health(self) -> None:
        self.implementation_version()

    # ------------------------------------------------------------------ sign

    def provenance_sign(self, asset: Asset, params: dict[str, Any]) -> Asset:
        """Embed a manifest signed with the harness's test credentials, and a CAWG X.509
        identity assertion when ``params['identity']`` asks for one."""
        if asset.media_type not in SIGN_TYPES:
            raise Unsupported(f"c2patool adapter does not sign {asset.media_type}")
        settings: dict[str, Any] = {**_base_settings(), "signer": {"local": _signer(params["signer"])}}
        identity = params.get("identity")
        if identity:
            cawg = _signer(identity["signer"])
            cawg["referenced_assertions"] = list(identity.get("referenced_assertions") or ["c2pa.actions"])
            if identity.get("roles"):
                cawg["roles"] = list(identity["roles"])
            settings["cawg_x509_signer"] = {"local": cawg}
        with tempfile.TemporaryDirectory(prefix="c2patool-") as name:
            work = Path(name)
            source, output = work / f"source{asset.suffix}", work / f"signed{asset.suffix}"
            source.write_bytes(asset.data)
            (work / "manifest.json").write_text(json.dumps(manifest_definition(params, created=True)), "utf-8")
            (work / "settings.json").write_text(json.dumps(settings), "utf-8")
            proc = self._run([str(source), "--manifest", "manifest.json", "--output", str(output),
                              "--settings", "settings.json", "--no_signing_verify"], work)
            if proc.returncode != 0 or not output.is_file():
                raise _failure("sign", proc)
            return Asset(output.read_bytes(), asset.media_type, asset.name)

    # ------------------------------------------------------------------ read

    def provenance_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        """Validate and report the manifest store as the normalised provenance report."""
        settings = _base_settings()
        anchors = params.get("trust_anchors_pem")
        if anchors:
            settings["trust"] = {"trust_anchors": anchors}
        with tempfile.TemporaryDirectory(prefix="c2patool-") as name:
            work = Path(name)
            source = work / f"asset{asset.suffix}"
            source.write_bytes(asset.data)
            (work / "settings.json").write_text(json.dumps(settings), "utf-8")
            proc = self._run([str(source), "--settings", "settings.json"], work)
            if proc.returncode != 0:
                if any(text in _last_line(proc.stderr) for text in NO_MANIFEST):
                    return empty_provenance_report()
                raise _failure("read", proc)
            store = _json(proc.stdout, "the manifest store")
            detailed = self._run([str(source), "--settings", "settings.json", "--detailed"], work)
        notes: list[str] = []
        labels = _store_labels(detailed, notes)
        return _report(store, labels, notes)


def _base_settings() -> dict[str, Any]:
    return {"builder": {"thumbnail": {"enabled": False}}, "verify": {"remote_manifest_fetch": False}}


def _signer(credentials: dict[str, Any]) -> dict[str, Any]:
    if credentials.get("alg") != "es256":
        raise Unsupported(f"signing algorithm {credentials.get('alg')!r}")
    return {"alg": "es256", "sign_cert": credentials["cert_chain_pem"], "private_key": credentials["private_key_pem"]}


def _json(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise AdapterError(f"c2patool printed {what} as something other than JSON: {exc}") from None
    if not isinstance(value, dict):
        raise AdapterError(f"c2patool printed {what} as JSON that is not an object")
    return value


def _codes(bucket: Any) -> list[str]:
    if not isinstance(bucket, list):
        return []
    return [str(entry.get("code")) for entry in bucket if isinstance(entry, dict) and entry.get("code")]


def _report(store: dict[str, Any], labels: list[str] | None, notes: list[str]) -> dict[str, Any]:
    """The provenance report of c2patool's manifest-store JSON (the SDK's Reader JSON)."""
    results = store.get("validation_results") or {}
    active = results.get("activeManifest") or {}
    deltas = [
        {"uri": str(delta.get("ingredientAssertionURI", "")),
         **{key: _codes((delta.get("validationDeltas") or {}).get(key)) for key in ("success", "informational", "failure")}}
        for delta in results.get("ingredientDeltas") or [] if isinstance(delta, dict)
    ]
    state = store.get("validation_state")
    label = store.get("active_manifest")
    manifests = store.get("manifests") or {}
    manifest = manifests.get(label) if isinstance(manifests, dict) and isinstance(label, str) else None
    report = empty_provenance_report()
    report.update(
        manifest_present=True,
        validation_state=state if state in STATES else None,
        codes={key: _codes(active.get(key)) for key in ("success", "informational", "failure")},
        ingredient_deltas=deltas,
        active_manifest=summarise_manifest_json(manifest, notes, labels) if isinstance(manifest, dict) else None,
    )
    if state not in STATES:
        notes.append(f"unexpected validation state {state!r}")
    if not isinstance(manifest, dict):
        notes.append("manifest store present but no active manifest")
    if notes:
        report["notes"] = [note[:10000] for note in notes[:100]]
    return report


def _store_labels(proc: subprocess.CompletedProcess[bytes], notes: list[str]) -> list[str] | None:
    """Labels of every assertion in the active manifest as stored (``--detailed``): the
    plain JSON hides hard bindings, as c2pa-python's ``Reader.json()`` does."""
    if proc.returncode != 0:
        notes.append(f"no detailed report: {_last_line(proc.stderr)}")
        return None
    try:
        detailed = _json(proc.stdout, "the detailed report")
        store = detailed["manifests"][detailed["active_manifest"]]["assertion_store"]
    except (AdapterError, KeyError, TypeError) as exc:
        notes.append(f"no assertion labels in the detailed report: {exc}")
        return None
    return sorted(store) if isinstance(store, dict) else None


def _failure(what: str, proc: subprocess.CompletedProcess[bytes]) -> AdapterError:
    message = _last_line(proc.stderr or proc.stdout)
    if "Unsupported file type" in message or "UnsupportedType" in message:
        return Unsupported(f"c2patool {what}: {message}")
    return AdapterError(f"c2patool {what} exited {proc.returncode}: {message}")


def _last_line(data: bytes) -> str:
    lines = [line for line in data.decode("utf-8", "replace").strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"
