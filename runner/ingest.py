"""Taking one uploaded bundle into the history: :func:`ingest_bundle` and its states.

An upload is ``received`` before anything is checked (the hub shows that state while it
verifies), then ends in one of:

- ``valid``: verified and stored;
- ``duplicate``: a bundle with the same sha256 is already stored: a re-upload (or a
  replay) changes nothing, whoever sends it;
- ``invalid`` (with the reason, one line): not a file, not JSON (or truncated), not a
  result bundle, a shard (merge the shards first), no plan digest, a run id or family name
  that cannot name a file, unsigned without ``allow_unsigned``, a bad signature, an unknown
  key or one registered for another signer (runner/attest.py), or a run id already stored
  with other content;
- ``stale``: a bundle of a profile whose plan digest differs from that of the latest
  stored run of that profile, *and* that started before that run: it belongs to a plan the
  history has moved past.  A run that started after the latest is ``valid`` under a new
  plan (the test set changed; scores carry on), and an older run under the latest run's
  plan is ``valid`` too (a late upload fills the history in).

Only ``valid`` writes anything.  No HTTP here: the hub calls this as ``aiii publish``
does.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from runner.attest import AttestationError, sidecar, verify_bundle
from runner.history import History, utc
from runner.keys import Registry
from runner.paths import display
from runner.plan_digest import differences

RECEIVED, VALID, INVALID, DUPLICATE, STALE = "received", "valid", "invalid", "duplicate", "stale"
STATES = (RECEIVED, VALID, INVALID, DUPLICATE, STALE)
UNSIGNED = "unsigned"
#: Run ids name folders and files of the site (runs/<id>/, api/runs/<id>.json).
RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
#: Family names name badge files (badges/<vendor>/<family>.json).
FAMILY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


@dataclass(frozen=True)
class IngestResult:
    """What became of one upload."""

    state: str
    reason: str
    run_id: str | None = None
    sha256: str | None = None

    @property
    def accepted(self) -> bool:
        """Valid or duplicate: the history holds this bundle."""
        return self.state in (VALID, DUPLICATE)

    def line(self, shown: str) -> str:
        return f"{shown}: {self.state}: {self.reason}"


class _Refused(Exception):
    def __init__(self, state: str, reason: str) -> None:
        super().__init__(reason)
        self.state, self.reason = state, reason


def _parse(raw: bytes, shown: str) -> dict[str, Any]:
    try:
        bundle = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise _Refused(INVALID, f"{shown}: not a result bundle (not JSON, or truncated)") from None
    if not isinstance(bundle, dict):
        raise _Refused(INVALID, f"{shown}: not a result bundle (not a JSON object)")
    return bundle


def _check(bundle: dict[str, Any], shown: str) -> dict[str, Any]:
    from reports.bundle import BundleError, validate_bundle

    try:
        validate_bundle(bundle)
    except BundleError as exc:
        raise _Refused(INVALID, f"{shown}: not a valid result bundle at {str(exc).splitlines()[0]}") from None
    run = bundle["run"]
    if "shard" in bundle:
        raise _Refused(INVALID, f"{shown}: shard {bundle['shard']['i']}/{bundle['shard']['n']} of a plan, not a whole "
                                "run: merge the shards first (aiii merge)")
    if "plan_digest" not in run:
        raise _Refused(INVALID, f"{shown}: no plan digest (a run stored before plan digests)")
    try:
        utc(run["started"]), utc(run["finished"])
    except ValueError:
        raise _Refused(INVALID, f"{shown}: run.started or run.finished is not an ISO 8601 time") from None
    if not RUN_ID.match(run["id"]):
        raise _Refused(INVALID, f"{shown}: run id {run['id'][:80]!r} is not a usable name ([A-Za-z0-9._-], up to 128)")
    for check in bundle["checks"]:
        if not FAMILY.match(check["family"]):
            raise _Refused(INVALID, f"{shown}: check {check['id'][:80]!r}: family {check['family'][:80]!r} is not a "
                                    "family name ([a-z0-9_-])")
    return bundle


def _stale(history: History, bundle: dict[str, Any]) -> str | None:
    """Why the bundle is stale (see the module docstring), or None."""
    run = bundle["run"]
    latest = history.latest(run["profile"])
    digest = run["plan_digest"]
    if latest is None or latest.plan_digest == digest["sha256"] or (utc(run["started"]) or "") >= latest.started:
        return None
    parts = differences(_digest(latest.plan_components, latest.plan_digest), _digest(digest["components"], digest["sha256"]))
    return (f"plan digest {digest['sha256'][:12]} is not that of profile {run['profile'][:80]!r}'s latest run "
            f"{latest.run_id} ({latest.plan_digest[:12]}: {', '.join(parts) or 'format'} differ), which started after it")


def _digest(components: Any, sha256: str) -> Any:
    from runner.plan_digest import PlanDigest

    return PlanDigest(sha256, dict(components))


def ingest_bundle(path: Path, history: History, registry: Registry, *, allow_unsigned: bool = False) -> IngestResult:
    """Verify the bundle at ``path`` (a results.json, or a folder holding one, with its
    ``results.dsse.json`` beside it when signed) and store it in ``history``; the result's
    state says what happened (module docstring).  Never raises for a bad upload."""
    path = Path(path)
    path = path / "results.json" if path.is_dir() else path
    shown = display(path)
    if not path.is_file():
        return IngestResult(INVALID, f"{shown}: no such bundle (a results.json, or a folder holding one)")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return IngestResult(INVALID, f"{shown}: cannot be read ({exc.strerror or type(exc).__name__})")
    sha256 = hashlib.sha256(raw).hexdigest()
    known = history.by_sha256(sha256)
    if known is not None:
        return IngestResult(DUPLICATE, f"already in the history as run {known.run_id} (sha256 {sha256[:16]})",
                            known.run_id, sha256)
    try:
        bundle = _parse(raw, shown)  # a file that is not even JSON is told so, signed or not
        signer, keyid, envelope = _verify(path, raw, registry, allow_unsigned)
        _check(bundle, shown)
        run_id = bundle["run"]["id"]
        other = history.run(run_id)
        if other is not None:
            raise _Refused(INVALID, f"{shown}: run {run_id} is already in the history with other content "
                                    f"(sha256 {other.sha256[:16]}, this one {sha256[:16]})")
        why = _stale(history, bundle)
        if why is not None:
            return IngestResult(STALE, why, run_id, sha256)
    except _Refused as exc:
        return IngestResult(exc.state, exc.reason, None, sha256)
    try:
        history.add_run(bundle, raw, sha256, signer, keyid, envelope)
    except IntegrityError:  # a concurrent ingest of the same bundle, or run id, won the race
        again = history.by_sha256(sha256)
        if again is not None:
            return IngestResult(DUPLICATE, f"already in the history as run {again.run_id}", again.run_id, sha256)
        return IngestResult(INVALID, f"{shown}: run {run_id} is already in the history with other content", None, sha256)
    who = UNSIGNED if keyid is None else f"{signer}/{keyid[:16]}"
    return IngestResult(VALID, f"run {run_id}: {len(bundle['cells'])} cells, profile {bundle['run']['profile'][:80]}, "
                               f"plan {bundle['run']['plan_digest']['sha256'][:12]}, signed by {who}", run_id, sha256)


def _verify(path: Path, raw: bytes, registry: Registry, allow_unsigned: bool) -> tuple[str, str | None, bytes | None]:
    """(signer, keyid, envelope bytes) of a verified bundle, or (unsigned, None, None)."""
    envelope_path = sidecar(path)
    if not (envelope_path.exists() or envelope_path.is_symlink()):
        if not allow_unsigned:
            raise _Refused(INVALID, f"{display(path)}: unsigned (no {envelope_path.name} beside it)")
        return UNSIGNED, None, None
    try:
        envelope = envelope_path.read_bytes()
        verified = verify_bundle(path, registry)
    except AttestationError as exc:
        raise _Refused(INVALID, str(exc)) from None
    except OSError as exc:
        raise _Refused(INVALID, f"{display(envelope_path)}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    if path.read_bytes() != raw or envelope_path.read_bytes() != envelope:
        raise _Refused(INVALID, f"{display(path)}: changed while it was being verified")
    return verified.signer, verified.keyid, envelope
