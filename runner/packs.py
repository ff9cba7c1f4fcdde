"""Artifact packs: a vendor's producer steps, exchanged as outputs, not implementations.

A pack is one tar archive (``aiii run --produce V --sign-key K --sign-as V``), signed by
vendor V's key, or by the hub's for a reference vendor the hub runs
(``--produce A,B --sign-as hub``: one pack per vendor):

- ``pack.json`` (``runner/schemas/pack.schema.json``): format, producer id, its reported and cache versions, placement, the
  plan digest, the producing run and participant, and every step: its cache key
  (runner/cache.py ``step_key``), structure (vendor, operation, source: a vector id or
  the cache key of the step below, params) and result as the step cache keeps it;
- ``artifacts/<sha256>``: every asset a step returned;
- ``pack.dsse.json``: a DSSE envelope (runner/attest.py's signing path) around an in-toto
  Statement whose subjects are ``pack.json`` and every artifact, predicate
  :data:`PREDICATE_TYPE` (``runner/schemas/pack-statement.schema.json``).

:func:`read_pack` refuses a pack whole, in one :class:`PackError` line, before anything
of it is used: a member that is not a plain file of an expected name (absolute paths,
``..``, links, devices), too big or too many members, a bad signature, an unknown key,
a key the registry does not let sign for the producer (:meth:`Registry.may_sign_for`), a digest that differs, or
another plan digest.  Members are read into memory; nothing is extracted to disk.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import FormatError
from securesystemslib.signer import Signer

from runner.attest import PAYLOAD_TYPE, STATEMENT_TYPE, AttestationError, _check_signature, _payload
from runner.errors import HarnessError
from runner.keys import HUB, SIGNER_ID, Registry
from runner.model import ErrorKind, StepResult
from runner.paths import display
from runner.plan_digest import COMPONENTS
from runner.schema import SCHEMA_DIR

FORMAT = 1
PREDICATE_TYPE = "https://aiii-interop.org/attestations/artifact-pack/v1"
#: The most bytes one member, and all members together, may hold.
MAX_MEMBER_BYTES = 64 * 1024 * 1024
MAX_TOTAL_BYTES = 512 * 1024 * 1024
MAX_MEMBERS = 100_000
_ARTIFACT = re.compile(r"^artifacts/([0-9a-f]{64})$")
_FIXED = ("pack.json", "pack.dsse.json")


class PackError(HarnessError):
    """A pack that cannot be written, or is refused; one line naming the pack."""


@dataclass
class Pack:
    """A verified pack: what :func:`read_pack` returns, and all an import uses."""

    path: Path
    producer: str
    keyid: str
    doc: dict[str, Any]
    blobs: dict[str, bytes]
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    signer: str = ""  # the producer, or the hub for a reference vendor

    def __post_init__(self) -> None:
        self.steps = {s["key"]: s for s in self.doc["steps"]}
        self.signer = self.signer or self.producer

    @property
    def version(self) -> str:
        return str(self.doc["version"])

    @property
    def cache_version(self) -> str:
        return str(self.doc["cache_version"])

    def origin(self, key: str) -> dict[str, Any]:
        """Who computed the step ``key`` (the pack's signer) and where; the key that signed it, verified."""
        step = self.steps.get(key)
        if step is None:  # not in the pack: nobody computed it
            return {"participant": self.doc["participant"], "run": None, "placement": None, "keyid": None, "verified": None,
                    "pack": self.path.name}
        return {"participant": self.doc["participant"], "run": self.doc["run"], "placement": step["placement"],
                "keyid": self.keyid, "verified": True, "pack": self.path.name}

    def answer(self, key: str) -> tuple[StepResult, bytes | None]:
        """The step's result as the producer's cache kept it, and its asset's bytes;
        a step the pack lacks is ``absent``: its cells are blocked, never run here."""
        step = self.steps.get(key)
        if step is None:
            return StepResult(ok=False, error=f"not in the pack of {self.producer}", error_kind=ErrorKind.ABSENT), None
        r = step["result"]
        kind = ErrorKind(r["error_kind"]) if r.get("error_kind") else None
        sha = r.get("asset_sha256")
        return StepResult(ok=kind is None, asset_sha256=sha, media_type=r.get("media_type"), report=r.get("report"),
                          error=r.get("error"), error_kind=kind, duration_s=float(r.get("duration_s") or 0.0),
                          notes=list(r.get("notes") or [])), (self.blobs[sha] if sha else None)


def result_record(result: StepResult) -> dict[str, Any]:
    """A step result as a pack keeps it (the step cache's fields)."""
    return {"asset_sha256": result.asset_sha256, "media_type": result.media_type, "report": result.report,
            "error": result.error, "error_kind": result.error_kind.value if result.error_kind else None,
            "duration_s": round(result.duration_s, 4), "notes": list(result.notes)}


def write_pack(path: Path, doc: dict[str, Any], blob: Any, signer: Signer, signer_id: str) -> Path:
    """Write the pack ``doc`` (pack.json's content) with the artifacts its steps cite
    (``blob(sha256) -> bytes``) to ``path``, signed by ``signer`` for ``signer_id``."""
    if signer_id not in (doc["producer"], HUB) or not SIGNER_ID.match(doc["producer"]):
        raise PackError(f"--sign-as {signer_id!r}: a pack is signed by the vendor that produced it ({doc['producer']}), "
                        "or by the hub for a reference vendor")
    problem = _problem("pack", doc)
    if problem:  # a harness bug: what it writes, it must be able to read
        raise PackError(f"{path}: not written: pack.json would be invalid at {problem}")
    shas = sorted({s["result"]["asset_sha256"] for s in doc["steps"] if s["result"].get("asset_sha256")})
    members: dict[str, bytes] = {"pack.json": json.dumps(doc, sort_keys=True, indent=1).encode()}
    for sha in shas:
        data = blob(sha)
        if hashlib.sha256(data).hexdigest() != sha:
            raise PackError(f"artifact {sha[:16]} in the step cache is not what its name says; not packed")
        members[f"artifacts/{sha}"] = data
    stmt = {"_type": STATEMENT_TYPE,
            "subject": [{"name": n, "digest": {"sha256": hashlib.sha256(d).hexdigest()}} for n, d in members.items()],
            "predicateType": PREDICATE_TYPE,
            "predicate": {"producer": doc["producer"], "plan_digest": doc["plan_digest"], "steps": len(doc["steps"]),
                          "format": FORMAT}}
    envelope = Envelope(_payload(stmt), PAYLOAD_TYPE, {})
    envelope.sign(signer)
    members["pack.dsse.json"] = json.dumps(envelope.to_dict(), indent=1).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".pack-")
    with os.fdopen(fd, "wb") as fh, tarfile.open(fileobj=fh, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    os.chmod(tmp, 0o644)  # a pack is for others to read
    os.replace(tmp, path)
    return path


def _members(path: Path, shown: str) -> dict[str, bytes]:
    """The pack's members, read into memory after each passed the filter (module doc)."""
    try:
        tar = tarfile.open(path, mode="r:")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise PackError(f"{shown}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    except tarfile.TarError:
        raise PackError(f"{shown}: not a pack (not a tar archive)") from None
    out: dict[str, bytes] = {}
    total = 0
    with tar:
        try:
            for count, member in enumerate(tar, start=1):
                name = member.name
                if count > MAX_MEMBERS:
                    raise PackError(f"{shown}: refused: more than {MAX_MEMBERS} members")
                if not member.isreg():
                    raise PackError(f"{shown}: refused: member {name!r} is a link or special file, not a file")
                if name not in _FIXED and not _ARTIFACT.match(name):
                    raise PackError(f"{shown}: refused: member {name!r} is not pack.json, pack.dsse.json or artifacts/<sha256>")
                if name in out:
                    raise PackError(f"{shown}: refused: member {name!r} appears twice")
                if member.size > MAX_MEMBER_BYTES:
                    raise PackError(f"{shown}: refused: member {name!r} has {member.size} bytes (limit {MAX_MEMBER_BYTES})")
                total += member.size
                if total > MAX_TOTAL_BYTES:
                    raise PackError(f"{shown}: refused: members over {MAX_TOTAL_BYTES} bytes in all")
                fh = tar.extractfile(member)
                assert fh is not None  # a regular file
                out[name] = fh.read(MAX_MEMBER_BYTES + 1)
        except tarfile.TarError as exc:
            raise PackError(f"{shown}: refused: a damaged archive ({exc})") from None
    for name in _FIXED:
        if name not in out:
            raise PackError(f"{shown}: refused: no {name}")
    return out


@cache
def _validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _problem(name: str, doc: Any) -> str | None:
    """Where ``doc`` breaks runner/schemas/NAME.schema.json, or None."""
    error = best_match(_validator(name).iter_errors(doc))
    return None if error is None else f"{error.json_path}: {error.message[:200]}"


def read_pack(path: Path, registry: Registry, plan_digest: str | None = None) -> Pack:
    """Verify the pack at ``path`` against ``registry`` (and ``plan_digest``, when given:
    see :func:`check_plan`) and return it; refuse it whole with one :class:`PackError`."""
    shown = display(path)
    members = _members(path, shown)
    try:
        envelope = Envelope.from_dict(json.loads(members["pack.dsse.json"]))
    except (ValueError, KeyError, TypeError, AttributeError, FormatError):
        raise PackError(f"{shown}: refused: pack.dsse.json is not a DSSE envelope") from None
    if envelope.payload_type != PAYLOAD_TYPE or not envelope.signatures:
        raise PackError(f"{shown}: refused: pack.dsse.json is not a signed in-toto envelope")
    try:
        keyid = _check_signature(f"{shown}: refused", envelope, registry)
        stmt = json.loads(envelope.payload)
    except AttestationError as exc:
        raise PackError(str(exc)) from None
    except ValueError:
        raise PackError(f"{shown}: refused: the signed payload is not JSON") from None
    problem = _problem("pack-statement", stmt)
    if problem:
        raise PackError(f"{shown}: refused: not a pack statement: {problem}")
    producer = stmt["predicate"]["producer"]
    owners = registry.owners(keyid)
    if not registry.may_sign_for(keyid, producer):
        hub = " (the hub signs only for reference vendors)" if HUB in owners else ""
        raise PackError(f"{shown}: refused: signed by key {keyid[:16]}, registered for {', '.join(owners)}, "
                        f"not for {producer}{hub}")
    subjects = {s["name"]: s["digest"]["sha256"] for s in stmt["subject"]}
    for name, data in sorted(members.items()):
        if name == "pack.dsse.json":
            continue
        if name not in subjects:
            raise PackError(f"{shown}: refused: member {name} is not signed")
        actual = hashlib.sha256(data).hexdigest()
        if actual != subjects[name] or (name.startswith("artifacts/") and name != f"artifacts/{actual}"):
            raise PackError(f"{shown}: refused: {name} changed after signing (sha256 {actual[:16]})")
    missing = sorted(set(subjects) - set(members))
    if missing:
        raise PackError(f"{shown}: refused: signed member {missing[0]} is missing")
    try:
        doc = json.loads(members["pack.json"])
    except ValueError:
        raise PackError(f"{shown}: refused: pack.json is not JSON") from None
    problem = _problem("pack", doc)
    if problem:
        raise PackError(f"{shown}: refused: pack.json is not a pack: {problem}")
    if doc.get("producer") != producer or doc.get("plan_digest") != stmt["predicate"]["plan_digest"]:
        raise PackError(f"{shown}: refused: pack.json does not match its signed statement")
    blobs = {name.removeprefix("artifacts/"): data for name, data in members.items() if name.startswith("artifacts/")}
    for step in doc.get("steps", []):
        sha = step.get("result", {}).get("asset_sha256")
        if sha and sha not in blobs:
            raise PackError(f"{shown}: refused: step {str(step.get('key'))[:16]} cites artifact {sha[:16]}, not in the pack")
    pack = Pack(path, producer, keyid, doc, blobs, signer=producer if producer in owners else HUB)
    if plan_digest is not None:
        check_plan(pack, plan_digest)
    return pack


def check_plan(pack: Pack, plan_digest: str, components: Mapping[str, str] | None = None) -> None:
    """Refuse a pack made for another plan (runner/plan_digest.py), naming the components
    that differ when both sides give them."""
    if pack.doc["plan_digest"] != plan_digest:
        theirs = pack.doc.get("plan_components") or {}
        differing = [name for name in COMPONENTS if components and theirs and theirs.get(name) != components.get(name)]
        what = f" ({', '.join(differing)} differ)" if differing else ""
        raise PackError(f"{display(pack.path)}: refused: made for plan {pack.doc['plan_digest'][:16]}, "
                        f"this run's plan is {plan_digest[:16]}{what}")
