"""The differential property-testing mode: a deliberately wrong validator (a real adapter
whose ISWC check digit is off by one) is found, its counterexample shrunk, and the
search is reproducible from its seed."""

from __future__ import annotations

import re
from pathlib import Path

from helpers import TESTS, aiii, cells

from conformance.identifiers import iswc_check

ISWC = re.compile(r"T-?(\d{3})\.?(\d{3})\.?(\d{3})-?(\d)")


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
