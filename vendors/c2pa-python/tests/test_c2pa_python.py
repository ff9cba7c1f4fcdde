"""c2pa-python alone, signing and reading back: no manifest in an unsigned source, trusted
with the test root and valid but untrusted without it, the digital source type and the
training-mining assertion under both labels, the decoded content kept, every tamper
reported with its codes, the public test files' catalogued results, attack-string titles.

Its place among the C2PA readers is in tests/test_vendors_provenance.py, whose fixtures
and helpers this module shares.
"""

# The matrix module's fixtures are imported by name and requested as parameters: F811 there is
# how pytest fixtures are shared, not a redefinition.
# ruff: noqa: F811

from __future__ import annotations

import pytest
from aiii_kit import Asset
from test_vendors_provenance import (  # noqa: F401 - fixtures and helpers of the family's matrix module
    ATTACKS,
    EXPECTED_ACTIONS,
    EXPECTED_TRAINING,
    LABELS,
    PUBLIC_DIR,
    PUBLIC_FILES,
    SIGN_TYPES,
    TAMPER_CASES,
    Signer,
    _vector,
    c2pa_python,
    catalogue,
    pki,
    read,
    signed,
    sources,
    verdict,
)

from conformance.c2pa import CLAIM_GENERATOR, TRAINING_MINING
from conformance.fields import content_hash
from conformance.tamper import TAMPERS
from runner.pki import TestPKI
from runner.transports.inproc import InprocTransport
from runner.vectors import Catalogue
from runner.vendors import rule_version

# ------------------------------------------------------------------ sign -> read


@pytest.mark.parametrize("media_type", SIGN_TYPES)
def test_unsigned_source_has_no_manifest(c2pa_python: InprocTransport, sources: dict[str, Asset], media_type: str) -> None:
    report = read(c2pa_python, sources[media_type], None)
    assert verdict(report) == (False, None, [])
    assert report["active_manifest"] is None


@pytest.mark.parametrize("media_type", SIGN_TYPES)
def test_signed_with_anchor_is_trusted(c2pa_python: InprocTransport, signed: Signer, pki: TestPKI, media_type: str) -> None:
    report = read(c2pa_python, signed(media_type), pki.root_pem)
    assert verdict(report) == (True, "Trusted", [])
    assert report["validates"] is True
    assert "signingCredential.trusted" in report["codes"]["success"]


@pytest.mark.parametrize("media_type", SIGN_TYPES)
def test_signed_without_anchor_is_valid_but_untrusted(c2pa_python: InprocTransport, signed: Signer, media_type: str) -> None:
    report = read(c2pa_python, signed(media_type), None)
    assert verdict(report) == (True, "Valid", ["signingCredential.untrusted"])


@pytest.mark.parametrize("label", LABELS)
@pytest.mark.parametrize("media_type", SIGN_TYPES)
def test_source_type_and_training_mining_read_back(
    c2pa_python: InprocTransport, signed: Signer, pki: TestPKI, media_type: str, label: str
) -> None:
    report = read(c2pa_python, signed(media_type, label=label), pki.root_pem)
    assert verdict(report) == (True, "Trusted", [])
    manifest = report["active_manifest"]
    assert manifest["actions"] == EXPECTED_ACTIONS
    assert manifest["training_mining"] == EXPECTED_TRAINING
    other = next(x for x in LABELS if x != label)
    assert label in manifest["assertion_labels"] and other not in manifest["assertion_labels"]
    assert manifest["title"] == "aiii kodim01"
    assert manifest["claim_generator"] == CLAIM_GENERATOR
    assert not report.get("notes"), report.get("notes")
    # As stored (crJSON): entry keys carry the label's own namespace, null constraint_info is left out.
    (stored,) = [m for m in report["crjson"]["manifests"] if m["label"] == manifest["label"]]
    prefix = label.split(".", 1)[0]
    assert stored["assertions"][label]["entries"] == {f"{prefix}.{k}": v for k, v in TRAINING_MINING.items()}


@pytest.mark.parametrize("media_type", SIGN_TYPES)
def test_signing_keeps_decoded_content(sources: dict[str, Asset], signed: Signer, media_type: str) -> None:
    out = signed(media_type)
    assert out.data != sources[media_type].data, "nothing was embedded"
    assert content_hash(out) == content_hash(sources[media_type])


# ------------------------------------------------------------------ tampering


@pytest.mark.parametrize(("media_type", "kind"), TAMPER_CASES)
def test_tamper_is_reported_by_c2pa_python(
    c2pa_python: InprocTransport, signed: Signer, pki: TestPKI, media_type: str, kind: str
) -> None:
    transform, expected = TAMPERS[kind]
    original = signed(media_type)
    tampered = Asset(transform(original.data, media_type), media_type)
    assert tampered.data != original.data
    report = read(c2pa_python, tampered, pki.root_pem)
    if expected is None:
        assert verdict(report) == (False, None, [])
    else:
        assert verdict(report) == (True, "Invalid", sorted(expected))


# ------------------------------------------------------------ public test files


@pytest.mark.parametrize("name", PUBLIC_FILES)
def test_public_file_gives_the_catalogued_result_in_c2pa_python(
    c2pa_python: InprocTransport, catalogue: Catalogue, name: str
) -> None:
    vector = _vector(catalogue, PUBLIC_DIR, name)
    version = rule_version(c2pa_python.manifest)
    expectations = vector.expectations_for("provenance.public_files", "c2pa-python", version)
    assert len(expectations) == 1, f"{vector.id}: expected one c2pa-python {version} expectation"
    exp = expectations[0]
    report = read(c2pa_python, Asset(vector.read_bytes(), vector.media_type), None)
    if exp["state"] == "none":
        assert verdict(report) == (False, None, [])
        return
    assert verdict(report) == (True, exp["state"], sorted(exp["failure"]))
    assert set(exp.get("informational", [])) <= set(report["codes"]["informational"])


# -------------------------------------------------------------- attack strings


@pytest.mark.parametrize("media_type", SIGN_TYPES)
@pytest.mark.parametrize(("name", "index", "text"), ATTACKS, ids=[f"{n}-{i}" for n, i, _ in ATTACKS])
def test_attack_string_title_survives_c2pa_python(
    c2pa_python: InprocTransport, signed: Signer, pki: TestPKI, name: str, index: int, text: str, media_type: str
) -> None:
    report = read(c2pa_python, signed(media_type, title=text), pki.root_pem)
    assert verdict(report) == (True, "Trusted", [])
    assert report["active_manifest"]["title"] == text
