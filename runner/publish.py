"""The published site, written from the history store alone: :func:`publish_site`.

Layout under the site folder (static files, relative links, nothing from a network):

- ``index.html``: who works with whom: the latest run's headline, "data as of" (run,
  date, plan digest), per family the producer x consumer matrix of interop scores;
- ``runs/<run_id>/``: each run's own reports (``results.json`` as received, with its
  ``results.dsse.json`` when signed; ``site/index.html``, the scorecard), rendered once;
- ``history/index.html``: the run list, newest first, each with its changes since the run
  of its profile before it (``history/diffs/<run_id>.html``), and the flaky cells;
- ``history/vendors/<id>.html``: each vendor over time (runner/publish_pages.py);
- ``badges/<vendor>.json|.svg`` and ``badges/<vendor>/<family>.json|.svg``: shields.io
  endpoints and static badges, never deleted;
- ``api/``: the JSON API (runner/publish_api.py, schemas in reports/schemas/api/).

Work already done is kept in ``.aiii-publish/`` (which runs' scorecards and cell lists are
written, each diff with the key it was computed under), so publishing after one upload
renders that run's scorecard and diff only.  Delete the folder (or the whole site) and
everything is rebuilt from the history.

Flaky cells (runner/history.py :func:`~runner.history.flaky_cells`) are listed apart in
every diff, never counted as regressions or fixes.  Scores are the ones stored at ingest
(all cells, the method recorded beside them): a trend point never moves afterwards as
cells start or stop flaking; the flaky cells are listed, with their flip rates, beside it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.history import FlakeInfo, History, RunRecord, flaky_cells

STATE = ".aiii-publish"
#: Cells listed per category on a diff page (the API file lists them all).
DIFF_LIMIT = 2000


@dataclass
class Published:
    """What one publish did."""

    site: Path
    runs: int
    scorecards: list[str] = field(default_factory=list)  # run ids rendered now
    diffs: list[str] = field(default_factory=list)  # run ids whose diff was computed now
    flaky: int = 0

    def line(self) -> str:
        return (f"site {self.site}: {self.runs} runs; {len(self.scorecards)} scorecards and {len(self.diffs)} diffs "
                f"rendered now; {self.flaky} flaky cells")


def write_json(path: Path, doc: Any, compact: bool = False) -> None:
    """Write ``doc`` atomically (readers of a served site never see half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = (json.dumps(doc, separators=(",", ":"), ensure_ascii=False) if compact
            else json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False)) + "\n"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def date_of(record: RunRecord) -> str:
    """``2026-11-03 10:05``: when the run finished (or started), UTC."""
    stamp = record.finished or record.started
    return f"{stamp[:10]} {stamp[11:16]}"


def scorecard_href(run_id: str) -> str:
    """Site-relative path of a run's scorecard."""
    return f"runs/{run_id}/site/index.html"


class _Bundles:
    """Bundles loaded from the history, the last few kept (a diff needs two)."""

    def __init__(self, history: History) -> None:
        self.history = history
        self.kept: dict[str, dict[str, Any]] = {}

    def get(self, run_id: str) -> dict[str, Any]:
        if run_id not in self.kept:
            if len(self.kept) >= 2:
                self.kept.pop(next(iter(self.kept)))
            self.kept[run_id] = self.history.bundle(run_id)
        return self.kept[run_id]


@dataclass
class Context:
    """Everything the pages and the API files are made from."""

    history: History
    site: Path
    records: list[RunRecord]
    previous: dict[str, RunRecord | None]
    latest_of_profile: dict[str, RunRecord]
    flaky: dict[str, FlakeInfo]
    diffs: dict[str, dict[str, Any]]  # run id -> its compact diff to the run before (none for a first run)
    declared: Mapping[str, Sequence[Mapping[str, Any]]]
    k: int


def _state(site: Path) -> dict[str, dict[str, str]]:
    try:
        doc = json.loads((site / STATE / "state.json").read_text(encoding="utf-8"))
        return {name: dict(doc.get(name, {})) for name in ("scorecards", "cells", "diffs")}
    except (OSError, ValueError, TypeError, AttributeError):
        return {"scorecards": {}, "cells": {}, "diffs": {}}


def _scorecard(history: History, bundles: _Bundles, record: RunRecord, site: Path) -> None:
    """Render a run's reports into ``runs/<id>/``: the history keeps no artifacts, so cells
    cite them by digest only; ``results.json`` is the bundle as received."""
    from reports import render_all

    bundle = bundles.get(record.run_id)
    for cell in bundle["cells"]:
        for artifact in cell["artifacts"].values():
            artifact["path"] = None
    out = site / "runs" / record.run_id
    # the run's scorecard sits at runs/<id>/site/: its header links back to the published site
    render_all(bundle, out, validate=False,
               nav=[("Published site", "../../../index.html"), ("All runs", "../../../history/index.html")])
    (out / "results.json").write_bytes(history.raw_bundle(record.run_id))
    envelope = history.envelope(record.run_id)
    if envelope is not None:
        (out / "results.dsse.json").write_bytes(envelope)


def _cells_file(history: History, record: RunRecord, site: Path) -> None:
    from runner.publish_api import CELL_COLUMNS

    rows = [[row["cell_id"], row["check_id"], row["family"], row["level"], row["producer"], row["consumer"],
             row["outcome"], row["reason"]] for row in history.cell_rows(record.run_id)]
    write_json(site / "api" / "runs" / record.run_id / "cells.json",
               {"run_id": record.run_id, "columns": list(CELL_COLUMNS), "cells": rows}, compact=True)


def _compact(diff: dict[str, Any], key: str) -> dict[str, Any]:
    return {"key": key, "a": diff["a"], "b": diff["b"], "same_plan": diff["same_plan"], "summary": diff["summary"],
            "by_vendor": diff["by_vendor"], "by_check": diff["by_check"],
            "regressions": diff["cells"]["regressions"], "fixes": diff["cells"]["fixes"],
            "flaky": [c["id"] for c in diff["cells"]["flaky"]]}


def _diff(ctx: Context, bundles: _Bundles, record: RunRecord, before: RunRecord, key: str) -> dict[str, Any]:
    """Compute and render one run's diff to the run before; its compact form is cached."""
    from reports.history_site import Pages
    from reports.html import cell_page
    from runner.diff import CATEGORIES, TITLES, diff_bundles

    diff = diff_bundles(bundles.get(before.run_id), bundles.get(record.run_id), flaky=sorted(ctx.flaky))
    for name in CATEGORIES:
        for cell in diff["cells"][name]:
            run = record.run_id if cell["after"] is not None else before.run_id
            cell["href"] = f"../../runs/{run}/site/{cell_page(cell['id'])}"
    known = set(ctx.history.vendor_history())  # the vendors with a page
    Pages(ctx.site, len(ctx.records)).write(f"history/diffs/{record.run_id}.html", "diff.html.j2", diff=diff,
                                            categories=CATEGORIES, titles=TITLES, limit=DIFF_LIMIT, vendor_ids=known)
    compact = _compact(diff, key)
    write_json(ctx.site / STATE / "diffs" / f"{record.run_id}.json", compact)
    return compact


def _flaky_key(flaky: Mapping[str, FlakeInfo]) -> str:
    return hashlib.sha256("\n".join(sorted(flaky)).encode()).hexdigest()[:16]


def publish_site(history: History, site_dir: Path | str, *, declared: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
                 k: int = 10, scorecards: bool = True) -> Published:
    """Write the whole site into ``site_dir`` from ``history`` alone (module docstring);
    what was rendered before and has not changed is kept.  ``declared``: vendor id -> the
    known issues its manifest declares (``Expectation.as_dict()``), shown on its page beside
    those its cells matched.  ``scorecards=False`` skips the runs' own scorecards."""
    from runner.publish_api import write_api, write_badges
    from runner.publish_pages import write_pages

    site = Path(site_dir)
    site.mkdir(parents=True, exist_ok=True)
    state = _state(site)
    records = history.runs()
    flaky = flaky_cells(history, k=k)
    previous: dict[str, RunRecord | None] = {}
    latest_of_profile: dict[str, RunRecord] = {}
    for record in records:
        previous[record.run_id] = latest_of_profile.get(record.profile)
        latest_of_profile[record.profile] = record
    ctx = Context(history, site, records, previous, latest_of_profile, flaky, {}, declared or {}, k)
    done = Published(site, len(records), flaky=len(flaky))
    bundles = _Bundles(history)
    flaky_key = _flaky_key(flaky)
    for record in sorted(records, key=lambda r: (r.profile, r.started, r.run_id)):  # a profile's runs in a row
        if scorecards and (state["scorecards"].get(record.run_id) != record.sha256
                           or not (site / scorecard_href(record.run_id)).is_file()):
            _scorecard(history, bundles, record, site)
            state["scorecards"][record.run_id] = record.sha256
            done.scorecards.append(record.run_id)
        if state["cells"].get(record.run_id) != record.sha256:
            _cells_file(history, record, site)
            state["cells"][record.run_id] = record.sha256
        before = previous[record.run_id]
        if before is None:
            continue
        key = f"{before.sha256}:{record.sha256}:{flaky_key}"
        cached = _cached_diff(site, record.run_id, key) if state["diffs"].get(record.run_id) == key else None
        if cached is None:
            cached = _diff(ctx, bundles, record, before, key)
            state["diffs"][record.run_id] = key
            done.diffs.append(record.run_id)
        ctx.diffs[record.run_id] = cached
    badges = write_badges(ctx)
    write_api(ctx, badges)
    write_pages(ctx, badges)
    write_json(site / STATE / "state.json", state)
    return done


def _cached_diff(site: Path, run_id: str, key: str) -> dict[str, Any] | None:
    try:
        doc: dict[str, Any] = json.loads((site / STATE / "diffs" / f"{run_id}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if doc.get("key") == key and (site / "history" / "diffs" / f"{run_id}.html").is_file() else None
