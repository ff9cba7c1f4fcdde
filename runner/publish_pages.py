"""The site's history pages, from the history (runner/publish.py): the landing page, the
run list and each vendor's page over time (templates: reports/templates/history/)."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from reports.history_site import Pages, web_link
from reports.html import vendor_page
from reports.score import NONE
from reports.trend import Point, trend_svg
from runner.history import RunRecord
from runner.publish import Context, date_of, scorecard_href


def _run_view(ctx: Context, record: RunRecord, root: str) -> dict[str, Any]:
    before = ctx.previous[record.run_id]
    diff = ctx.diffs.get(record.run_id)
    return {**record.as_dict(), "date": date_of(record), "scorecard": root + scorecard_href(record.run_id),
            "plan_changed": before is not None and before.plan_digest != record.plan_digest,
            "diff": diff["summary"] if diff else None,
            "diff_href": f"{root}history/diffs/{record.run_id}.html" if diff else None}


def _matrices(record: RunRecord) -> list[dict[str, Any]]:
    out = []
    for family, pairs in record.scores["pairs"].items():
        squares = {(p, c): s for p, c, s in pairs}
        names = sorted({p for p, _, _ in pairs} | {c for _, c, _ in pairs})
        rows = [n for n in names if any(p == n for p, _, _ in pairs)]
        columns = [n for n in names if any(c == n for _, c, _ in pairs)]
        # the "no producer" / "no consumer" row and column go last
        out.append({"name": family, "squares": squares, "rows": sorted(rows, key=lambda n: (n == NONE, n)),
                    "columns": sorted(columns, key=lambda n: (n == NONE, n))})
    return out


def _vendor_page(pages: Pages, ctx: Context, view: dict[str, Any]) -> None:
    vendor = view["vendor"]
    runs = {r.run_id: r for r in ctx.records}
    families = []
    for family, points in view["scores"].items():
        drawn, plan = [], None
        for p in points:
            s = p["score"]
            detail = f"{s['working']}/{s['judged']} judged, {s['not_judged']} not judged, version {p['version']}"
            drawn.append(Point(f"{p['run_id']} {p['date'][:10]}", s["score"], detail,
                               plan is not None and p["plan_digest"] != plan))
            plan = p["plan_digest"]
        families.append({"name": family, "points": points,
                         "svg": Markup(trend_svg(drawn, f"{vendor} {family} interop score across runs"))})
    last = runs[view["last_run"]]
    issues = [{**i, "link_safe": web_link(i["link"])} for i in view["known_issues"]]
    pages.write(f"history/vendors/{vendor}.html", "vendor.html.j2",
                vendor={"id": vendor, "name": view["name"], "version": view["version"], "last_run": last.run_id,
                        "last_seen": view["last_seen"], "dropped": view["dropped"],
                        "scorecard": f"../../runs/{last.run_id}/site/{vendor_page(vendor)}"},
                families=families, versions=view["versions"], issues=issues, changes=view["changes"],
                more_changes=view["changes_total"] - len(view["changes"]), flaky=view["flaky"])


def write_pages(ctx: Context, vendors: dict[str, dict[str, Any]]) -> None:
    """Write ``index.html``, ``history/index.html`` and ``history/vendors/<id>.html``."""
    pages = Pages(ctx.site, len(ctx.records))
    for view in vendors.values():
        _vendor_page(pages, ctx, view)
    flaky = [f.as_dict() for _, f in sorted(ctx.flaky.items())]
    pages.write("history/index.html", "runs.html.j2", runs=[_run_view(ctx, r, "../") for r in reversed(ctx.records)],
                flaky=flaky, k=ctx.k)
    latest = ctx.records[-1] if ctx.records else None
    others = [_run_view(ctx, r, "") for r in sorted(ctx.latest_of_profile.values(), key=lambda r: r.profile)
              if latest is not None and r.run_id != latest.run_id]
    vendor_rows = [{"id": v, "name": view["name"], "file": f"{v}.html", "file_base": v, "last_seen": view["last_seen"],
                    "badge_message": view["badges"]["overall"]["message"]} for v, view in vendors.items()]
    pages.write("index.html", "index.html.j2", latest=_run_view(ctx, latest, "") if latest else None,
                matrices=_matrices(latest) if latest else [], others=others, vendors=vendor_rows,
                flaky_count=len(ctx.flaky))
