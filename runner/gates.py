"""The gates ``aiii run`` can be asked to pass; they alone decide its exit status 1.

A run that completes exits 0: its findings (the cells that fail) are its results.  A
gate turns findings into a failed run only when someone asked for it:

- the **level gate** (``--fail-on LEVEL``, or a profile that sets ``fail_on``): a cell at
  that level or stricter fails or errs;
- the **baseline gate** (``--baseline FILE|RUN_ID``): a MUST cell regressed against the
  baseline (it worked there, ``pass`` or ``xpass``, and fails or errs now), or a MUST cell
  the baseline does not have fails or errs.

Cells named flaky (runner/history.py's flip detection) are kept out of both gates and
listed.  Both gates are pure functions of cell records and bundles.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runner.diff import FAILING, WORKING, diff_bundles
from runner.gate import one_line
from runner.model import Level


@dataclass(frozen=True)
class GatedCell:
    """One cell a gate counts: its id, level and outcome before (None: a new cell) and now."""

    id: str
    level: str
    before: str | None
    after: str
    reason: str

    def line(self) -> str:
        was = self.before if self.before is not None else "new"
        return f"{self.id}: {was} -> {self.after}: {one_line(self.reason, 200)}"


@dataclass(frozen=True)
class LevelGate:
    """``--fail-on``: the cells at ``level`` or stricter that fail or err (level None: no gate)."""

    level: Level | None
    failing: tuple[str, ...] = ()
    flaky: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        return bool(self.failing)


@dataclass(frozen=True)
class BaselineGate:
    """``--baseline``: the MUST cells that regressed or are new and failing (``cells``),
    those that would be but are flaky (``flaky``), and the regressions below MUST, which
    are counted and not gated."""

    baseline: str
    cells: tuple[GatedCell, ...] = ()
    flaky: tuple[GatedCell, ...] = ()
    below_must: int = 0

    @property
    def failed(self) -> bool:
        return bool(self.cells)


def level_gate(cells: Iterable[Mapping[str, Any]], level: Level | None, flaky: Iterable[str] = ()) -> LevelGate:
    """The level gate over a run's cell records."""
    if level is None:
        return LevelGate(None)
    skip = set(flaky)
    hits = [c["id"] for c in cells if c["outcome"] in FAILING and Level(c["level"]).rank <= level.rank]
    return LevelGate(level, tuple(i for i in hits if i not in skip), tuple(i for i in hits if i in skip))


def baseline_gate(baseline: Mapping[str, Any], current: Mapping[str, Any], flaky: Iterable[str] = ()) -> BaselineGate:
    """The baseline gate: bundle ``current`` against bundle ``baseline`` (cells match by id)."""
    skip = set(flaky)
    diff = diff_bundles(baseline, current, skip)
    gated: list[GatedCell] = []
    kept_out: list[GatedCell] = []
    below = 0
    candidates = [*diff["cells"]["regressions"], *diff["cells"]["flaky"], *diff["cells"]["new"]]
    for entry in candidates:
        before, after = entry["before"], entry["after"]
        if after is None or after["outcome"] not in FAILING:
            continue  # a flaky cell that got fixed or changed otherwise; a new cell that works
        if before is not None and before["outcome"] not in WORKING:
            continue  # flaky, but it did not work before: no regression
        cell = GatedCell(entry["id"], str(entry["level"]), before["outcome"] if before else None,
                         after["outcome"], after["reason"])
        if cell.level != Level.MUST.value:
            below += before is not None
        elif cell.id in skip:
            kept_out.append(cell)
        else:
            gated.append(cell)
    return BaselineGate(str(diff["a"]["run"]), tuple(gated), tuple(kept_out), below)


#: Cells a gate lists in the run's summary; the rest are counted (``aiii diff`` has them all).
MAX_LISTED = 20


def _listed(cells: Sequence[GatedCell], indent: str = "  ") -> list[str]:
    shown = [indent + c.line() for c in cells[:MAX_LISTED]]
    if len(cells) > MAX_LISTED:
        shown.append(f"{indent}... and {len(cells) - MAX_LISTED} more")
    return shown


def describe(level: LevelGate | None, baseline: BaselineGate | None) -> list[str]:
    """The lines a run's summary prints about the gates that were asked for."""
    lines: list[str] = []
    if level is not None and level.level is not None:
        if level.failed:
            lines.append(f"gate --fail-on {level.level.value} failed: {len(level.failing)} cells at "
                         f"{level.level.value} or stricter failed or erred")
        else:
            lines.append(f"gate --fail-on {level.level.value} passed")
        if level.flaky:
            lines.append(f"  flaky, not gated: {len(level.flaky)} cells")
    if baseline is not None:
        if baseline.failed:
            lines.append(f"gate --baseline {baseline.baseline} failed: {len(baseline.cells)} MUST cells regressed "
                         "or are new and failing:")
            lines += _listed(baseline.cells)
        else:
            lines.append(f"gate --baseline {baseline.baseline} passed: no MUST cell regressed")
        if baseline.flaky:
            lines.append(f"  flaky, not gated: {len(baseline.flaky)} cells:")
            lines += _listed(baseline.flaky, "    ")
        if baseline.below_must:
            lines.append(f"  {baseline.below_must} regressions below MUST, not gated (see `aiii diff`)")
    return lines
