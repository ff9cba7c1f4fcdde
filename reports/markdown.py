"""A Markdown summary of a run, for pull requests and CI job summaries."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

from reports.bundle import OUTCOMES, merge_line, shard_line, validate_bundle
from reports.figures import crosstalk_tables, figure_data, roc_rows
from reports.matrix import MARKS, MEANINGS, Matrix, build_matrices, count_marks, sort_key
from reports.text import shorten, visible

#: Longest vendor string shown inline; the site has the full text.
MAX_TEXT = 300
#: Longest list of cells in one section; the site and JUnit have them all.
MAX_ITEMS = 200

_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "|": "&#124;", "`": "&#96;"}
# Inline constructs only: renderers never see this text at the start of a line.
_MARKDOWN = re.compile(r"([\\*_\[\]#~])")
_ENTITY = re.compile("[&<>|`]")


def md(text: str, limit: int = MAX_TEXT) -> str:
    """Escape untrusted ``text`` for inline Markdown (also safe inside table cells)."""
    text = visible(shorten(text, limit))  # newlines and hidden characters become escapes
    text = _MARKDOWN.sub(r"\\\1", text)
    return _ENTITY.sub(lambda m: _ENTITIES[m.group()], text)


def _url(link: str) -> str:
    """A link destination that cannot end the link early or leave the table."""
    return quote(visible(link), safe=":/?#@!$&'*+,;=%~-._")


def _cell_line(cell: dict[str, Any]) -> str:
    roles = f"{md(cell['producer'] or '—')} → {md(cell['consumer'] or '—')}"
    where = md(cell["vector"]) + (f" / {md(cell['variant'])}" if cell["variant"] else "")
    if cell["channel"]:
        where += f" via {md(cell['channel'])}"
    tries = f" (after {cell['attempts']} attempts)" if cell.get("attempts", 1) > 1 else ""
    return f"- **{cell['outcome']}**{tries} {roles} on {where}: {md(cell['reason'])}"


def _retried(cells: list[dict[str, Any]]) -> list[str]:
    """Cells run more than once (``--retries``), each with what its first attempt said."""
    retried = [c for c in cells if c.get("attempts", 1) > 1]
    if not retried:
        return []
    entries = []
    for c in retried:
        first = c["attempt_log"][0] if c.get("attempt_log") else None
        said = f"; attempt 1: {first['outcome']}: {md(first['reason'], 160)}" if first else ""
        entries.append(f"{_cell_line(c)} (check {md(c['check'])}{said})")
    return ["", "## Retried cells", "", "Cells that erred and were run again (`--retries`); every attempt is in "
            "results.json.", "", *_bounded(entries, "cells")]


def _bounded(lines: list[str], noun: str) -> list[str]:
    if len(lines) <= MAX_ITEMS:
        return lines
    return [*lines[:MAX_ITEMS], f"- … and {len(lines) - MAX_ITEMS} more {noun} (see the HTML site or junit.xml)"]


def _header(bundle: dict[str, Any]) -> list[str]:
    run = bundle["run"]
    lines = [f"# Interop run {md(run['id'])}", ""]
    if run["status"] != "complete":
        lines += [f"> **Run {md(run['status'])}**: results below are partial.", ""]
    if "shard" in bundle:
        lines += [f"> **{shard_line(bundle['shard'])}**: the other shards' cells are in their own bundles.", ""]
    if "merge" in bundle:
        lines += [f"> **{md(merge_line(bundle))}**", ""]
    fields = [
        ("profile", run["profile"]),
        ("status", run["status"]),
        ("started", run["started"]),
        ("finished", run["finished"] or "—"),
        ("harness", run["harness_version"]),
        ("methodology", run["methodology_version"]),
        ("catalogue sha256", run["catalogue_sha256"]),
        ("cells", str(len(bundle["cells"]))),
    ]
    lines += ["| | |", "|---|---|"] + [f"| {name} | {md(value)} |" for name, value in fields]
    lines += ["", "## Vendors", "", "| id | name | organisation | version | runnable |", "|---|---|---|---|---|"]
    for vendor in bundle["vendors"]:
        runnable = "yes" if vendor["runnable"] else f"no: {md(vendor['reason'] or '', 120)}"
        names = f"{md(vendor['name'], 80)} | {md(vendor['organisation'], 80)}"
        lines.append(f"| {md(vendor['id'])} | {names} | {md(vendor['version'] or '—')} | {runnable} |")
    return lines


def _outcomes(bundle: dict[str, Any]) -> list[str]:
    counts = Counter(cell["outcome"] for cell in bundle["cells"])
    must = bundle["summary"]["must_failures"]
    lines = ["", "## Outcomes", "", "| outcome | cells | meaning |", "|---|---:|---|"]
    lines += [f"| {MARKS[o]} {o} | {counts[o]} | {MEANINGS[o]} |" for o in OUTCOMES]
    lines += ["", f"**MUST failures: {must}**. Unsupported, inconclusive and xfail cells are not failures."]
    return lines


def _matrix(matrix: Matrix) -> list[str]:
    check = matrix.check
    lines = ["", f"### {md(check['id'])}: {md(check['title'])} ({check['level']})", ""]
    if check["description"]:
        lines += [f"_Description:_ {md(check['description'], 1000)}", ""]
    if not matrix.groups:
        return [*lines, "_No cells._"]
    lines.append(f"| {matrix.row_title} \\\\ consumer | " + " | ".join(md(c) for c in matrix.columns) + " |")
    lines.append("|---|" + "---|" * len(matrix.columns))
    for row in matrix.rows:
        counts = [matrix.groups[(row, column)].counts if (row, column) in matrix.groups else None for column in matrix.columns]
        rendered = [count_marks(c) if c is not None else "" for c in counts]
        lines.append(f"| {md(row)} | " + " | ".join(rendered) + " |")
    return lines


def _known_issues(cells: list[dict[str, Any]], today: str) -> list[str]:
    issues: dict[tuple[str, str, str, str], Counter[str]] = {}
    for cell in cells:
        if cell["outcome"] in ("xfail", "xpass") and cell["expectation"] is not None:
            e = cell["expectation"]
            key = (e["check"], e["reason"], e["link"], e["expires"])
            issues.setdefault(key, Counter())[cell["outcome"]] += 1
    lines = ["", "## Known issues", ""]
    if not issues:
        return [*lines, "None."]
    for (pattern, reason, link, expires), counts in sorted(issues.items()):
        expired = " **(expired)**" if expires < today else ""
        lines.append(
            f"- {md(pattern)}: {md(reason)} ([issue]({_url(link)})), expires {md(expires)}{expired}: "
            f"{counts['xfail']} xfail, {counts['xpass']} xpass"
        )
    return lines


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _ci(interval: list[float] | None) -> str:
    return "" if interval is None else f" [{interval[0]:.3f}, {interval[1]:.3f}]"


def _heatmap_table(figure: dict[str, Any]) -> list[str]:
    lines = ["", f"### {md(figure['title'])}", "", f"Figure: `site/{figure['png']}`. Each square: TPR [95% interval] n=trials.", ""]
    lines.append("| embedder \\\\ channel | " + " | ".join(md(c) for c in figure["columns"]) + " |")
    lines.append("|---|" + "---|" * len(figure["columns"]))
    for r, row in enumerate(figure["rows"]):
        squares = []
        for c in range(len(figure["columns"])):
            outcome = figure["outcomes"][r][c]
            value, trials = figure["values"][r][c], figure["trials"][r][c]
            if outcome is None:
                squares.append("")
            elif value is None:
                squares.append(f"{MARKS[outcome]} {outcome}")
            else:
                n = "?" if trials is None else str(trials)
                squares.append(f"{MARKS[outcome]} {value:.3f}{_ci(figure['ci95'][r][c])} n={n}")
        lines.append(f"| {md(row)} | " + " | ".join(squares) + " |")
    return lines


def _watermarks(bundle: dict[str, Any]) -> list[str]:
    """Watermark numbers as tables: the heatmaps, the ROC summaries, crosstalk."""
    figures = bundle.get("figures")
    if figures is None:
        figures = figure_data(bundle["cells"])
    crosstalk = crosstalk_tables(bundle["cells"])
    if not figures and not crosstalk:
        return []
    heading = "## Watermarks and content recognition" if any(f["id"].startswith("recognition-") for f in figures) \
        else "## Watermarks"
    lines = ["", heading, "", "? = inconclusive (insufficient evidence): too few trials for a verdict, not a failure."]
    for figure in figures:
        if figure["kind"] == "heatmap":
            lines += _heatmap_table(figure)
    rocs = [figure for figure in figures if figure["kind"] == "roc"]
    if rocs:
        lines += ["", "### ROC: each embedder's own detector", "",
                  "| embedder | channel | AUC | threshold | TPR at it | FPR at it | figure |", "|---|---|---:|---:|---:|---:|---|"]
        for figure in rocs:
            for channel, curve, point in roc_rows(figure):
                threshold = "—" if point is None or point["threshold"] is None else f"{point['threshold']:g}"
                lines.append(
                    f"| {md(figure['vendor'])} | {md(channel)} | {_num(curve['auc'] if curve else None)} | {threshold} | "
                    f"{_num(point['tpr'] if point else None)} | {_num(point['fpr'] if point else None)} | `site/{figure['png']}` |"
                )
    for table in crosstalk:
        lines += ["", f"### Crosstalk via {md(table['channel'])}: false detections k/n", ""]
        lines.append("| embedder \\\\ detector | " + " | ".join(md(d) for d in table["detectors"]) + " |")
        lines.append("|---|" + "---|" * len(table["detectors"]))
        for row, squares in zip(table["embedders"], table["squares"], strict=True):
            shown = []
            for square in squares:
                if square is None:
                    shown.append("")
                elif square["false_detections"] is None or square["trials"] is None:
                    shown.append(f"{MARKS[square['outcome']]} {square['outcome']}")
                else:
                    shown.append(f"{MARKS[square['outcome']]} {square['false_detections']}/{square['trials']}")
            lines.append(f"| {md(row)} | " + " | ".join(shown) + " |")
    return lines


def render_summary(bundle: dict[str, Any]) -> str:
    """The Markdown summary text for ``bundle`` (not validated here)."""
    cells = sorted(bundle["cells"], key=sort_key)
    lines = _header(bundle) + _outcomes(bundle)
    lines += ["", "Legend: " + ", ".join(f"{MARKS[o]} {o}" for o in OUTCOMES)]
    lines += _watermarks(bundle)
    lines += ["", "## Checks"]
    for matrix in build_matrices(bundle):
        lines += _matrix(matrix)
    attention = [c for c in cells if (c["level"] == "MUST" and c["outcome"] == "fail") or c["outcome"] == "error"]
    lines += ["", "## MUST failures and errors", ""]
    lines += _bounded([f"{_cell_line(c)} (check {md(c['check'])})" for c in attention], "cells") or ["None."]
    inconclusive = [c for c in cells if c["outcome"] == "inconclusive"]
    if inconclusive:  # no verdict either way: listed so nobody reads them as passes
        lines += ["", "## Insufficient evidence", "", "Too few trials to support or refute the claim; not failures.", ""]
        lines += _bounded([f"{_cell_line(c)} (check {md(c['check'])})" for c in inconclusive], "cells")
    lines += _retried(cells)
    lines += _known_issues(cells, bundle["run"]["started"][:10])
    lines += ["", "## Interoperability differences", ""]
    checks = [check["id"] for check in bundle["checks"]]
    failed = [c for c in cells if c["outcome"] == "fail"]
    if not failed:
        lines.append("None: no cell failed.")
    for check in checks:
        in_check = [c for c in failed if c["check"] == check]
        if in_check:
            lines += ["", f"### {md(check)}", ""] + _bounded([_cell_line(c) for c in in_check], "failures")
    return "\n".join(lines) + "\n"


def write_summary(bundle: dict[str, Any], path: Path | str, *, validate: bool = True) -> Path:
    """Write the Markdown summary of ``bundle`` to ``path``."""
    if validate:
        validate_bundle(bundle)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_summary(bundle), encoding="utf-8")
    return target
