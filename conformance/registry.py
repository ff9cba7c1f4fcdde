"""Every check and harness transform the planner can use, by id."""

from __future__ import annotations

from typing import Any

from conformance.base import Check
from conformance.metadata import MetadataPreservation, MetadataRoundTrip
from conformance.provenance import AttackStrings, Hostile, Pipeline, PublicFiles, SignValidate, Tamper
from conformance.tamper import TAMPERS
from runner.adapter import Asset, Unsupported

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


TRANSFORMS = {f"tamper.{name}": _tamper(name) for name in TAMPERS}
