"""The differential property-testing mode on in-process implementations: agreeing ones pass
with the search effort reported, disagreeing ones are shown both answers on the minimal
input.  The off-by-one ISWC adapter run through the CLI is in tests/e2e/test_differential_e2e.py."""

from __future__ import annotations

from hypothesis import strategies as st

from conformance import differential


def test_agreeing_implementations_pass_with_the_search_effort_reported() -> None:
    # two honest answers on the same grammar: no counterexample, the budget is spent
    valid = st.integers(0, 999).map(lambda n: f"{n:03d}")
    result = differential.search(differential.candidates(valid, "0123456789", 5), lambda vendor, v: v.isdigit(),
                                 ("a", "b"), lambda x, y: x == y, seed=1, budget=50)
    assert not result.found and result.examples >= 50 and result.counterexample is None


def test_search_reports_both_answers_on_the_minimal_input() -> None:
    # "b" wrongly rejects any value containing 7: the minimal counterexample is "7"
    def answer(vendor: str, v: str) -> bool:
        return v.isdigit() if vendor == "a" else v.isdigit() and "7" not in v

    result = differential.search(st.text(alphabet="0123456789", min_size=1, max_size=6), answer, ("a", "b"),
                                 lambda x, y: x == y, seed=3, budget=300)
    assert result.found and result.counterexample == "7"
    assert result.answers == {"a": True, "b": False}
