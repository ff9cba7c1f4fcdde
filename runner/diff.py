"""``aiii diff A B``: what changed between two runs, by vendor and by check.

Two bundles (``results.json``, or run ids in a results store) are compared cell by cell
(cells match by id).  Every cell that differs falls in one category:

- ``new``: in B only; ``removed``: in A only;
- ``regressions``: it worked in A (``pass``, ``xpass``) and fails or errs in B (``fail``,
  ``error``);
- ``fixes``: it failed or erred in A and works in B;
- ``changed``: any other change of outcome (to or from ``unsupported``, ``blocked``,
  ``xfail``, ``inconclusive``);
- ``reasons``: the same outcome with another reason.

Cells named ``flaky`` (runner/history.py's flip detection) are listed apart, never
counted as regressions or fixes.  :func:`diff_bundles` gives the JSON form,
:func:`diff_markdown` the Markdown; both are pure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from reports.score import producers_of

#: The categories, in the order reports list them.
CATEGORIES: tuple[str, ...] = ("regressions", "fixes", "new", "removed", "changed", "reasons", "flaky")
WORKING = frozenset({"pass", "xpass"})
FAILING = frozenset({"fail", "error"})


def _side(bundle: Mapping[str, Any]) -> dict[str, Any]:
    run = bundle["run"]
    digest = (run.get("plan_digest") or {}).get("sha256")
    return {"run": run["id"], "profile": run.get("profile"), "finished": run.get("finished") or run.get("started"),
            "plan_digest": digest, "cells": len(bundle["cells"])}


def _state(cell: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if cell is None else {"outcome": cell["outcome"], "reason": cell["reason"]}


def category(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> str | None:
    """The category of one cell's change (None: unchanged)."""
    if before is None:
        return "new"
    if after is None:
        return "removed"
    was, now = before["outcome"], after["outcome"]
    if was in WORKING and now in FAILING:
        return "regressions"
    if was in FAILING and now in WORKING:
        return "fixes"
    if was != now:
        return "changed"
    return "reasons" if before["reason"] != after["reason"] else None


def diff_bundles(a: Mapping[str, Any], b: Mapping[str, Any], flaky: Iterable[str] = ()) -> dict[str, Any]:
    """The changes from bundle ``a`` to bundle ``b`` (see the module docstring)."""
    old = {c["id"]: c for c in a["cells"]}
    new = {c["id"]: c for c in b["cells"]}
    skip = set(flaky)
    entries: dict[str, list[dict[str, Any]]] = {name: [] for name in CATEGORIES}
    by_vendor: dict[str, Counter[str]] = {}
    by_check: dict[str, Counter[str]] = {}
    for cid in sorted(old.keys() | new.keys()):
        before, after = old.get(cid), new.get(cid)
        kind = category(before, after)
        if kind is None:
            continue
        if cid in skip and kind in ("regressions", "fixes", "changed"):
            kind = "flaky"
        cell = after or before
        assert cell is not None
        vendors = sorted({*producers_of(cell), cell.get("consumer") or "—"} - {"—"})
        entries[kind].append({"id": cid, "check": cell["check"], "level": cell.get("level"),
                              "producer": cell.get("producer"), "consumer": cell.get("consumer"),
                              "vendors": vendors, "before": _state(before), "after": _state(after)})
        for vendor in vendors:
            by_vendor.setdefault(vendor, Counter())[kind] += 1
        by_check.setdefault(cell["check"], Counter())[kind] += 1
    return {
        "a": _side(a), "b": _side(b),
        "same_plan": _side(a)["plan_digest"] == _side(b)["plan_digest"] and _side(a)["plan_digest"] is not None,
        "summary": {name: len(entries[name]) for name in CATEGORIES},
        "by_vendor": {v: dict(sorted(c.items())) for v, c in sorted(by_vendor.items())},
        "by_check": {k: dict(sorted(c.items())) for k, c in sorted(by_check.items())},
        "cells": entries,
    }


def _md(text: Any) -> str:
    """Table-safe Markdown text: pipes and line breaks escaped, long text cut."""
    value = "" if text is None else str(text)
    value = value.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")
    return value if len(value) <= 120 else value[:119] + "…"


TITLES = {"regressions": "Regressions (worked, now fails or errs)", "fixes": "Fixes (failed, now works)",
          "new": "New cells", "removed": "Removed cells", "changed": "Other outcome changes",
          "reasons": "Same outcome, another reason", "flaky": "Flaky cells that changed (not counted)"}


def diff_markdown(diff: Mapping[str, Any]) -> str:
    """The diff as Markdown: the headline, counts by vendor and by check, then every cell."""
    a, b, s = diff["a"], diff["b"], diff["summary"]
    lines = [f"# Changes from run {_md(a['run'])} to run {_md(b['run'])}", ""]
    if not diff["same_plan"]:
        lines += ["Note: the two runs were made under different plans (plan digests "
                  f"{str(a['plan_digest'])[:12]} and {str(b['plan_digest'])[:12]}): cells may be new or removed "
                  "because the plan changed.", ""]
    lines += [", ".join(f"{s[name]} {name}" for name in CATEGORIES), ""]
    for title, table in (("By vendor", diff["by_vendor"]), ("By check", diff["by_check"])):
        if not table:
            continue
        lines += [f"## {title}", "", "| | " + " | ".join(CATEGORIES) + " |", "|---" * (len(CATEGORIES) + 1) + "|"]
        lines += [f"| {_md(key)} | " + " | ".join(str(counts.get(name, 0)) for name in CATEGORIES) + " |"
                  for key, counts in table.items()]
        lines.append("")
    for name in CATEGORIES:
        cells = diff["cells"][name]
        if not cells:
            continue
        lines += [f"## {TITLES[name]}: {len(cells)}", "", "| cell | before | after |", "|---|---|---|"]
        for c in cells:
            before = f"{c['before']['outcome']}: {c['before']['reason']}" if c["before"] else "—"
            after = f"{c['after']['outcome']}: {c['after']['reason']}" if c["after"] else "—"
            lines.append(f"| {_md(c['id'])} | {_md(before)} | {_md(after)} |")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
