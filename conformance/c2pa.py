"""C2PA signing and reading as the families ask for it: what every signer signs, the
read params, what a reader declares, and summaries of a reader's report.  Shared by the
provenance, identifiers, watermark and optout families."""

from __future__ import annotations

from typing import Any

from aiii_kit.vocab import IPTC_DST

from conformance.base import PlanContext
from runner.model import VendorManifest

CLAIM_GENERATOR = "aiii-interop/0.1"

#: What every signer is asked to sign: a creation action with an IPTC source type and
#: training-and-mining entries covering each ``use`` value.
TRAINING_MINING = {
    "ai_training": {"use": "notAllowed"},
    "ai_generative_training": {"use": "notAllowed"},
    "ai_inference": {"use": "allowed"},
    "data_mining": {"use": "constrained", "constraint_info": "https://example.org/tdm-policy"},
}
DIGITAL_SOURCE_TYPE = IPTC_DST + "trainedAlgorithmicMedia"

def sign_params(ctx: PlanContext, signer: str, title: str, label: str = "cawg.training-mining") -> dict[str, Any]:
    return {
        "signer": ctx.fixtures.credentials(signer),
        "claim_generator": CLAIM_GENERATOR,
        "title": title,
        "actions": [{"action": "c2pa.created", "digital_source_type": DIGITAL_SOURCE_TYPE}],
        "training_mining": TRAINING_MINING,
        "training_mining_label": label,
    }


def read_params(ctx: PlanContext, anchor: bool) -> dict[str, Any]:
    return {"trust_anchors_pem": ctx.fixtures.trust_anchor_pem if anchor else None}


def validates(vendor: VendorManifest, media_type: str) -> bool:
    cap = vendor.capability("provenance.read", media_type)
    return bool(cap and cap.options.get("validates", True))


def takes_anchors(vendor: VendorManifest, media_type: str) -> bool:
    """Whether the reader can be given trust anchors (some old releases cannot)."""
    cap = vendor.capability("provenance.read", media_type)
    return bool(cap and cap.options.get("trust_anchors", True))


def signed_state(vendor: VendorManifest, media_type: str) -> str:
    """The state a sound signature by the test PKI reads as when the anchor is offered."""
    return "Trusted" if takes_anchors(vendor, media_type) else "Valid"


def failure_codes(report: dict[str, Any]) -> list[str]:
    """Active-manifest failures plus ingredient-delta failures, sorted and unique."""
    codes = set(report["codes"]["failure"])
    for delta in report["ingredient_deltas"]:
        codes.update(delta.get("failure", []))
    return sorted(codes)


def content_summary(report: dict[str, Any]) -> dict[str, Any]:
    """The manifest content the harness wrote: source types and training-mining entries."""
    manifest = report.get("active_manifest") or {}
    return {
        "digital_source_types": sorted({a.get("digital_source_type") or "" for a in manifest.get("actions", [])} - {""}),
        "training_mining": manifest.get("training_mining", {}),
    }


def state_summary(report: dict[str, Any]) -> dict[str, Any]:
    return {
        "manifest_present": report["manifest_present"],
        "state": report["validation_state"],
        "failure": failure_codes(report),
    }
