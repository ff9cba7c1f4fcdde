"""Signed result bundles: a DSSE envelope around an in-toto Statement v1.

``results.json`` stays as it is; its signature is the sidecar ``results.dsse.json``
beside it: the envelope (payloadType ``application/vnd.in-toto+json``) whose payload is
a Statement with

- subjects: the bundle file, every artifact its cells cite (named by their path in the
  bundle's folder, or ``sha256:<hex>`` when not linked there) and the run's logs, each
  with its sha256;
- predicateType :data:`PREDICATE_TYPE`, predicate ours
  (``runner/schemas/result-predicate.schema.json``): the signer's id, the run, its plan
  digest, and every cell with its outcome, attempts and log digests.

The pre-authentication encoding and the Ed25519 signature are securesystemslib's
(:class:`securesystemslib.dsse.Envelope`); keys and who may use them: runner/keys.py.
Verifying writes nothing; every refusal is one :class:`AttestationError` line.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import FormatError, VerificationError
from securesystemslib.signer import Key, Signer

from runner.errors import HarnessError
from runner.keys import SIGNER_ID, Registry
from runner.paths import display
from runner.schema import SCHEMA_DIR

PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://aiii-interop.org/attestations/result-bundle/v1"
STATEMENT_SCHEMA = "aiii:schemas/result-statement"  # and aiii:schemas/result-predicate, in runner/schemas/
#: Subject names that are files in the bundle's folder (others are only digests).
_LOCAL = re.compile(r"^(artifacts|logs)/(?!.*(^|/)\.\.?(/|$))[A-Za-z0-9_][A-Za-z0-9._/-]*$")


class AttestationError(HarnessError):
    """A bundle cannot be signed, or its signature is refused; one line naming the file."""


@dataclass(frozen=True)
class Verified:
    bundle: Path
    signer: str
    keyid: str
    cells: int
    files: int  # artifacts and logs subjects that are files in the bundle's folder
    checked: int  # of those, present and hashed

    def line(self) -> str:
        return (f"verified: {display(self.bundle)} signed by {self.signer}/{self.keyid[:16]} "
                f"({self.cells} cells; {self.checked} of {self.files} artifact and log files checked)")


def sidecar(bundle: Path) -> Path:
    """Where a bundle's envelope goes: ``results.json`` -> ``results.dsse.json``."""
    return bundle.with_name(f"{bundle.stem}.dsse.json")


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _logs(folder: Path) -> dict[str, str]:
    """Every regular file under ``folder/logs``, by its path relative to ``folder``."""
    logs = folder / "logs"
    if not logs.is_dir():
        return {}
    return {p.relative_to(folder).as_posix(): _sha256(p) for p in sorted(logs.rglob("*"))
            if p.is_file() and not p.is_symlink() and _LOCAL.match(p.relative_to(folder).as_posix())}


def _cell_vendors(cell: dict[str, Any]) -> list[str]:
    producers = cell["producer"].split("+") if cell.get("producer") else []
    return [*producers, *([cell["consumer"]] if cell.get("consumer") else [])]


def _cell_entry(cell: dict[str, Any], vendor_logs: dict[str, str]) -> dict[str, Any]:
    return {"outcome": cell["outcome"], "attempts": int(cell.get("attempts", 1)),
            "logs": sorted({vendor_logs[v] for v in _cell_vendors(cell) if v in vendor_logs})}


def _vendor_logs(logs: dict[str, str]) -> dict[str, str]:
    """A placement's log is ``logs/<vendor>.log``: vendor id -> its digest."""
    return {name.removeprefix("logs/").removesuffix(".log"): sha for name, sha in logs.items()
            if name.endswith(".log") and name.count("/") == 1}


def _artifacts(bundle: dict[str, Any]) -> dict[str, str]:
    """Subject name -> sha256 of every artifact the bundle's cells cite."""
    out: dict[str, str] = {}
    for cell in bundle["cells"]:
        for art in cell.get("artifacts", {}).values():
            path = art.get("path")
            out[path if isinstance(path, str) and _LOCAL.match(path) else f"sha256:{art['sha256']}"] = art["sha256"]
    return out


def statement(bundle_path: Path, raw: bytes, bundle: dict[str, Any], signer: str) -> dict[str, Any]:
    """The in-toto Statement for a bundle file's bytes ``raw`` (parsed: ``bundle``)."""
    logs = _logs(bundle_path.parent)
    vendor_logs = _vendor_logs(logs)
    run = bundle["run"]
    subjects = {bundle_path.name: hashlib.sha256(raw).hexdigest(), **_artifacts(bundle), **logs}
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": name, "digest": {"sha256": sha}} for name, sha in subjects.items()],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "signer": signer,
            "bundle": bundle_path.name,
            "run": {k: run[k] for k in ("id", "profile", "status", "harness_version", "methodology_version")},
            "plan_digest": (run.get("plan_digest") or {}).get("sha256"),
            "summary": {"cells": len(bundle["cells"]), "outcomes": dict(Counter(c["outcome"] for c in bundle["cells"]))},
            "logs": logs,
            "cells": {cell["id"]: _cell_entry(cell, vendor_logs) for cell in bundle["cells"]},
        },
    }


@cache
def _statement_validator() -> Draft202012Validator:
    """The statement's schema with the predicate's embedded and its local references
    inlined: resolved per cell, references take half the time of a 100k-cell check."""
    statement = json.loads((SCHEMA_DIR / "result-statement.schema.json").read_text(encoding="utf-8"))
    predicate = json.loads((SCHEMA_DIR / "result-predicate.schema.json").read_text(encoding="utf-8"))
    defs = predicate.pop("$defs")

    def inline(node: Any) -> Any:
        if isinstance(node, list):
            return [inline(item) for item in node]
        if not isinstance(node, dict):
            return node
        if set(node) == {"$ref"} and node["$ref"].startswith("#/$defs/"):
            return inline(defs[node["$ref"].removeprefix("#/$defs/")])
        return {key: inline(value) for key, value in node.items() if key not in ("$schema", "$id")}

    assert statement["properties"]["predicate"] == {"$ref": predicate["$id"]}
    statement["properties"]["predicate"] = inline(predicate)
    Draft202012Validator.check_schema(statement)
    return Draft202012Validator(statement)


def statement_problem(stmt: Any) -> str | None:
    """Where a statement breaks runner/schemas/result-statement.schema.json (with the
    predicate's schema), as ``path: message``; None when it is valid."""
    error = best_match(_statement_validator().iter_errors(stmt))
    return None if error is None else f"{error.json_path}: {error.message[:200]}"


def _read_bundle(path: Path) -> tuple[bytes, dict[str, Any]]:
    shown = display(path)
    try:
        raw = path.read_bytes()
        bundle = json.loads(raw)
    except OSError as exc:
        raise AttestationError(f"{shown}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    except ValueError:
        raise AttestationError(f"{shown}: not a result bundle (not JSON)") from None
    if not isinstance(bundle, dict) or not isinstance(bundle.get("cells"), list) or not isinstance(bundle.get("run"), dict):
        raise AttestationError(f"{shown}: not a result bundle (no run or cells)")
    return raw, bundle


def sign_bundle(path: Path, signer: Signer, signer_id: str, validate: bool = True) -> Path:
    """Sign the bundle at ``path`` for ``signer_id`` (a vendor id or ``hub``); write the
    envelope beside it (:func:`sidecar`) and return its path.  ``validate=False`` skips
    the bundle's schema, for a bundle the caller has just written (and validated)."""
    if not SIGNER_ID.match(signer_id):
        raise AttestationError(f"--as: {signer_id!r} is not a vendor id or 'hub'")
    raw, bundle = _read_bundle(path)
    if validate:
        from reports.bundle import BundleError, validate_bundle  # reports/ stays out of the CLI's start-up

        try:
            validate_bundle(bundle)
        except BundleError as exc:
            raise AttestationError(f"{display(path)}: not signed: the bundle is invalid at {exc}") from None
    stmt = statement(path, raw, bundle, signer_id)  # valid by construction: tests/unit/test_attest.py
    local = {n: sha for n, sha in _artifacts(bundle).items() if _LOCAL.match(n)}
    _check_files(path.parent, local, lambda name: f"{display(path)}: not signed: {name} is not the artifact the bundle cites")
    envelope = Envelope(_payload(stmt), PAYLOAD_TYPE, {})
    envelope.sign(signer)
    target = sidecar(path)
    target.write_text(json.dumps(envelope.to_dict(), indent=1) + "\n", encoding="utf-8")
    return target


def _payload(stmt: dict[str, Any]) -> bytes:
    return json.dumps(stmt, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _envelope(path: Path) -> Envelope:
    shown = display(path)
    try:
        doc = json.loads(path.read_bytes())
        envelope = Envelope.from_dict(doc)
    except FileNotFoundError:
        raise AttestationError(f"{shown}: no signature (the envelope is missing)") from None
    except OSError as exc:
        raise AttestationError(f"{shown}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    except (ValueError, KeyError, TypeError, AttributeError, FormatError):
        raise AttestationError(f"{shown}: not a DSSE envelope") from None
    if envelope.payload_type != PAYLOAD_TYPE:
        raise AttestationError(f"{shown}: payloadType {envelope.payload_type!r} is not {PAYLOAD_TYPE}")
    if not envelope.signatures:
        raise AttestationError(f"{shown}: the envelope has no signature")
    return envelope


def _check_signature(shown: str, envelope: Envelope, registry: Registry) -> str:
    """The keyid of a registered key whose signature verifies, before anything of the
    payload is read; refuses unknown keys and bad signatures."""
    keys: list[Key] = [k for k in map(registry.find, sorted(envelope.signatures)) if k is not None]
    if not keys:
        raise AttestationError(f"{shown}: signed by an unknown key {sorted(envelope.signatures)[0][:16]}")
    try:
        accepted = envelope.verify(keys, 1)
    except VerificationError:
        raise AttestationError(f"{shown}: bad signature: the signed statement was changed after signing") from None
    return sorted(accepted)[0]


def verify_bundle(path: Path, registry: Registry, envelope_path: Path | None = None) -> Verified:
    """Check a bundle against its envelope: a valid signature by a key registered for
    the signer the statement names, the bundle file's digest, every cell against the
    predicate, and the digests of the artifacts and logs present beside it.  Writes
    nothing."""
    shown, env_path = display(path), envelope_path or sidecar(path)
    envelope = _envelope(env_path)
    keyid = _check_signature(display(env_path), envelope, registry)
    try:
        stmt = json.loads(envelope.payload)
    except ValueError:
        raise AttestationError(f"{display(env_path)}: the payload is not JSON") from None
    problem = statement_problem(stmt)
    if problem:
        raise AttestationError(f"{display(env_path)}: not a result statement: {problem}")
    predicate = stmt["predicate"]
    owners = registry.owners(keyid)
    if predicate["signer"] not in owners:
        raise AttestationError(f"{display(env_path)}: signed by key {keyid[:16]}, registered for {', '.join(owners)}, "
                               f"not for {predicate['signer']}")
    subjects = {s["name"]: s["digest"]["sha256"] for s in stmt["subject"]}
    raw, bundle = _read_bundle(path)
    signed = subjects.get(predicate["bundle"])
    actual = hashlib.sha256(raw).hexdigest()
    if signed != actual:
        raise AttestationError(f"{shown}: changed after signing (sha256 {actual[:16]}, signed {str(signed)[:16]})")
    try:
        _check_cells(shown, bundle, predicate, subjects)
    except (KeyError, TypeError, AttributeError):  # signed as it is, yet not a bundle's shape
        raise AttestationError(f"{shown}: not a result bundle (its cells lack ids, outcomes or artifacts)") from None
    files = {n: sha for n, sha in subjects.items() if n != predicate["bundle"] and _LOCAL.match(n)}
    checked = _check_files(path.parent, files, lambda name: f"{shown}: {name} changed after signing")
    return Verified(path, predicate["signer"], keyid, len(bundle["cells"]), len(files), checked)


def _check_files(folder: Path, files: dict[str, str], problem: Callable[[str], str]) -> int:
    """Hash the files of ``files`` (name -> sha256) present in ``folder``; refuse the
    first that differs with ``problem(name)``; return how many were checked."""
    checked = 0
    for name, sha in sorted(files.items()):
        file = folder / name
        if file.is_symlink() or not file.is_file():
            continue  # a bundle copied without its artifacts still verifies; the line says how many were seen
        if _sha256(file) != sha:
            raise AttestationError(problem(name))
        checked += 1
    return checked


def _check_cells(shown: str, bundle: dict[str, Any], predicate: dict[str, Any], subjects: dict[str, str]) -> None:
    """Every cell of the bundle as the predicate has it, and no other, and every artifact
    it cites a subject (the signature covers the statement, the digest the bundle: this
    catches a signer whose statement does not describe what it signed)."""
    signed: dict[str, Any] = predicate["cells"]
    if len(bundle["cells"]) != len(signed):
        raise AttestationError(f"{shown}: {len(bundle['cells'])} cells, the signed statement has {len(signed)}")
    vendor_logs = _vendor_logs(predicate["logs"])
    for cell in bundle["cells"]:
        entry = signed.get(cell["id"])
        if entry is None:
            raise AttestationError(f"{shown}: cell {cell['id']} is not in the signed statement")
        mine = _cell_entry(cell, vendor_logs)
        for key in ("outcome", "attempts", "logs"):
            if mine[key] != entry[key]:
                raise AttestationError(f"{shown}: cell {cell['id']}: {key} {mine[key]!r} in the bundle, "
                                       f"{entry[key]!r} in the signed statement")
    for name, sha in _artifacts(bundle).items():
        if subjects.get(name) != sha:
            raise AttestationError(f"{shown}: artifact {name} is cited but not signed")
