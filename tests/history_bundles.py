"""Synthetic result bundles for the history tests (tests/unit/test_history.py,
test_publish.py): a few vendors, two families, chosen outcomes and versions, a plan
digest made from a plan name."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path
from typing import Any

from reports.bundle import validate_bundle, write_bundle
from runner.plan_digest import digest_of

VENDORS = ("alpha", "beta", "gamma")
CHECKS = {"metadata.roundtrip": "metadata", "provenance.sign_validate": "provenance"}


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def cell_id(check: str, producer: str, consumer: str) -> str:
    return f"{check}/vec/{producer}/{consumer}/-"


def default_cells(vendors: tuple[str, ...] = VENDORS) -> dict[str, str]:
    """Every check x producer x consumer, passing."""
    return {cell_id(check, p, c): "pass" for check in CHECKS for p in vendors for c in vendors}


def make(run_id: str, started: str, outcomes: dict[str, str] | None = None, versions: dict[str, str] | None = None,
         plan: str = "plan-1", profile: str = "nightly", names: dict[str, str] | None = None,
         expectation: dict[str, Any] | None = None, vendors: tuple[str, ...] = VENDORS,
         reasons: dict[str, str] | None = None) -> dict[str, Any]:
    """A valid bundle: ``outcomes`` cell id -> outcome (default: :func:`default_cells`);
    ``reasons``: cell id -> its reason, where the default will not do."""
    outcomes = default_cells(vendors) if outcomes is None else outcomes
    versions = {v: "1.0" for v in vendors} | (versions or {})
    cells = []
    for cid, outcome in sorted(outcomes.items()):
        check, _, producer, consumer, _ = cid.split("/")
        cells.append({
            "id": cid, "check": check, "level": "MUST", "producer": producer, "consumer": consumer, "vector": "vec",
            "channel": None, "variant": None, "outcome": outcome, "reason": (reasons or {}).get(cid, f"{outcome} for {producer} -> {consumer}"),
            "measurements": {}, "artifacts": {"input": {"sha256": sha("vec"), "media_type": "image/jpeg", "path": None}},
            "expectation": expectation if outcome in ("xfail", "xpass") else None,
            "duration_s": 0.1, "finished": started})
    digest = digest_of({"profile": profile, "vectors": {}, "methodology": plan, "channels": {},
                        "cells": sorted(outcomes), "pki": "f" * 64})
    counts = Counter(c["outcome"] for c in cells)
    bundle = {
        "schema_version": 1,
        "run": {"id": run_id, "profile": profile, "harness_version": "0.1.0", "methodology_version": "m1",
                "catalogue_sha256": sha("catalogue"), "started": started, "finished": started, "status": "complete",
                "environment": {"python": "3.11", "platform": "Linux", "machine": "x86_64", "cpu_count": 2,
                                "libraries": {}},
                "options": {}, "plan_digest": digest.as_dict()},
        "vendors": [{"id": v, "name": (names or {}).get(v, v.title()), "organisation": "Tests", "version": versions[v],
                     "transport": "inproc", "role": "reference", "runnable": True, "reason": None,
                     "capabilities": [], "retention": None, "homepage": None} for v in vendors],
        "checks": [{"id": check, "title": check, "family": family, "level": "MUST", "description": "d"}
                   for check, family in CHECKS.items()],
        "vectors": [{"id": "vec", "media_type": "image/jpeg", "sha256": sha("vec"), "licence": "CC0-1.0", "tags": [],
                     "source": None}],
        "cells": cells,
        "summary": {"outcomes": dict(counts), "cells": len(cells), "must_failures": counts["fail"] + counts["error"]},
    }
    validate_bundle(bundle)
    return bundle


def write(bundle: dict[str, Any], folder: Path) -> Path:
    """Write ``bundle`` to ``folder/results.json``; returns that path."""
    folder.mkdir(parents=True, exist_ok=True)
    return write_bundle(bundle, folder / "results.json")
