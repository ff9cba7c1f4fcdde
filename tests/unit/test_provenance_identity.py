"""The CAWG identity check (conformance/provenance/identity.py) as functions: which cells it
plans for identity signers and validators, and how it judges the validators' cawg.* codes.
The tamper of the identity assertion's signature on files without one is here too; on a
signed file it is in vendors/c2patool/tests (the only identity signer, a built program)."""

# The matrix module's fixture is imported by name and requested as a parameter: F811 there is
# how pytest fixtures are shared, not a redefinition.
# ruff: noqa: F811

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aiii_kit import Asset
from test_vendors_provenance import TAMPER_CASES, sources  # noqa: F401 - sources is a fixture

from conformance.provenance import FAMILY
from conformance.provenance.identity import IdentityAssertion, IdentityContext, cawg_codes, judge_codes
from conformance.tamper_identity import identity_signature
from runner.check import Answers, Fixtures, PlanContext
from runner.model import (
    Capability,
    CheckConfig,
    Level,
    Outcome,
    StepKind,
    StepResult,
    Vector,
    VectorSelector,
    VendorManifest,
)

JPEG, PNG = "image/jpeg", "image/png"


def _vendor(vid: str, *caps: Capability) -> VendorManifest:
    return VendorManifest(id=vid, name=vid, organisation="test", placement="inproc", folder=Path("/nonexistent"),
                          version_rule={}, capabilities=caps)


def _read(*types: str, validates: bool = True) -> Capability:
    return Capability("provenance.read", types, {"validates": validates})


TOOL = _vendor("tool", Capability("provenance.sign", (JPEG, PNG), {"identity_sig_types": ["cawg.x509.cose"]}), _read(JPEG, PNG))
PLAIN = _vendor("plain", Capability("provenance.sign", (JPEG,), {}), _read(JPEG))
DECODER = _vendor("decoder", _read(JPEG, validates=False))
VECTORS = [Vector("j", Path("/nonexistent/j.jpg"), JPEG, "0" * 64, "test", ("photo",)),
           Vector("p", Path("/nonexistent/p.png"), PNG, "0" * 64, "test", ("photo",))]


def _plan(*vendors: VendorManifest, **params: Any) -> dict[str, Any]:
    config = CheckConfig(id="provenance.cawg", level=Level.SHOULD, vectors=VectorSelector(), params=params)
    creds = {"alg": "es256", "cert_chain_pem": "(chain)", "private_key_pem": "(key)"}
    ctx = PlanContext(config=config, vectors=VECTORS, vendors={v.id: v for v in vendors},
                      fixtures=Fixtures(trust_anchor_pem="(root)", credentials=lambda vid: {**creds, "for": vid}))
    return {c.id: c for c in IdentityAssertion().plan(ctx)}


def test_only_identity_signers_sign_and_every_validator_reads_intact_and_tampered() -> None:
    cells = _plan(TOOL, PLAIN, DECODER)
    assert {c.producer for c in cells.values()} == {"tool"}
    # JPEG: 2 variants x 3 readers; PNG: 2 variants x 3 readers, plain reads no PNG
    assert len(cells) == 12
    ran = {cid: c for cid, c in cells.items() if c.preset is None}
    assert sorted(ran) == sorted(f"provenance.cawg/j/tool/{r}/{v}" for r in ("plain", "tool") for v in ("intact", "tampered"))
    skipped = {cid: c.preset[1] for cid, c in cells.items() if c.preset}
    assert skipped["provenance.cawg/j/tool/decoder/intact"] == "decoder decodes but does not validate manifests"
    assert skipped["provenance.cawg/p/tool/plain/intact"] == "plain does not read manifests in image/png"
    assert skipped["provenance.cawg/p/tool/tool/intact"] == "no other validator of image/png in this run to compare tool with"

    cell = ran["provenance.cawg/j/tool/plain/tampered"]
    assert set(cell.steps) == {"signed", "tampered", "read", "read:tool"}
    assert cell.steps["tampered"].kind is StepKind.TRANSFORM and cell.steps["tampered"].operation == "tamper.identity_signature"
    assert cell.steps["read"].vendor == "plain" and cell.steps["read:tool"].vendor == "tool"
    assert cell.steps["read"].source == cell.steps["read:tool"].source == cell.steps["tampered"]
    sign = cell.steps["signed"]
    params = json.loads(sign.params_json)
    assert params["signer"]["for"] == "tool" and params["identity"]["signer"]["for"] == "tool.identity"  # two credentials
    assert params["identity"]["referenced_assertions"] == ["c2pa.actions"]
    assert cell.context_as(IdentityContext) == IdentityContext(variant="tampered", peers=("tool",))
    intact = ran["provenance.cawg/j/tool/tool/intact"]
    assert "tampered" not in intact.steps and intact.steps["read"].source == sign
    # one read per validator and variant, shared between the cells that compare it
    assert intact.steps["read"] == ran["provenance.cawg/j/tool/plain/intact"].steps["read:tool"]


def test_the_variants_param_narrows_the_plan() -> None:
    assert {c.variant for c in _plan(TOOL, PLAIN, variants=["tampered"]).values()} == {"tampered"}


def test_without_an_identity_signer_nothing_is_planned() -> None:
    assert _plan(PLAIN, DECODER) == {}


def _report(*codes: tuple[str, str], state: str = "Valid") -> dict[str, Any]:
    out: dict[str, Any] = {"manifest_present": True, "validation_state": state,
                           "codes": {"success": [], "informational": [], "failure": []}}
    for bucket, code in codes:
        out["codes"][bucket].append(code)
    return out


def test_cawg_codes_keeps_only_cawg_codes_by_bucket() -> None:
    report = _report(("success", "claimSignature.validated"), ("success", "cawg.x509.signature.validated"),
                     ("informational", "cawg.x509.credential.untrusted"), ("failure", "signingCredential.untrusted"))
    assert cawg_codes(report) == {"success": ["cawg.x509.signature.validated"],
                                  "informational": ["cawg.x509.credential.untrusted"], "failure": []}


def test_agreeing_validators_pass_and_disagreeing_ones_fail_naming_each_validators_codes() -> None:
    python = {"success": ["cawg.x509.signature.validated"], "informational": ["cawg.x509.credential.untrusted"], "failure": []}
    tool = {"success": ["cawg.identity.well-formed"], "informational": [], "failure": []}
    agree = judge_codes("a", "intact", {"a": python, "b": dict(python)}, {})
    assert agree.outcome is Outcome.PASS
    assert agree.reason == ("intact identity assertion: 2 validators agree: success [cawg.x509.signature.validated], "
                            "informational [cawg.x509.credential.untrusted]")
    differ = judge_codes("tool", "intact", {"tool": tool, "c2pa-python": python}, {})
    assert differ.outcome is Outcome.FAIL
    assert differ.reason == ("intact identity assertion: validators disagree on the cawg.* codes (tool: success "
                             "[cawg.identity.well-formed]; c2pa-python: success [cawg.x509.signature.validated], "
                             "informational [cawg.x509.credential.untrusted])")
    empty = {"success": [], "informational": [], "failure": []}
    silent = judge_codes("tool", "tampered", {"tool": empty, "c2pa-python": {**empty, "failure": ["cawg.x509.signature.mismatch"]}}, {})
    assert silent.outcome is Outcome.FAIL and "tool: none; c2pa-python: failure [cawg.x509.signature.mismatch]" in silent.reason
    assert judge_codes("tool", "tampered", {"tool": empty, "x": empty}, {}).reason.endswith("2 validators agree: none")


def test_the_judge_reads_the_consumers_and_each_peers_report() -> None:
    (cell,) = [c for c in _plan(TOOL, PLAIN).values() if c.id == "provenance.cawg/j/tool/plain/tampered"]
    reports = {"read": _report(("failure", "assertion.hashedURI.mismatch"), state="Invalid"),
               "read:tool": _report(("failure", "cawg.x509.signature.mismatch"), state="Invalid")}
    answers = Answers(VECTORS[0], {role: StepResult(ok=True, report=r) for role, r in reports.items()}, lambda _s: b"")
    verdict = IdentityAssertion().judge(cell, answers)
    assert verdict.outcome is Outcome.FAIL
    assert verdict.measurements["cawg_codes"]["tool"]["failure"] == ["cawg.x509.signature.mismatch"]
    assert verdict.measurements["cawg_codes"]["plain"] == {"success": [], "informational": [], "failure": []}
    assert verdict.measurements["states"] == {"plain": "Invalid", "tool": "Invalid"}


def test_the_identity_tamper_is_a_transform_of_the_family() -> None:
    assert "tamper.identity_signature" in FAMILY.transforms


@pytest.mark.parametrize("media_type", sorted({mt for mt, _ in TAMPER_CASES}))
def test_identity_tamper_of_an_unsigned_file_is_a_value_error(sources: dict[str, Asset], media_type: str) -> None:
    with pytest.raises(ValueError) as info:
        identity_signature(sources[media_type].data, media_type)
    assert "not supported" not in str(info.value)
