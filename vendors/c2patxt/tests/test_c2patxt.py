"""c2patxt against c2pa-python, the reference reader: signed and tampered JPEGs whose store fits
one APP11 segment or spreads over several, the v1-claim public files c2patxt cannot read, and
attack-string titles in c2pa-python-signed JPEGs."""

# The matrix module's fixtures are imported by name and requested as parameters: F811 there is
# how pytest fixtures are shared, not a redefinition.
# ruff: noqa: F811

from __future__ import annotations

import pytest
from aiii_kit import Asset
from test_vendors_provenance import (  # noqa: F401 - fixtures and helpers of the family's matrix module
    ATTACKS,
    EXPECTED_TRAINING,
    PUBLIC_DIR,
    PUBLIC_FILES,
    READERS,
    Signer,
    _vector,
    app11_jumbf_segments,
    c2pa_python,
    c2patxt,
    catalogue,
    content,
    pki,
    read,
    readers,
    signed,
    sources,
    verdict,
)

from conformance.tamper import TAMPERS
from runner.pki import TestPKI
from runner.transports.inproc import InprocTransport
from runner.vectors import Catalogue


@pytest.fixture(scope="module")
def jpegs(signed: Signer) -> dict[str, Asset]:
    """A signed JPEG whose store fits one APP11 segment, and one spread over several."""
    single = signed("image/jpeg")
    multi = signed("image/jpeg", title="\u00e9" * 100_000)
    assert app11_jumbf_segments(single.data) == 1
    assert app11_jumbf_segments(multi.data) >= 3
    return {"single-segment": single, "multi-segment": multi}


@pytest.mark.parametrize("anchor", [True, False], ids=["anchor", "no-anchor"])
@pytest.mark.parametrize("layout", ["single-segment", "multi-segment"])
def test_c2patxt_agrees_on_signed_jpeg(
    readers: dict[str, InprocTransport], jpegs: dict[str, Asset], pki: TestPKI, layout: str, anchor: bool
) -> None:
    trust = pki.root_pem if anchor else None
    ref, other = (read(readers[r], jpegs[layout], trust) for r in READERS)
    assert verdict(other) == verdict(ref) == (True, "Trusted" if anchor else "Valid", [] if anchor else ["signingCredential.untrusted"])
    assert content(other) == content(ref)
    assert ref["active_manifest"]["training_mining"] == EXPECTED_TRAINING


@pytest.mark.parametrize("anchor", [True, False], ids=["anchor", "no-anchor"])
@pytest.mark.parametrize("kind", list(TAMPERS))
@pytest.mark.parametrize("layout", ["single-segment", "multi-segment"])
def test_c2patxt_agrees_after_tamper(
    readers: dict[str, InprocTransport], jpegs: dict[str, Asset], pki: TestPKI, layout: str, kind: str, anchor: bool
) -> None:
    tampered = Asset(TAMPERS[kind][0](jpegs[layout].data, "image/jpeg"), "image/jpeg")
    ref, other = (read(readers[r], tampered, pki.root_pem if anchor else None) for r in READERS)
    expected = TAMPERS[kind][1]
    if expected is None:
        assert verdict(other) == verdict(ref) == (False, None, [])
        return
    if kind == "signature" and not anchor:
        # Known difference (vendors/c2patxt/README.md): c2patxt stops at claimSignature.mismatch,
        # so it never reaches the trust decision and reports no signingCredential.untrusted.
        assert verdict(ref) == (True, "Invalid", sorted([*expected, "signingCredential.untrusted"]))
        assert verdict(other) == (True, "Invalid", sorted(expected))
        return
    assert verdict(other) == verdict(ref)
    assert verdict(ref)[:2] == (True, "Invalid") and set(expected) <= set(verdict(ref)[2])


@pytest.mark.parametrize("name", [n for n in PUBLIC_FILES if n != "adobe-20220124-A.jpg"])
def test_c2patxt_reports_claim_missing_on_v1_claim_public_files(
    readers: dict[str, InprocTransport], catalogue: Catalogue, name: str
) -> None:
    """Pinned current behaviour, a known difference (vendors/c2patxt/README.md).

    The 2022 Adobe public files carry v1 claims (a ``c2pa.claim`` box, no ``c2pa.claim.v2``).
    c2patxt 0.2.0 parses only v2 claims and reports every one of them ``Invalid`` with exactly
    ``claim.missing``, including C and CA, which c2pa-python validates as ``Valid``.  When
    c2patxt learns v1 claims this test fails and should become an agreement test.
    """
    vector = _vector(catalogue, PUBLIC_DIR, name)
    data = vector.read_bytes()
    assert b"c2pa.claim\x00" in data and b"c2pa.claim.v2" not in data, "not a v1-claim file"
    asset = Asset(data, vector.media_type)
    ref, other = (read(readers[r], asset, None) for r in READERS)
    assert verdict(other) == (True, "Invalid", ["claim.missing"])
    if name in ("adobe-20220124-C.jpg", "adobe-20220124-CA.jpg"):
        assert verdict(ref) == (True, "Valid", ["signingCredential.untrusted"])
    else:
        assert ref["validation_state"] == "Invalid"


@pytest.mark.parametrize(("name", "index", "text"), ATTACKS, ids=[f"{n}-{i}" for n, i, _ in ATTACKS])
def test_attack_string_title_survives_c2patxt(
    c2patxt: InprocTransport, signed: Signer, pki: TestPKI, name: str, index: int, text: str
) -> None:
    report = read(c2patxt, signed("image/jpeg", title=text), pki.root_pem)
    assert verdict(report) == (True, "Trusted", [])
    assert report["active_manifest"]["title"] == text
