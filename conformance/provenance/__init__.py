"""C2PA content credentials: signing x validating, known files, tampering, pipelines,
hostile input, manifests in plain text (Annex A.8) and through text channels, CAWG identity
assertions.  Its transforms are the tampers (``tamper.<name>``, conformance/tamper.py) and the
identity assertion's (``tamper.identity_signature``, conformance/tamper_identity.py)."""

from __future__ import annotations

from typing import Any

from aiii_kit import Asset

from conformance.family import Family
from conformance.provenance.agreement import Agreement
from conformance.provenance.hostile import AttackStrings, Hostile
from conformance.provenance.identity import IdentityAssertion
from conformance.provenance.pipeline import Pipeline
from conformance.provenance.signing import PublicFiles, SignValidate
from conformance.provenance.tampering import Tamper
from conformance.provenance.text import TextChannels, TextEmbedding
from conformance.tamper import TAMPERS, TamperFn, TamperUnsupported
from conformance.tamper_identity import identity_signature
from runner.check import Transform, TransformUnsupported


def _tamper(fn: TamperFn) -> Transform:
    def apply(asset: Asset, params: dict[str, Any]) -> Asset:
        try:
            return Asset(fn(asset.data, asset.media_type), asset.media_type)
        except TamperUnsupported as exc:
            raise TransformUnsupported(str(exc)) from exc

    return apply


FAMILY = Family(
    name="provenance",
    checks=[SignValidate(), PublicFiles(), Tamper(), Pipeline(), AttackStrings(), Hostile(), TextEmbedding(),
            TextChannels(), Agreement(), IdentityAssertion()],
    transforms={**{f"tamper.{name}": _tamper(fn) for name, (fn, _codes) in TAMPERS.items()},
                "tamper.identity_signature": _tamper(identity_signature)},
)

__all__ = ["FAMILY", "Agreement", "AttackStrings", "Hostile", "IdentityAssertion", "Pipeline", "PublicFiles", "SignValidate",
           "Tamper", "TextChannels", "TextEmbedding"]
