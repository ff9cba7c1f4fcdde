"""c2patool alone, in its process placement: the program cargo installs (once per version and
toolchain), its version, signing and validating every declared media type, the tampers, a
CAWG X.509 identity assertion it signs (intact and tampered) as it and c2pa-python read it,
and the refusals.

The module's first test installs c2patool unless this machine's build cache has it
(``runner/builds.py``): about 17 minutes once on 2 cores, hence ``slow``.
"""

# The matrix module's fixtures are imported by name and requested as parameters: F811 there is
# how pytest fixtures are shared, not a redefinition.
# ruff: noqa: F811

from __future__ import annotations

import io
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aiii_kit import AdapterError, Asset, Unsupported
from helpers import ROOT
from test_vendors_provenance import (  # noqa: F401 - fixtures and helpers of the family's matrix module
    EXPECTED_ACTIONS,
    EXPECTED_TRAINING,
    TAMPER_CASES,
    c2pa_python,
    pki,
    read,
    sign_params,
    sources,
    verdict,
)

from conformance.c2pa import CLAIM_GENERATOR
from conformance.fields import content_hash
from conformance.provenance.identity import cawg_codes
from conformance.tamper import TAMPERS
from conformance.tamper_identity import identity_signature
from runner.builds import build_cache, built_binary
from runner.model import VendorManifest
from runner.pki import TestPKI
from runner.schema import first_error
from runner.transports import Transport, make_transport
from runner.transports.inproc import InprocTransport
from runner.vendors import load_manifest

VENDOR = ROOT / "vendors" / "c2patool"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]

Sign = Callable[..., Asset]
#: What c2patool's manifest declares it signs and reads.
TOOL_TYPES = sorted(next(c for c in load_manifest(VENDOR / "vendor.toml").capabilities
                         if c.operation == "provenance.sign").media_types)


@pytest.fixture(scope="module")
def manifest() -> VendorManifest:
    return load_manifest(VENDOR / "vendor.toml")


@pytest.fixture(scope="module")
def served(manifest: VendorManifest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Transport]:
    """The vendor in its process placement (installed first if the build cache lacks it)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIII_HOME", str(tmp_path_factory.mktemp("c2patool-home")))
        transport = make_transport(manifest, "process")
        transport.start()
        try:
            yield transport
        finally:
            transport.close()


@pytest.fixture(scope="module")
def tool_signed(served: Transport, pki: TestPKI, sources: dict[str, Asset]) -> Sign:
    """``tool_signed(media_type, identity=False)``: c2patool's signed asset, made once."""
    made: dict[tuple[str, bool], Asset] = {}

    def sign(media_type: str, identity: bool = False) -> Asset:
        if (media_type, identity) not in made:
            params: dict[str, Any] = {**sign_params(pki, f"aiii {media_type}"), "signer": pki.leaf("c2patool").as_params()}
            if identity:
                params["identity"] = {"signer": pki.leaf("c2patool.identity").as_params(),
                                      "referenced_assertions": ["c2pa.actions"]}
            assert first_error("aiii:protocol/v1/provenance.sign.params", params) is None
            out = served.call("provenance.sign", sources[media_type], params, 120)
            assert isinstance(out, Asset)
            made[(media_type, identity)] = out
        return made[(media_type, identity)]

    return sign


def tool_read(served: Transport, asset: Asset, anchor: str | None) -> dict[str, Any]:
    answer = served.call("provenance.read", asset, {"trust_anchors_pem": anchor}, 120)
    assert isinstance(answer, dict)
    assert first_error("aiii:protocol/v1/provenance.read.result", answer) is None, answer
    return answer


# -- the build and the version -------------------------------------------------------


def test_cargo_installs_the_declared_release_once_into_the_build_cache(served: Transport,
                                                                      manifest: VendorManifest) -> None:
    said = io.StringIO()
    binary = built_binary(manifest, said)
    assert said.getvalue() == ""  # the module's transport installed it (or found it): cached now
    assert binary.is_relative_to(build_cache() / "cargo-install" / "c2patool")
    assert binary.parent.parent.name.startswith("0.27.22-") and binary.name == "c2patool"
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30, check=True)
    assert out.stdout.strip() == "c2patool 0.27.22"


def test_the_version_is_the_programs(served: Transport) -> None:
    assert served.implementation_version() == "0.27.22"


# -- sign and validate ---------------------------------------------------------------


def test_declared_media_types_are_c2pa_pythons(manifest: VendorManifest, c2pa_python: InprocTransport) -> None:
    for operation in ("provenance.sign", "provenance.read"):
        mine, theirs = manifest.capability(operation), c2pa_python.manifest.capability(operation)
        assert mine is not None and theirs is not None and sorted(mine.media_types) == sorted(theirs.media_types)


@pytest.mark.parametrize("media_type", TOOL_TYPES)
def test_signed_reads_back_trusted_with_the_anchor_and_untrusted_without(
        served: Transport, tool_signed: Sign, sources: dict[str, Asset], pki: TestPKI, media_type: str) -> None:
    assert verdict(tool_read(served, sources[media_type], None)) == (False, None, [])
    signed = tool_signed(media_type)
    assert content_hash(signed) == content_hash(sources[media_type])
    trusted = tool_read(served, signed, pki.root_pem)
    assert verdict(trusted) == (True, "Trusted", [])
    assert verdict(tool_read(served, signed, None)) == (True, "Valid", ["signingCredential.untrusted"])
    manifest = trusted["active_manifest"]
    assert manifest["actions"] == EXPECTED_ACTIONS and manifest["training_mining"] == EXPECTED_TRAINING
    assert manifest["claim_generator"] == CLAIM_GENERATOR and manifest["title"] == f"aiii {media_type}"
    assert "c2pa.hash.data" in manifest["assertion_labels"]  # hard bindings, from --detailed
    assert not trusted.get("notes"), trusted.get("notes")


@pytest.mark.parametrize("media_type", TOOL_TYPES)
def test_c2pa_python_validates_what_c2patool_signed(tool_signed: Sign, c2pa_python: InprocTransport, pki: TestPKI,
                                                    media_type: str) -> None:
    assert verdict(read(c2pa_python, tool_signed(media_type), pki.root_pem)) == (True, "Trusted", [])


@pytest.mark.parametrize(("media_type", "kind"), TAMPER_CASES)
def test_tampers_are_reported_with_c2pa_rs_codes_by_both_sdks(served: Transport, tool_signed: Sign,
                                                              c2pa_python: InprocTransport, pki: TestPKI,
                                                              media_type: str, kind: str) -> None:
    transform, expected = TAMPERS[kind]
    tampered = Asset(transform(tool_signed(media_type).data, media_type), media_type)
    want = (False, None, []) if expected is None else (True, "Invalid", sorted(expected))
    assert verdict(tool_read(served, tampered, pki.root_pem)) == want
    assert verdict(read(c2pa_python, tampered, pki.root_pem)) == want


def test_a_tiff_manifest_goes_in_an_ifd_of_its_own(tool_signed: Sign, c2pa_python: InprocTransport, pki: TestPKI) -> None:
    """c2pa-rs 0.90 appends an IFD holding only tag 52545; c2pa-rs 0.91 (c2pa-python) writes
    the tag into IFD0. Each reads the other's."""
    from conformance.tamper_images import _tiff_c2pa, _tiff_chain

    data = tool_signed("image/tiff").data
    chain = _tiff_chain(data)
    ifd = _tiff_c2pa(data)[0]
    assert len(chain) == 2 and ifd == chain[-1] and [e[0] for e in ifd.entries] == [52545]
    assert verdict(read(c2pa_python, tool_signed("image/tiff"), pki.root_pem)) == (True, "Trusted", [])


# -- the CAWG identity assertion -------------------------------------------------------


def test_an_identity_assertion_is_signed_beside_the_claim(served: Transport, tool_signed: Sign, pki: TestPKI) -> None:
    report = tool_read(served, tool_signed("image/jpeg", identity=True), pki.root_pem)
    assert "cawg.identity" in report["active_manifest"]["assertion_labels"]
    assert "cawg.identity" not in tool_read(served, tool_signed("image/jpeg"), pki.root_pem)["active_manifest"]["assertion_labels"]
    # c2pa-rs 0.90 checks the identity's X.509 credential against an empty CAWG trust list and
    # logs the C2PA code for it: the manifest reads Valid, not Trusted, with the claim's signer trusted
    assert verdict(report) == (True, "Valid", ["signingCredential.untrusted"])
    assert "signingCredential.trusted" in report["codes"]["success"]


#: What each reader says of c2patool's identity assertion, in cawg.* codes by bucket (seen
#: with c2patool 0.27.22 / c2pa-rs 0.90.22 and c2pa-python 0.38.1 / c2pa-rs 0.91).
NONE: dict[str, list[str]] = {"success": [], "informational": [], "failure": []}
OBSERVED = {
    "intact": {
        "c2patool": {**NONE, "success": ["cawg.identity.well-formed"]},
        "c2pa-python": {"success": ["cawg.identity.well-formed", "cawg.x509.signature.validated"], "informational": [],
                        "failure": ["cawg.x509.credential.untrusted"]},
    },
    "tampered": {
        "c2patool": NONE,  # c2pa-rs 0.90 drops the identity's validation error: no cawg code at all
        "c2pa-python": {**NONE, "failure": ["cawg.x509.credential.untrusted", "cawg.x509.signature.mismatch"]},
    },
}


@pytest.mark.parametrize("media_type", ["image/jpeg", "image/png", "audio/wav"])
def test_c2patool_and_c2pa_python_report_an_intact_identity_differently(
        served: Transport, tool_signed: Sign, c2pa_python: InprocTransport, pki: TestPKI, media_type: str) -> None:
    signed = tool_signed(media_type, identity=True)
    assert cawg_codes(tool_read(served, signed, pki.root_pem)) == OBSERVED["intact"]["c2patool"]
    assert cawg_codes(read(c2pa_python, signed, pki.root_pem)) == OBSERVED["intact"]["c2pa-python"]


@pytest.mark.parametrize("media_type", ["image/jpeg", "image/png", "audio/wav"])
def test_a_tampered_identity_signature_is_invalid_in_both_and_named_by_c2pa_python_only(
        served: Transport, tool_signed: Sign, c2pa_python: InprocTransport, pki: TestPKI, media_type: str) -> None:
    signed = tool_signed(media_type, identity=True)
    tampered = Asset(identity_signature(signed.data, media_type), media_type)
    diffs = [i for i, (a, b) in enumerate(zip(tampered.data, signed.data, strict=True)) if a != b]
    if media_type == "image/png":  # the byte, then its chunk's CRC (4 bytes, one at least changed)
        assert 2 <= len(diffs) <= 5 and diffs[-1] - diffs[1] < 4, diffs
    else:
        assert len(diffs) == 1
    mine, theirs = tool_read(served, tampered, pki.root_pem), read(c2pa_python, tampered, pki.root_pem)
    assert cawg_codes(mine) == OBSERVED["tampered"]["c2patool"]
    assert cawg_codes(theirs) == OBSERVED["tampered"]["c2pa-python"]
    # the claim's hashed URI of the changed assertion gives it away to both
    for report in (mine, theirs):
        assert report["validation_state"] == "Invalid" and "assertion.hashedURI.mismatch" in report["codes"]["failure"]


def test_the_identity_tamper_of_a_file_without_one_is_a_value_error(tool_signed: Sign) -> None:
    with pytest.raises(ValueError, match="no CAWG identity assertion"):
        identity_signature(tool_signed("image/jpeg").data, "image/jpeg")


# -- refusals --------------------------------------------------------------------------


def test_refusals_carry_the_protocols_kinds(served: Transport, pki: TestPKI) -> None:
    params = {**sign_params(pki, "aiii"), "signer": pki.leaf("c2patool").as_params()}
    with pytest.raises(Unsupported, match="does not sign text/plain"):
        served.call("provenance.sign", Asset(b"hello", "text/plain"), params, 60)
    with pytest.raises(Unsupported, match="does not implement metadata.read"):
        served.call("metadata.read", Asset(b"\xff\xd8", "image/jpeg"), {}, 60)
    with pytest.raises(AdapterError, match="c2patool sign exited"):
        served.call("provenance.sign", Asset(b"not a jpeg" * 10, "image/jpeg"), params, 60)


def test_unbuilt_the_adapter_says_where_it_runs(manifest: VendorManifest) -> None:
    """In the harness's own process nothing installed c2patool: one line says why it cannot run."""
    transport = InprocTransport(manifest)
    with pytest.raises(Exception, match="serve the vendor in its process placement"):
        transport.start()
    transport.close()
