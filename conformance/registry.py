"""Every check and harness transform the planner can use, by id."""

from __future__ import annotations

from typing import Any

from aiii_kit import Asset, Unsupported

from conformance.base import Check
from conformance.channels import CHANNELS, cache_version
from conformance.identifiers import (
    Differential,
    IdentifiersInMetadata,
    IsccAgreement,
    IsccCompare,
    IsccConformance,
    Recognition,
    RegistryIdentifiers,
    SoftBinding,
)
from conformance.metadata import MetadataPreservation, MetadataRoundTrip
from conformance.optout import PURPOSE_CHECKS, Conflicts, Malformed, Precedence
from conformance.provenance import AttackStrings, Hostile, Pipeline, PublicFiles, SignValidate, Tamper
from conformance.tamper import TAMPERS
from conformance.watermark import watermark_checks

CHECKS: dict[str, Check] = {
    c.id: c
    for c in (
        MetadataRoundTrip(),
        MetadataPreservation(),
        SignValidate(),
        PublicFiles(),
        Tamper(),
        Pipeline(),
        AttackStrings(),
        Hostile(),
        IsccConformance(),
        IsccAgreement(),
        Recognition(),
        IsccCompare(),
        RegistryIdentifiers(),
        Differential(),
        IdentifiersInMetadata(),
        SoftBinding(),
        *watermark_checks(),
        *PURPOSE_CHECKS,
        Precedence(),
        Malformed(),
        Conflicts(),
    )
}


def _tamper(name: str):  # type: ignore[no-untyped-def]
    fn = TAMPERS[name][0]

    def apply(asset: Asset, params: dict[str, Any]) -> Asset:
        try:
            return Asset(fn(asset.data, asset.media_type), asset.media_type)
        except ValueError as exc:
            if "not supported" in str(exc):
                raise Unsupported(str(exc)) from exc
            raise

    return apply


def _literal(asset: Asset, params: dict[str, Any]) -> Asset:
    """Bytes given in the params (hex), as an asset: the conformance data's stream inputs."""
    return Asset(bytes.fromhex(params["hex"]), "application/octet-stream")


TRANSFORMS = {f"tamper.{name}": _tamper(name) for name in TAMPERS}
TRANSFORMS.update(CHANNELS)
TRANSFORMS["harness.bytes"] = _literal


def transform_version(name: str) -> str | None:
    """What a transform's output depends on besides input and params, for the persistent
    step cache: the channels' library versions and code.  Tamper and literal transforms
    are cheap and stay cached within a run only."""
    return cache_version(name) if name in CHANNELS else None
