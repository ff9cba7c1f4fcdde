"""How step failures and declared known issues become outcomes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from runner.model import Expectation, Outcome, Verdict
from runner.verdicts import apply_expectations


def test_known_issue_that_passes_is_reported_as_xpass() -> None:
    exp = Expectation("metadata.roundtrip/*/a/b/*", "loses titles", "https://example.org/1", date(2099, 1, 1))
    verdict, applied = apply_expectations("metadata.roundtrip/v/a/b/ascii", Verdict(Outcome.PASS, "ok"), [("a", exp)], "2026-11-21")
    assert verdict.outcome is Outcome.XPASS and applied == exp.as_dict()
    untouched, none = apply_expectations("metadata.roundtrip/v/a/c/ascii", Verdict(Outcome.FAIL, "x"), [("a", exp)], "2026-11-21")
    assert untouched.outcome is Outcome.FAIL and none is None


def test_inconclusive_is_counted_in_the_progress_line_and_run_summary() -> None:
    import io

    from runner.executor import CallTiming
    from runner.progress import OUTCOME_ORDER, Progress
    from runner.run import RunSummary, print_summary

    assert set(OUTCOME_ORDER) == {o.value for o in Outcome}
    stream = io.StringIO()
    bar = Progress(total=3, stream=stream)
    for outcome in ("pass", "inconclusive", "inconclusive"):
        bar.update(outcome)
    assert "pass 1 inconclusive 2" in stream.getvalue()
    out = io.StringIO()
    summary = RunSummary("r1", {"pass": 1, "inconclusive": 2}, 3, 0, Path("out"), CallTiming(), 1.0)
    print_summary(summary, out)
    assert "3 cells: 1 pass, 2 inconclusive" in out.getvalue() and "failed" not in out.getvalue()
