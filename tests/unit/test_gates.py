"""The gates of ``aiii run`` (runner/gates.py) as pure functions: which cells fail the
level gate and the baseline gate, and which are only listed (flaky, below MUST)."""

from __future__ import annotations

from typing import Any

from runner.gates import baseline_gate, describe, level_gate
from runner.model import Level


def _cell(name: str, outcome: str, level: str = "MUST", reason: str = "") -> dict[str, Any]:
    return {"id": f"metadata.roundtrip/v/w/{name}/ascii", "check": "metadata.roundtrip", "level": level,
            "producer": "w", "consumer": name, "outcome": outcome, "reason": reason or outcome}


def _bundle(run: str, *cells: dict[str, Any]) -> dict[str, Any]:
    return {"run": {"id": run}, "cells": list(cells)}


def _id(name: str) -> str:
    return _cell(name, "pass")["id"]


def test_a_must_regression_fails_the_baseline_gate_and_names_the_cell() -> None:
    before = _bundle("r1", _cell("a", "pass"), _cell("b", "xpass"), _cell("c", "pass"))
    after = _bundle("r2", _cell("a", "fail", reason="title lost"), _cell("b", "error"), _cell("c", "pass"))
    gate = baseline_gate(before, after)
    assert gate.failed and gate.baseline == "r1"
    assert [(c.id, c.before, c.after) for c in gate.cells] == [(_id("a"), "pass", "fail"), (_id("b"), "xpass", "error")]
    lines = describe(None, gate)
    assert lines[0].startswith("gate --baseline r1 failed: 2 MUST cells")
    assert f"  {_id('a')}: pass -> fail: title lost" in lines


def test_what_did_not_work_before_or_is_below_must_does_not_gate() -> None:
    before = _bundle("r1", _cell("a", "fail"), _cell("b", "error"), _cell("c", "blocked"), _cell("d", "pass", "SHOULD"),
                     _cell("e", "pass", "MAY"), _cell("f", "pass"))
    after = _bundle("r2", _cell("a", "error"), _cell("b", "fail"), _cell("c", "error"), _cell("d", "fail", "SHOULD"),
                    _cell("e", "error", "MAY"), _cell("f", "unsupported"))
    gate = baseline_gate(before, after)
    assert not gate.failed and gate.cells == () and gate.below_must == 2
    assert describe(None, gate) == ["gate --baseline r1 passed: no MUST cell regressed",
                                    "  2 regressions below MUST, not gated (see `aiii diff`)"]


def test_a_new_must_cell_gates_only_when_it_fails_or_errs() -> None:
    before = _bundle("r1", _cell("a", "pass"))
    works = baseline_gate(before, _bundle("r2", _cell("a", "pass"), _cell("n", "pass"), _cell("s", "fail", "SHOULD")))
    assert not works.failed and works.below_must == 0
    fails = baseline_gate(before, _bundle("r2", _cell("a", "pass"), _cell("n", "error")))
    assert [(c.id, c.before, c.after) for c in fails.cells] == [(_id("n"), None, "error")]
    assert f"  {_id('n')}: new -> error: error" in describe(None, fails)


def test_flaky_cells_are_kept_out_of_the_gates_and_listed() -> None:
    before = _bundle("r1", _cell("a", "pass"), _cell("b", "pass"))
    after = _bundle("r2", _cell("a", "fail"), _cell("b", "fail"), _cell("n", "error"))
    gate = baseline_gate(before, after, flaky={_id("a"), _id("n")})
    assert [c.id for c in gate.cells] == [_id("b")]
    assert sorted(c.id for c in gate.flaky) == [_id("a"), _id("n")]
    every = baseline_gate(before, after, flaky={_id("a"), _id("b"), _id("n")})
    assert not every.failed and len(every.flaky) == 3
    lines = describe(None, every)
    assert lines[0] == "gate --baseline r1 passed: no MUST cell regressed"
    assert lines[1] == "  flaky, not gated: 3 cells:" and f"    {_id('a')}: pass -> fail: fail" in lines
    level = level_gate(after["cells"], Level.MUST, flaky={_id("a")})
    assert level.failing == (_id("b"), _id("n")) and level.flaky == (_id("a"),)


def test_the_level_gate_counts_failing_cells_at_its_level_or_stricter() -> None:
    cells = [_cell("a", "fail"), _cell("b", "error", "SHOULD"), _cell("c", "fail", "MAY"), _cell("d", "blocked"),
             _cell("e", "inconclusive"), _cell("f", "xfail"), _cell("g", "unsupported")]
    assert not level_gate(cells, None).failed and describe(level_gate(cells, None), None) == []
    assert level_gate(cells, Level.MUST).failing == (_id("a"),)
    assert level_gate(cells, Level.SHOULD).failing == (_id("a"), _id("b"))
    assert len(level_gate(cells, Level.MAY).failing) == 3
    assert describe(level_gate(cells, Level.MUST), None) == [
        "gate --fail-on MUST failed: 1 cells at MUST or stricter failed or erred"]
    assert describe(level_gate([_cell("a", "pass")], Level.MUST), None) == ["gate --fail-on MUST passed"]
