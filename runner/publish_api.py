"""The site's JSON API and badges, written from the history (runner/publish.py).

Static files under ``api/``, each described by a JSON Schema in reports/schemas/api/:

- ``api/runs.json``: every run, newest first, with its scores and its changes' counts;
- ``api/runs/<run_id>.json``: one run: labels, scores per family, vendor and pair, its
  vendors' versions, and its diff to the run before (counts, and the regressions and fixes);
- ``api/runs/<run_id>/cells.json``: its cells, compact: ``columns`` and one array per cell;
- ``api/vendors/<id>.json``: a vendor over time: versions, scores per family per run,
  known issues, regressions and fixes, flaky cells, its badges;
- ``api/flaky.json``: the flaky cells with their flip rates.

Badges (reports/badges.py) per vendor and family, and overall, from each vendor's latest
score in each family; one whose run is no longer its profile's latest says "as of" that
run's date.  A badge file is never deleted, so its URL keeps working.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from reports.badges import write_badge
from reports.score import METHOD
from runner.publish import Context, date_of, scorecard_href, write_json

#: The columns of ``api/runs/<id>/cells.json``.
CELL_COLUMNS = ("id", "check", "family", "level", "producer", "consumer", "outcome", "reason")
API_VERSION = 1
#: Regressions and fixes listed per vendor (newest first).
CHANGES_SHOWN = 300


def _add(total: dict[str, Any], score: dict[str, Any]) -> dict[str, Any]:
    outcomes = Counter(total.get("outcomes", {})) + Counter(score["outcomes"])
    working, judged = total.get("working", 0) + score["working"], total.get("judged", 0) + score["judged"]
    return {"score": round(working / judged, 4) if judged else None, "working": working, "judged": judged,
            "not_judged": total.get("not_judged", 0) + score["not_judged"], "outcomes": dict(sorted(outcomes.items()))}


def _issues(ctx: Context, vendor: str, matched: list[dict[str, Any]]) -> list[dict[str, Any]]:
    today = datetime.now(UTC).date().isoformat()
    issues: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for exp in ctx.declared.get(vendor, ()):
        key = (exp["check"], exp["reason"], exp["link"], str(exp["expires"]))
        issues[key] = {"check": exp["check"], "reason": exp["reason"], "link": exp["link"], "expires": str(exp["expires"]),
                       "source": "declared in its vendor.toml"}
    for exp in matched:
        key = (exp["check"], exp["reason"], exp["link"], exp["expires"])
        source = f"matched {exp['cells']} cell results, last on {exp['last_seen'][:10]}"
        issues[key] = {**issues.get(key, {"check": exp["check"], "reason": exp["reason"], "link": exp["link"],
                                          "expires": exp["expires"]}),
                       "source": (issues[key]["source"] + "; " + source) if key in issues else source}
    return [{**i, "expired": i["expires"] < today} for i in sorted(issues.values(), key=lambda i: (i["expires"], i["check"]))]


def vendor_views(ctx: Context) -> dict[str, dict[str, Any]]:
    """Vendor id -> its history (the form of ``api/vendors/<id>.json``, without badges)."""
    seen = ctx.history.vendor_history()
    matched = ctx.history.expectations()
    order = {r.run_id: i for i, r in enumerate(ctx.records)}
    views: dict[str, dict[str, Any]] = {}
    for vendor, per_run in sorted(seen.items()):
        runs = sorted((r for r in ctx.records if r.run_id in per_run), key=lambda r: order[r.run_id])
        if not runs:
            continue
        last = runs[-1]
        versions: list[dict[str, Any]] = []
        scores: dict[str, list[dict[str, Any]]] = {}
        for i, record in enumerate(runs):
            version = per_run[record.run_id]["version"]
            changed = i > 0 and version != per_run[runs[i - 1].run_id]["version"]
            versions.append({"run_id": record.run_id, "profile": record.profile, "date": date_of(record),
                             "version": version, "changed": changed})
            for family, score in record.scores["vendors"].get(vendor, {}).items():
                scores.setdefault(family, []).append({"run_id": record.run_id, "date": date_of(record),
                                                      "plan_digest": record.plan_digest, "version": version,
                                                      "score": score})
        changes = []
        for record in reversed(ctx.records):
            diff = ctx.diffs.get(record.run_id)
            for kind in ("regressions", "fixes"):
                for cell in (diff or {}).get(kind, []):
                    if vendor in cell["vendors"]:
                        changes.append({"run": record.run_id, "kind": kind, "id": cell["id"], "check": cell["check"],
                                        "before": cell["before"], "after": cell["after"]})
        views[vendor] = {
            "api_version": API_VERSION, "method": METHOD, "vendor": vendor, "name": per_run[last.run_id]["name"],
            "version": per_run[last.run_id]["version"], "last_run": last.run_id, "last_seen": date_of(last),
            "dropped": ctx.latest_of_profile[last.profile].run_id != last.run_id,
            "versions": versions, "scores": scores, "known_issues": _issues(ctx, vendor, matched.get(vendor, [])),
            "changes": changes[:CHANGES_SHOWN], "changes_total": len(changes),
            "flaky": [f.as_dict() for f in ctx.flaky.values() if vendor in f.vendors],
        }
    return views


def write_badges(ctx: Context) -> dict[str, dict[str, Any]]:
    """Write every vendor's badges; vendor id -> {"views": its view, "badges": family -> JSON}."""
    out: dict[str, dict[str, Any]] = {}
    runs = {r.run_id: r for r in ctx.records}
    for vendor, view in vendor_views(ctx).items():
        badges: dict[str, Any] = {}
        total: dict[str, Any] = {}
        current = False
        latest_date = ""
        for family, points in view["scores"].items():
            point = points[-1]
            record = runs[point["run_id"]]
            stale = ctx.latest_of_profile[record.profile].run_id != record.run_id
            current = current or not stale
            latest_date = max(latest_date, point["date"])
            badges[family] = write_badge(ctx.site / "badges" / vendor / family, f"{vendor} {family}", point["score"],
                                         point["date"][:10] if stale else None)
            total = _add(total, point["score"])
        if not total:
            total = {"score": None, "working": 0, "judged": 0, "not_judged": 0, "outcomes": {}}
        badges["overall"] = write_badge(ctx.site / "badges" / vendor, f"{vendor} interop", total,
                                        None if current else latest_date[:10] or None)
        view["badges"] = badges
        out[vendor] = view
    return out


def _run_doc(ctx: Context, record: Any) -> dict[str, Any]:
    before = ctx.previous[record.run_id]
    diff = ctx.diffs.get(record.run_id)
    return {**record.as_dict(), "previous": before.run_id if before else None,
            "changes": diff["summary"] if diff else None,
            "links": {"scorecard": scorecard_href(record.run_id), "run": f"api/runs/{record.run_id}.json",
                      "cells": f"api/runs/{record.run_id}/cells.json",
                      "diff": f"history/diffs/{record.run_id}.html" if diff else None}}


def write_api(ctx: Context, vendors: dict[str, dict[str, Any]]) -> None:
    """Write ``api/`` (module docstring)."""
    api = ctx.site / "api"
    write_json(api / "runs.json", {"api_version": API_VERSION, "method": METHOD,
                                   "runs": [_run_doc(ctx, r) for r in reversed(ctx.records)]})
    for record in ctx.records:
        diff = ctx.diffs.get(record.run_id)
        doc = {"api_version": API_VERSION, **_run_doc(ctx, record),
               "vendor_scores": record.scores["vendors"], "pair_scores": record.scores["pairs"],
               "vendors": {v: {"name": d["name"], "version": d["version"]}
                           for v, d in ctx.history.vendors_of(record.run_id).items()},
               "diff": None if diff is None else {k: diff[k] for k in ("a", "b", "same_plan", "summary", "by_vendor",
                                                                       "by_check", "regressions", "fixes", "flaky")}}
        write_json(api / "runs" / f"{record.run_id}.json", doc)
    for vendor, view in vendors.items():
        write_json(api / "vendors" / f"{vendor}.json", view)
    write_json(api / "flaky.json", {"api_version": API_VERSION, "k": ctx.k,
                                    "cells": [f.as_dict() for _, f in sorted(ctx.flaky.items())]})
