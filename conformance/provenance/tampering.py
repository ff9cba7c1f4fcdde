"""Tampered manifests: one change per cell (pixel, assertion, signature, strip) after
signing; each reader must report the failure c2pa-rs reports."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from conformance.base import Answers, Check, PlanContext, planned
from conformance.c2pa import (
    read_params,
    sign_params,
    state_summary,
    validates,
)
from conformance.provenance.signing import signable
from conformance.tamper import TAMPERS
from runner.model import Cell, CellContext, Outcome, Verdict, transform_step, vendor_step


@dataclass(frozen=True)
class TamperContext(CellContext):
    """A tamper cell's kind and the failure codes c2pa-rs reports for it (None: any)."""

    kind: str
    expected: Sequence[str] | None


class Tamper(Check):
    id = "provenance.tamper"
    title = "Tampered signed assets"
    family = "provenance"
    description = (
        "One byte of the bound content, of an assertion or of the signature changed, or the manifest"
        " stripped: validators must report Invalid with the right code, or no manifest."
    )

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        kinds = ctx.config.params.get("tampers", list(TAMPERS))
        readers = ctx.with_op("provenance.read")
        for vector, s in signable(ctx):
            mt = vector.media_type
            if not s.capability("provenance.sign", mt):
                continue
            signed = vendor_step(s.id, "provenance.sign", vector.id, sign_params(ctx, s.id, f"aiii {vector.id}"))
            for kind in kinds:
                tampered = transform_step(f"tamper.{kind}", signed)
                for v in readers:
                    cell = self.cell(ctx, vector=vector.id, producer=s.id, consumer=v.id, variant=kind)
                    missing = (f"{v.id} does not read manifests in {mt}" if not v.capability("provenance.read", mt) else
                               f"{v.id} decodes but does not validate manifests"
                               if kind != "strip" and not validates(v, mt) else None)
                    if missing:
                        yield planned(cell, missing)
                        continue
                    read = vendor_step(v.id, "provenance.read", tampered, read_params(ctx, True))
                    context = TamperContext(kind=kind, expected=TAMPERS[kind][1])
                    yield planned(cell, steps={"signed": signed, "tampered": tampered, "read": read}, context=context)

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        ctx = cell.context_as(TamperContext)
        read = answers.report("read")
        got = state_summary(read)
        m = {"reader": got, "expected_codes": ctx.expected}
        if ctx.kind == "strip":
            if read["manifest_present"]:
                return Verdict(Outcome.FAIL, f"manifest still reported after stripping ({got['state']})", m)
            return Verdict(Outcome.PASS, "no manifest", m)
        if not read["manifest_present"]:
            return Verdict(Outcome.FAIL, "manifest no longer found after a one-byte change", m)
        if read["validation_state"] != "Invalid":
            return Verdict(Outcome.FAIL, f"reported {read['validation_state']} for a tampered asset", m)
        expected = ctx.expected or []
        if expected and not set(expected) & set(got["failure"]):
            return Verdict(Outcome.FAIL, f"Invalid, but with {got['failure']} instead of {expected}", m)
        return Verdict(Outcome.PASS, f"Invalid: {', '.join(got['failure'])}", m)
