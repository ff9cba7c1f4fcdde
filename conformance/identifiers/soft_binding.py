"""ISCC as a C2PA soft binding (IEP-0020 ``io.iscc.v0``): signed into a manifest,
recovered from the stripped asset by recomputing its ISCC."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from conformance.base import Answers, Check, PlanContext, planned
from conformance.c2pa import read_params, sign_params
from conformance.iscc_codes import decode_unit, iscc_vendors, unit_distance
from conformance.planning import option
from runner.model import (
    Cell,
    CellContext,
    Outcome,
    Step,
    StepResult,
    Verdict,
    transform_step,
    vendor_step,
)

# -- ISCC as a C2PA soft binding --------------------------------------------------------


def _binding_bytes(value: Any) -> bytes | None:
    """A soft-binding block value as a reader reports it (``bytes:<hex>`` or base64)."""
    if not isinstance(value, str):
        return None
    if value.startswith("bytes:"):
        return bytes.fromhex(value[6:])
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        return None


@dataclass(frozen=True)
class BindingVendors(CellContext):
    """Who builds the soft binding and who reads the signed manifest back."""

    builder: str
    reader: str


class IsccSoftBinding(Check):
    id = "identifiers.soft_binding"
    title = "ISCC as a C2PA soft binding (io.iscc.v0)"
    family = "identifiers"
    description = (
        "A builder (iscc-sdk) makes an io.iscc.v0 soft binding; each C2PA signer signs it into a manifest;"
        " the manifest store is stripped; each ISCC vendor recomputes the content code of the stripped"
        " asset, which must equal the Content-Code unit of the binding in the original manifest."
    )

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        builders = [v for v in ctx.with_op("identifier.generate")
                    if option(v, "identifier.generate", "soft_binding") == "io.iscc.v0"]
        readers = ctx.with_op("provenance.read")
        for vector in ctx.vectors:
            mt = vector.media_type
            for signer in ctx.with_op("provenance.sign"):
                for v in iscc_vendors(ctx):
                    cell = self.cell(ctx, vector=vector.id, producer=signer.id, consumer=v.id)
                    builder = next((b for b in builders if b.capability("identifier.generate", mt)), None)
                    reader = signer if signer.capability("provenance.read", mt) else next(
                        (r for r in readers if r.capability("provenance.read", mt)), None)
                    missing = [why for ok, why in (
                        (builder, f"no selected vendor builds io.iscc.v0 soft bindings of {mt}"),
                        (signer.capability("provenance.sign", mt), f"{signer.id} does not sign {mt}"),
                        (v.capability("identifier.generate", mt), f"{v.id} makes no ISCC of {mt}"),
                        (reader, f"no selected vendor reads manifests in {mt}"),
                    ) if not ok]
                    if missing:
                        yield planned(cell, "; ".join(missing))
                        continue
                    assert builder is not None and reader is not None
                    # "signed" and "read" are templates: expand() adds the binding to the signature
                    template = vendor_step(signer.id, "provenance.sign", vector.id, sign_params(ctx, signer.id, f"aiii {vector.id}"))
                    binding = vendor_step(builder.id, "identifier.generate", vector.id,
                                          {"scheme": "iscc", "soft_binding": True, "bits": 256, "units": ["content"]})
                    yield planned(cell, steps={"binding": binding, "signed": template,
                                               "read": vendor_step(reader.id, "provenance.read", template, read_params(ctx, True))},
                                  context=BindingVendors(builder=builder.id, reader=reader.id))

    def expand(self, cell: Cell, step: Callable[[Step], StepResult]) -> Cell:
        binding_step, template, read_template = cell.steps["binding"], cell.steps["signed"], cell.steps["read"]
        built = step(binding_step)
        if not built.ok or not built.report or "soft_binding" not in built.report:
            return replace(cell, steps={"binding": binding_step})  # judged from the builder's answer
        sb = built.report["soft_binding"]
        assert cell.producer and cell.consumer
        params = {**template.params, "soft_bindings": [{"alg": sb["alg"], "value_hex": sb["value_hex"],
                                                        "binding_metadata": sb.get("binding_metadata") or {}}]}
        signed = vendor_step(cell.producer, "provenance.sign", cell.vector, params)
        read = vendor_step(str(read_template.vendor), "provenance.read", signed, read_template.params)
        stripped = transform_step("tamper.strip", signed)
        again = vendor_step(cell.consumer, "identifier.generate", stripped,
                            {"scheme": "iscc", "bits": 256, "units": ["content"]})
        steps = {"binding": binding_step, "signed": signed, "read": read, "stripped": stripped, "recomputed": again}
        return replace(cell, steps=steps)

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        built = answers.report("binding")
        sb = built.get("soft_binding")
        if not sb:
            return Verdict(Outcome.ERROR, f"{cell.context_as(BindingVendors).builder} answered without a soft binding")
        content_units = [u for u in sb["units"] if _unit_name(u) == "content"]
        manifest = (answers.report("read").get("active_manifest") or {})
        stored = [b for b in manifest.get("soft_bindings") or [] if b.get("alg") == sb["alg"]]
        recomputed = answers.report("recomputed").get("codes", {}).get("content")
        measurements: dict[str, Any] = {"alg": sb["alg"], "binding_units": sb["units"], "recomputed_content": recomputed,
                                        "manifest_values": [b.get("value") for b in stored]}
        if not stored:
            return Verdict(Outcome.FAIL, f"the signed manifest carries no {sb['alg']} soft binding", measurements)
        if not any(_binding_bytes(b.get("value")) == bytes.fromhex(sb["value_hex"]) for b in stored):
            return Verdict(Outcome.FAIL, "the manifest's soft-binding value differs from the one signed", measurements)
        if not content_units:
            return Verdict(Outcome.UNSUPPORTED, "the soft binding holds no Content-Code unit (featureless image?)", measurements)
        if recomputed is None:
            why = (answers.report("recomputed").get("not_made") or {}).get("content", "no content code")
            return Verdict(Outcome.UNSUPPORTED, f"{cell.consumer} made no content code: {why}", measurements)
        if recomputed == content_units[0]:
            return Verdict(Outcome.PASS, "the stripped asset's Content-Code equals the binding's", measurements)
        try:
            measurements["distance_bits"] = unit_distance(recomputed, content_units[0])[1]
        except ValueError as exc:
            measurements["not_comparable"] = str(exc)
        return Verdict(Outcome.FAIL, f"recomputed Content-Code {recomputed} differs from the binding's {content_units[0]}"
                                     f" ({measurements.get('distance_bits', '?')} bits)", measurements)


def _unit_name(code: str) -> str | None:
    try:
        return decode_unit(code)[0]
    except ValueError:
        return None
