"""The identifier validators (registry-reference, python-stdnum, idutils) and the
``iswc-offbyone`` test double on the curated cases of
``test_vectors/identifiers/registry-cases.json``.

Each adapter class is loaded from its ``adapter.py`` through the harness's own path
(``load_manifest`` -> ``load_adapter_class``) and called directly.  The reference must
answer ``expect`` on every case that is not ``"either"``: that, and the reference's other
decisions, are tested beside it in vendors/registry-reference/tests, which shares this
module's cases and helpers.  The libraries only have to keep the protocol (their
disagreements with ``expect`` are the findings the harness reports).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aiii_kit import Adapter, Asset, Unsupported
from helpers import ROOT

from runner.model import VendorManifest
from runner.schema import first_error
from runner.transports.inproc import load_adapter_class
from runner.vendors import load_manifest

CASES_FILE = ROOT / "test_vectors" / "identifiers" / "registry-cases.json"
OPERATION = "identifier.validate"
RESULT = "aiii:protocol/v1/identifier.validate.result"
PARAMS = "aiii:protocol/v1/identifier.validate.params"
EMPTY = Asset(b"", "application/octet-stream")
CATEGORIES = {"valid", "check-digit", "length", "lowercase", "separators", "whitespace", "lookalike", "charset",
              "prefix", "empty"}

MANIFEST_PATHS: dict[str, Path] = {
    "registry-reference": ROOT / "vendors" / "registry-reference" / "vendor.toml",
    "python-stdnum": ROOT / "vendors" / "python-stdnum" / "vendor.toml",
    "idutils": ROOT / "vendors" / "idutils" / "vendor.toml",
    "iswc-offbyone": ROOT / "tests" / "doubles" / "iswc-offbyone" / "vendor.toml",
}
MANIFESTS: dict[str, VendorManifest] = {v: load_manifest(p) for v, p in MANIFEST_PATHS.items()}
VENDORS = tuple(v for v in MANIFEST_PATHS if v != "iswc-offbyone")
DOC: dict[str, Any] = json.loads(CASES_FILE.read_text(encoding="utf-8"))
SCHEMES: dict[str, dict[str, Any]] = DOC["schemes"]


def declared_schemes(vendor: str) -> list[str]:
    cap = MANIFESTS[vendor].capability(OPERATION)
    assert cap is not None, f"{vendor} declares no {OPERATION}"
    return list(cap.options["schemes"])


def make_adapter(vendor: str) -> Adapter:
    manifest = MANIFESTS[vendor]
    return load_adapter_class(manifest)(config=dict(manifest.config))


ADAPTERS: dict[str, Adapter] = {v: make_adapter(v) for v in MANIFEST_PATHS}


def validate(vendor: str, scheme: str, value: str) -> dict[str, Any]:
    """An adapter's answer, which must keep the protocol whatever the value."""
    params = {"scheme": scheme, "value": value}
    assert first_error(PARAMS, params) is None
    answer = ADAPTERS[vendor].call(OPERATION, EMPTY, params)
    assert isinstance(answer, dict)
    problem = first_error(RESULT, answer)
    assert problem is None, f"{vendor} answered outside the protocol on {value!r}: {problem}"
    assert answer["scheme"] == scheme
    if answer["valid"]:
        assert isinstance(answer["normalised"], str) and answer["reason"] is None, answer
    else:
        assert answer["normalised"] is None and isinstance(answer["reason"], str) and answer["reason"], answer
    return answer


def cases_of(scheme: str) -> list[dict[str, Any]]:
    return list(SCHEMES[scheme]["cases"])


ALL_CASES = [
    pytest.param(vendor, scheme, case, id=f"{vendor}-{scheme}-{case['id']}")
    for vendor in VENDORS
    for scheme in declared_schemes(vendor)
    for case in cases_of(scheme)
]


# -- the cases file ---------------------------------------------------------------------


def test_cases_file_is_well_formed() -> None:
    assert DOC["version"] == 1
    assert DOC["licence"] == "CC0-1.0: written for aiii-interop"
    for scheme, entry in SCHEMES.items():
        assert isinstance(entry["spec"], str) and entry["spec"], scheme
        ids = [c["id"] for c in entry["cases"]]
        assert len(ids) == len(set(ids)), f"{scheme}: duplicate case ids"
        for case in entry["cases"]:
            assert set(case) == {"id", "value", "expect", "category", "note"}, (scheme, case)
            assert case["expect"] in (True, False, "either"), (scheme, case["id"])
            assert case["category"] in CATEGORIES, (scheme, case["id"])
            assert isinstance(case["value"], str) and case["note"], (scheme, case["id"])
            assert (case["category"] == "empty") == (case["value"] == ""), (scheme, case["id"])
        valid = sum(c["expect"] is True for c in entry["cases"])
        other = sum(c["expect"] is not True for c in entry["cases"])
        assert valid >= 4 and other >= 10, f"{scheme}: {valid} valid and {other} other cases"


def test_every_declared_scheme_has_cases() -> None:
    declared = {s for v in VENDORS for s in declared_schemes(v)}
    assert declared <= set(SCHEMES), f"no cases for {sorted(declared - set(SCHEMES))}"
    assert set(SCHEMES) <= declared, f"cases for undeclared schemes {sorted(set(SCHEMES) - declared)}"


def test_manifests_declare_the_operation_as_params_only() -> None:
    for vendor, manifest in MANIFESTS.items():
        cap = manifest.capability(OPERATION)
        assert cap is not None and cap.media_types == ("application/octet-stream",), vendor
        assert manifest.placement == "inproc", vendor
    for vendor in VENDORS:
        assert MANIFESTS[vendor].role == "reference" and MANIFESTS[vendor].default, vendor
    assert MANIFESTS["iswc-offbyone"].role == "test-double" and not MANIFESTS["iswc-offbyone"].default
    assert ADAPTERS["iswc-offbyone"].implementation_version() == "0.0.1"


# -- every adapter on every case --------------------------------------------------------


@pytest.mark.parametrize(("vendor", "scheme", "case"), ALL_CASES)
def test_answer_keeps_the_protocol(vendor: str, scheme: str, case: dict[str, Any]) -> None:
    validate(vendor, scheme, case["value"])


@pytest.mark.parametrize("vendor", VENDORS)
def test_valid_values_normalise_to_valid_values(vendor: str) -> None:
    """A vendor's normal form of a value it accepts is itself accepted, unchanged."""
    for scheme in declared_schemes(vendor):
        for case in cases_of(scheme):
            if case["expect"] is not True:
                continue
            answer = validate(vendor, scheme, case["value"])
            if not answer["valid"]:
                continue  # a library disagreeing on a valid case is a finding, not a test failure
            again = validate(vendor, scheme, answer["normalised"])
            assert again["valid"] and again["normalised"] == answer["normalised"], (scheme, case["id"], again)


@pytest.mark.parametrize("vendor", [*VENDORS, "iswc-offbyone"])
def test_unsupported_scheme_raises_unsupported(vendor: str) -> None:
    declared = set(declared_schemes(vendor))
    for scheme in ("iscc", *sorted(set(SCHEMES) - declared)):
        with pytest.raises(Unsupported):
            ADAPTERS[vendor].call(OPERATION, EMPTY, {"scheme": scheme, "value": "T-034.524.680-1"})


def test_adapters_accept_exactly_their_declared_schemes() -> None:
    for vendor in MANIFEST_PATHS:
        for scheme in declared_schemes(vendor):
            validate(vendor, scheme, "")  # no Unsupported for a declared scheme


# -- the off-by-one double ----------------------------------------------------------------
# Here, not in a vendor's folder: it compares the double with the reference, and
# tests/doubles holds adapters, not tests.


def test_offbyone_double_disagrees_with_the_reference_on_some_valid_iswcs() -> None:
    valid = [c for c in cases_of("iswc") if c["expect"] is True]
    agree: list[str] = []
    disagree: list[str] = []
    for case in valid:
        reference = validate("registry-reference", "iswc", case["value"])
        double = validate("iswc-offbyone", "iswc", case["value"])
        assert reference["valid"]
        (agree if double["valid"] == reference["valid"] else disagree).append(case["id"])
    assert disagree, "the off-by-one double agreed on every valid ISWC"
    assert agree, "the off-by-one double disagreed on every valid ISWC"
