"""registry-reference alone: the answer ``expect`` gives on every curated case of
``test_vectors/identifiers/registry-cases.json`` that is not ``"either"``, its normal
forms, and the ISO 15707 check digit of a work identifier.

Its place in the identifier matrix is in tests/test_vendors_identifiers.py, whose cases
and helpers this module shares.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_vendors_identifiers import cases_of, declared_schemes, validate

REFERENCE_CASES = [
    pytest.param(scheme, case, id=f"{scheme}-{case['id']}")
    for scheme in declared_schemes("registry-reference")
    for case in cases_of(scheme)
    if case["expect"] != "either"
]


@pytest.mark.parametrize(("scheme", "case"), REFERENCE_CASES)
def test_reference_answers_the_expectation(scheme: str, case: dict[str, Any]) -> None:
    answer = validate("registry-reference", scheme, case["value"])
    assert answer["valid"] is case["expect"], f"{case['id']}: {answer}"


def test_reference_normal_forms() -> None:
    def normal(scheme: str, value: str) -> str:
        answer = validate("registry-reference", scheme, value)
        assert answer["valid"], answer
        return str(answer["normalised"])

    assert normal("iswc", "T0345246801") == "T-034.524.680-1"
    assert normal("isrc", "US-RC1-76-07839") == "USRC17607839"
    assert normal("doi", "10.1038/nphys1170") == "10.1038/NPHYS1170"
    # DOI case-insensitivity is ASCII only (DOI Handbook 2.4): non-ASCII letters keep their case.
    assert normal("doi", "10.1000/\u00e9\u00e9-abc") == "10.1000/\u00e9\u00e9-ABC"


def test_reference_iswc_check_digit_over_every_last_digit() -> None:
    """Exactly one check digit passes for a work identifier, and it is the ISO 15707 one."""
    for digits, good in (("034524680", 1), ("000000001", 0), ("302010400", 7), ("345246800", 3)):
        passing = [c for c in range(10) if validate("registry-reference", "iswc", f"T{digits}{c}")["valid"]]
        assert passing == [good], digits
