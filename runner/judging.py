"""A cell's verdict from its steps' results: one function for every executor.

The local executor judges on the machine that runs the run; the Dask executor judges
on the worker that ran the cell's steps (runner/dask_executor.py).  Both build the
judge here, so a cell's outcome, reason and artifacts do not depend on where it ran.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from runner.cache import ArtifactStore
from runner.check import Answers, Check
from runner.executor import now_iso
from runner.model import Cell, CellResult, Expectation, Step, StepResult, Vector
from runner.verdicts import judge_cell

CellJudge = Callable[[Cell, dict[str, StepResult]], CellResult]


def cell_judge(
    checks: Mapping[str, Check],
    vectors: Mapping[str, Vector],
    cache: ArtifactStore,
    versions: Mapping[str, str],
    expectations: Sequence[tuple[str, Expectation]],
    today: str,
    origins: Mapping[Step, dict[str, Any]],
) -> CellJudge:
    """The judge a run hands its executor: the check's verdict, the vendors' declared
    known issues (``expectations``: vendor id and entry, as of ``today``), the gate's
    notes, the cell's artifacts (reports kept in ``cache``) and each step's origin."""

    def judge(cell: Cell, results: dict[str, StepResult]) -> CellResult:
        check = checks[cell.check]
        answers = Answers(vectors[cell.vector], results, cache.get, dict(versions))
        verdict, expectation = judge_cell(
            cell, results, lambda _r: check.judge(cell, answers), check.judges_clean_errors,
            [(v, e) for v, e in expectations if v in (cell.producer or "").split("+") + [cell.consumer]], today,
            any_role=check.independent_roles,
        )
        notes = [n for r in results.values() for n in r.notes]
        if notes:  # what the gate repaired in an answer the verdict rests on
            verdict.reason += " [" + "; ".join(dict.fromkeys(notes)) + "]"
        return CellResult(cell, verdict.outcome, verdict.reason, verdict.measurements,
                          cell_artifacts(vectors[cell.vector], cache, results), expectation, 0.0, now_iso(),
                          {role: origins[step] for role, step in cell.steps.items() if step in origins})

    return judge


def cell_artifacts(vector: Vector, cache: ArtifactStore, results: dict[str, StepResult]) -> dict[str, dict[str, Any]]:
    """The artifacts a cell cites: its input, each role's asset, each role's report as JSON."""
    out: dict[str, dict[str, Any]] = {"input": {"sha256": vector.sha256, "media_type": vector.media_type, "path": None}}
    for role, res in results.items():
        if res.asset_sha256:
            out[role] = {"sha256": res.asset_sha256, "media_type": res.media_type, "path": None}
        elif res.report is not None:
            sha = cache.put(json.dumps(res.report, ensure_ascii=False, indent=1).encode())
            out[role] = {"sha256": sha, "media_type": "application/json", "path": None}
    return out
