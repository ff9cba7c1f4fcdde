"""From a cell's step results to its verdict: the root failing step decides between
``fail``, ``error``, ``blocked`` and ``unsupported``; otherwise the check judges; then the
vendors' declared expectations turn a known failure into ``xfail`` (a pass into ``xpass``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runner.model import Cell, ErrorKind, Outcome, StepKind, StepResult, Verdict


def judge_cell(
    cell: Cell,
    results: dict[str, StepResult],
    judge: Callable[[dict[str, StepResult]], Verdict],
    judges_clean_errors: bool,
    expectations: list[tuple[str, Any]],
    today: str,
    any_role: bool = False,
) -> tuple[Verdict, dict[str, str] | None]:
    """Turn step results into a verdict, then apply the vendors' declared expectations.
    ``any_role``: the roles are independent answers, so with ``judges_clean_errors`` the
    judge sees a clean refusal of any of them, not only of the last."""
    if cell.preset:
        verdict = Verdict(cell.preset[0], cell.preset[1])
    else:
        verdict = _verdict_from_steps(cell, results, judge, judges_clean_errors, any_role)
    return apply_expectations(cell.id, verdict, expectations, today)


def _verdict_from_steps(
    cell: Cell, results: dict[str, StepResult], judge: Callable[[dict[str, StepResult]], Verdict], judges_clean_errors: bool,
    any_role: bool = False,
) -> Verdict:
    """Find the root failing step and turn it into the cell's outcome.

    A party of the cell (its producer or consumer) that refused the input cleanly gets
    ``fail`` (it cannot do what the check asks); one that crashed, hung or broke the
    protocol gets ``error``; a failing step of anyone else (a harness transform) leaves
    the cell ``blocked``.

    Checks list every step of a chain as a role, in chain order, so the first failed
    role that is not merely "upstream failed" is the cause.
    """
    roles = list(cell.steps)
    judged = (ErrorKind.CLEAN, ErrorKind.UNSUPPORTED) if judges_clean_errors and any_role else ()
    for role in roles:
        res = results[role]
        if res.ok or res.error_kind == ErrorKind.UPSTREAM:
            continue
        if res.error_kind == ErrorKind.ABSENT:  # served from a pack that lacks it: not this run's to judge
            return Verdict(Outcome.BLOCKED, f"{role}: {res.error}")
        if res.error_kind in judged:  # this role's answer: a refusal
            continue
        if res.error_kind in (ErrorKind.CLEAN, ErrorKind.UNSUPPORTED) and role == roles[-1] and judges_clean_errors:
            break
        if res.error_kind == ErrorKind.UNSUPPORTED:
            return Verdict(Outcome.UNSUPPORTED, f"{role}: {res.error}")
        step = cell.steps[role]
        if step.kind == StepKind.VENDOR and step.vendor in [*(cell.producer or "").split("+"), cell.consumer]:
            if res.error_kind == ErrorKind.CLEAN:  # the implementation refused this input: an interop finding
                return Verdict(Outcome.FAIL, f"{role}: refused: {res.error}")
            return Verdict(Outcome.ERROR, f"{role}: {res.error}")
        return Verdict(Outcome.BLOCKED, f"{role} ({step.label}) failed: {res.error}")
    else:
        # A step reading the vector itself fails as "upstream" only when the vector cannot
        # be decoded (Executor._source): the cell is blocked by the vector, in its words.
        failed = [r for r in roles if not results[r].ok and results[r].error_kind not in judged]
        unreadable = [r for r in failed if isinstance(cell.steps[r].source, str)]
        if unreadable:
            return Verdict(Outcome.BLOCKED, str(results[unreadable[0]].error))
        if failed:
            return Verdict(Outcome.BLOCKED, "an upstream step failed: " + "; ".join(str(results[r].error) for r in failed))
    try:
        return judge(results)
    except Exception as exc:  # noqa: BLE001 - a judge bug must not lose the run
        return Verdict(Outcome.ERROR, f"harness error while judging: {exc!r}")


def apply_expectations(
    cell_id: str, verdict: Verdict, expectations: list[tuple[str, Any]], today: str
) -> tuple[Verdict, dict[str, str] | None]:
    """fail/error under a live expectation -> xfail; pass under one -> xpass."""
    for vendor_id, exp in expectations:
        if not exp.matches(cell_id):
            continue
        if exp.expires.isoformat() < today:
            verdict.reason += f" [expectation of {vendor_id} expired {exp.expires.isoformat()}]"
            continue
        if verdict.outcome in (Outcome.FAIL, Outcome.ERROR):
            return Verdict(Outcome.XFAIL, f"known issue ({vendor_id}): {exp.reason}; {verdict.reason}",
                           verdict.measurements), exp.as_dict()
        if verdict.outcome is Outcome.PASS:
            return Verdict(Outcome.XPASS, f"declared known issue did not occur ({vendor_id}): {exp.reason}",
                           verdict.measurements), exp.as_dict()
    return verdict, None
