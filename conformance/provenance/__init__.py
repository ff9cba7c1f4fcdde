"""C2PA content credentials: signing x validating, known files, tampering, pipelines,
hostile input.  Its transforms are the tampers (``tamper.<name>``, conformance/tamper.py)."""

from __future__ import annotations

from typing import Any

from aiii_kit import Asset

from conformance.family import Family
from conformance.provenance.hostile import AttackStrings, Hostile
from conformance.provenance.pipeline import Pipeline
from conformance.provenance.signing import PublicFiles, SignValidate
from conformance.provenance.tampering import Tamper
from conformance.tamper import TAMPERS, TamperUnsupported
from runner.check import Transform, TransformUnsupported


def _tamper(name: str) -> Transform:
    fn = TAMPERS[name][0]

    def apply(asset: Asset, params: dict[str, Any]) -> Asset:
        try:
            return Asset(fn(asset.data, asset.media_type), asset.media_type)
        except TamperUnsupported as exc:
            raise TransformUnsupported(str(exc)) from exc

    return apply


FAMILY = Family(
    name="provenance",
    checks=[SignValidate(), PublicFiles(), Tamper(), Pipeline(), AttackStrings(), Hostile()],
    transforms={f"tamper.{name}": _tamper(name) for name in TAMPERS},
)

__all__ = ["FAMILY", "AttackStrings", "Hostile", "Pipeline", "PublicFiles", "SignValidate", "Tamper"]
