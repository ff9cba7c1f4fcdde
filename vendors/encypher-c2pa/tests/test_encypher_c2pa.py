"""encypher-c2pa alone, on real signed files: c2pa-python's signatures Trusted with the test
root and Valid but untrusted without it, every tamper Invalid with c2pa-python's code, the
public test files as c2pa-python 0.38 reads them, claim-v1 manifests without their claim
generator, c2patxt's signed text with the same manifest store bytes, and no telemetry
preference written.  Its place among the validators is provenance.agreement's."""

# The matrix module's fixtures are imported by name and requested as parameters: F811 there is
# how pytest fixtures are shared, not a redefinition.
# ruff: noqa: F811

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiii_kit import Asset
from test_vendors_provenance import (  # noqa: F401 - fixtures and helpers of the family's matrix module
    PUBLIC_DIR,
    PUBLIC_FILES,
    SIGN_TYPES,
    TAMPER_CASES,
    Signer,
    _started,
    _vector,
    c2pa_python,
    catalogue,
    pki,
    read,
    signed,
    sources,
    verdict,
)
from test_vendors_text import codecs, sign, vector  # noqa: F401 - the text codecs' fixture and helpers

from conformance.tamper import TAMPERS
from runner.pki import TestPKI
from runner.transports.inproc import InprocTransport
from runner.vectors import Catalogue
from runner.vendors import rule_version


@pytest.fixture(scope="module")
def encypher() -> Iterator[InprocTransport]:
    yield from _started("encypher-c2pa")


@pytest.mark.parametrize("media_type", SIGN_TYPES)
def test_c2pa_python_signature_is_trusted_with_the_anchor_and_untrusted_without(
    encypher: InprocTransport, signed: Signer, pki: TestPKI, media_type: str
) -> None:
    asset = signed(media_type)
    report = read(encypher, asset, pki.root_pem)
    assert verdict(report) == (True, "Trusted", [])
    assert "signingCredential.trusted" in report["codes"]["success"]
    assert verdict(read(encypher, asset, None)) == (True, "Valid", ["signingCredential.untrusted"])


@pytest.mark.parametrize("media_type", SIGN_TYPES)
def test_manifest_fields_match_c2pa_python(
    encypher: InprocTransport, c2pa_python: InprocTransport, signed: Signer, pki: TestPKI, media_type: str
) -> None:
    ours, theirs = read(encypher, signed(media_type), pki.root_pem), read(c2pa_python, signed(media_type), pki.root_pem)
    keys = ("label", "title", "claim_generator", "actions", "training_mining", "assertion_labels", "ingredients", "signer")
    assert {k: ours["active_manifest"][k] for k in keys} == {k: theirs["active_manifest"][k] for k in keys}
    assert ours["active_manifest"]["signer"] == {"common_name": "aiii-interop TEST ONLY signer c2pa-python"}
    assert ours["crjson"] is None and len(ours["manifest_store"]["sha256"]) == 64


@pytest.mark.parametrize(("media_type", "kind"), TAMPER_CASES)
def test_tamper_is_invalid_with_c2pa_pythons_code(
    encypher: InprocTransport, signed: Signer, pki: TestPKI, media_type: str, kind: str
) -> None:
    transform, expected = TAMPERS[kind]
    tampered = Asset(transform(signed(media_type).data, media_type), media_type)
    present, state, failure = verdict(read(encypher, tampered, pki.root_pem))
    if expected is None:
        assert (present, state, failure) == (False, None, [])
        return
    assert present and state == "Invalid"
    # the assertion tamper changes one character of the action's source type URI:
    # encypher-c2pa also judges the changed action, c2pa-rs stops at the hash mismatch
    extra = ["assertion.action.malformed"] if kind == "assertion" else []
    assert failure == sorted([*expected, *extra])


@pytest.mark.parametrize("name", PUBLIC_FILES)
def test_public_file_reads_as_c2pa_python_0_38_reads_it(
    encypher: InprocTransport, c2pa_python: InprocTransport, catalogue: Catalogue, name: str
) -> None:
    vector = _vector(catalogue, PUBLIC_DIR, name)
    (exp,) = vector.expectations_for("provenance.public_files", "c2pa-python", rule_version(c2pa_python.manifest))
    report = read(encypher, Asset(vector.read_bytes(), vector.media_type), None)
    if exp["state"] == "none":
        assert verdict(report) == (False, None, [])
        return
    assert verdict(report) == (True, exp["state"], sorted(exp["failure"]))
    assert set(exp.get("informational", [])) <= set(report["codes"]["informational"])


def test_claim_v1_manifest_has_no_claim_generator(encypher: InprocTransport, c2pa_python: InprocTransport) -> None:
    asset = Asset((PUBLIC_DIR / "adobe-20220124-CA.jpg").read_bytes(), "image/jpeg")
    ours, theirs = read(encypher, asset, None), read(c2pa_python, asset, None)
    # the v1 claim's claim_generator string is not in encypher-c2pa's report, which says so
    assert theirs["active_manifest"]["claim_generator"] == "make_test_images/0.16.1 c2pa-rs/0.16.1"
    assert ours["active_manifest"]["claim_generator"] is None
    assert "com.encypher.claim.generatorInfoMissing" in ours["codes"]["informational"]
    # the rest agrees; its report lists no thumbnail assertions
    assert ours["active_manifest"]["ingredients"] == theirs["active_manifest"]["ingredients"] == [
        {"title": "A.jpg", "relationship": "parentOf"}]
    assert ours["active_manifest"]["signer"] == theirs["active_manifest"]["signer"] == {"common_name": "C2PA Signer"}
    assert sorted(set(theirs["active_manifest"]["assertion_labels"]) - set(ours["active_manifest"]["assertion_labels"])) == [
        "c2pa.thumbnail.claim.jpeg", "c2pa.thumbnail.ingredient.jpeg"]


def test_c2patxt_signed_text_validates_with_the_same_store(
    encypher: InprocTransport, codecs: dict[str, InprocTransport]
) -> None:
    marked = sign(codecs, "c2patxt", vector("latin"))
    ours, theirs = read(encypher, marked, None), read(codecs["c2patxt"], marked, None)
    assert verdict(ours) == verdict(theirs) == (True, "Valid", ["signingCredential.untrusted"])
    assert ours["manifest_store"]["sha256"] == theirs["manifest_store"]["sha256"]
    assert ours["active_manifest"]["signer"] == theirs["active_manifest"]["signer"]


def test_runs_with_telemetry_off_and_writes_no_preference(
    encypher: InprocTransport, signed: Signer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENCYPHER_C2PA_CONFIG_DIR", str(tmp_path))
    read(encypher, signed("image/jpeg"), None)
    assert os.environ["ENCYPHER_C2PA_TELEMETRY"] == "off" and os.environ["ENCYPHER_C2PA_ONLINE"] == "off"
    assert list(tmp_path.iterdir()) == []  # no per-call telemetry value: nothing saved
