"""The differential property-testing mode: a deliberately wrong validator (a real adapter
whose ISWC check digit is off by one) is found, its counterexample shrunk, and the
search is reproducible from its seed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import aiii, cells
from hypothesis import strategies as st

from conformance import differential
from conformance.identifiers import iswc_check

TESTS = Path(__file__).resolve().parent
ISWC = re.compile(r"T-?(\d{3})\.?(\d{3})\.?(\d{3})-?(\d)")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("aiii-home")


def run_offbyone(home: Path, out: Path) -> dict[str, dict]:
    proc = aiii(home, "run", "--profile", str(TESTS / "profiles" / "offbyone.toml"), "--vendor-dir", str(TESTS / "doubles"),
                "--out", str(out / "out"), "--store", str(out / "s.sqlite"), "-q")
    assert proc.returncode == 0, proc.stderr
    return cells(out / "s.sqlite")


def test_differential_finds_and_shrinks_the_off_by_one_check_digit(home: Path, tmp_path: Path) -> None:
    got = run_offbyone(home, tmp_path)
    [cell] = [c for c in got.values() if c["check"] == "identifiers.differential"]
    assert cell["variant"] == "iswc" and cell["outcome"] == "fail", cell["reason"]
    m = cell["measurements"]
    value = m["counterexample"]
    # the counterexample is a well-formed ISWC on whose validity the two disagree...
    match = ISWC.fullmatch(value)
    assert match, value
    digits, check = "".join(match.group(1, 2, 3)), match.group(4)
    answers = m["answers"]
    assert answers["registry-reference"]["valid"] != answers["iswc-offbyone"]["valid"]
    assert answers["registry-reference"]["valid"] == (iswc_check(digits) == check)
    # ...and shrunk: Hypothesis minimises towards zeros, so few digits are non-zero
    assert sum(d != "0" for d in digits) <= 2, value
    assert value in cell["reason"] and "iswc-offbyone says" in cell["reason"]
    assert m["seed"] == 7 and m["examples"] >= 1
    # the curated list catches it too: the canonical example T-034.524.680-1 is refused
    reg = {c["variant"]: c for c in got.values() if c["check"] == "identifiers.registry" and c["consumer"] == "iswc-offbyone"}
    assert reg["iswc.valid-presentation"]["outcome"] == "fail"


def test_the_same_seed_gives_the_same_counterexample(home: Path, tmp_path: Path) -> None:
    first = run_offbyone(home, tmp_path / "a")
    second = run_offbyone(home, tmp_path / "b")

    def found(got: dict[str, dict]) -> str:
        return next(c for c in got.values() if c["check"] == "identifiers.differential")["measurements"]["counterexample"]

    assert found(first) == found(second)


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
