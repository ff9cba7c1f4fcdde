"""Metadata and C2PA in a pipeline: write by A, sign by B, read by C (and sign then
write, which must break the binding)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from conformance.base import Answers, Check, PlanContext, planned
from conformance.c2pa import (
    failure_codes,
    read_params,
    sign_params,
    signed_state,
    state_summary,
    validates,
)
from conformance.fields import declared_fields, normalisations, normalise, value_sets
from conformance.provenance.signing import signable
from runner.model import Cell, CellContext, Outcome, Verdict, vendor_step


@dataclass(frozen=True)
class PipelineContext(CellContext):
    """Write then sign (or sign then write): the fields written, by whom, in which order,
    the normalisation passes, and the state a sound signature reads as."""

    order: str
    expected: dict[str, str]
    writer: str
    validates: bool
    passes: list[str]
    state: str


class Pipeline(Check):
    judges_clean_errors = True
    id = "provenance.pipeline"
    title = "Metadata then C2PA: write by A, sign by B, read by C"
    family = "provenance"
    description = (
        "Metadata written first, then signed: both survive and the manifest validates. The reverse order"
        " (sign, then write metadata) must be reported Invalid by every validator: a negative control."
    )

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        fields = value_sets({})["ascii"]
        writers = ctx.with_op("metadata.write")
        readers = [v for v in ctx.with_op("provenance.read")]
        for vector, s in signable(ctx):
            mt = vector.media_type
            if not s.capability("provenance.sign", mt):
                continue
            for w in writers:
                if not (w.capability("metadata.write", mt) and w.capability("metadata.read", mt)):
                    continue
                values = {k: v for k, v in fields.items() if k in declared_fields(w, "metadata.write", mt)}
                for v in readers:
                    for order in ("write-then-sign", "sign-then-write"):
                        cell = self.cell(ctx, vector=vector.id, producer=f"{w.id}+{s.id}", consumer=v.id, variant=order)
                        missing = (f"{v.id} does not read manifests in {mt}" if not v.capability("provenance.read", mt) else
                                   f"{v.id} does not validate, so cannot see the broken binding"
                                   if order == "sign-then-write" and not validates(v, mt) else None)
                        if missing:
                            yield planned(cell, missing)
                            continue
                        sp = sign_params(ctx, s.id, f"aiii {vector.id}")
                        if order == "write-then-sign":
                            first = vendor_step(w.id, "metadata.write", vector.id, {"fields": values})
                            last = vendor_step(s.id, "provenance.sign", first, sp)
                            steps = {"written": first, "signed": last}
                        else:
                            first = vendor_step(s.id, "provenance.sign", vector.id, sp)
                            last = vendor_step(w.id, "metadata.write", first, {"fields": values})
                            steps = {"signed": first, "written": last}
                        steps["metadata"] = vendor_step(w.id, "metadata.read", last, {})
                        steps["read"] = vendor_step(v.id, "provenance.read", last, read_params(ctx, True))
                        passes = sorted(set(normalisations(w, "metadata.write", mt)) | set(normalisations(w, "metadata.read", mt)))
                        context = PipelineContext(order=order, expected=values, writer=w.id, validates=validates(v, mt),
                                                  passes=passes, state=signed_state(v, mt))
                        yield planned(cell, steps=steps, context=context)

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        ctx = cell.context_as(PipelineContext)
        res = answers.results["read"]
        if not res.ok:  # a clean refusal: the validator cannot parse what the pipeline made
            return Verdict(Outcome.FAIL, f"validator refused the file instead of reporting a state: {res.error}",
                           {"refused": res.error})
        read = answers.report("read")
        got_meta = answers.report("metadata")["fields"]
        passes = ctx.passes
        lost = sorted(k for k, v in ctx.expected.items()
                      if k not in got_meta or normalise(got_meta[k], passes) != normalise(v, passes))
        m = {"reader": state_summary(read), "metadata_lost_or_altered": lost, "normalisation": passes}
        if ctx.order == "sign-then-write":
            if not read["manifest_present"]:
                return Verdict(Outcome.FAIL, f"no manifest found after {ctx.writer} wrote metadata into the signed asset", m)
            if read["validation_state"] != "Invalid":
                return Verdict(Outcome.FAIL, f"metadata written after signing, yet reported {read['validation_state']}", m)
            return Verdict(Outcome.PASS, f"Invalid as it must be: {', '.join(failure_codes(read))}", m)
        problems = []
        if lost:
            problems.append(f"metadata lost or altered by signing: {', '.join(lost)}")
        if not read["manifest_present"]:
            problems.append("no manifest")
        elif ctx.validates and read["validation_state"] != ctx.state:
            problems.append(f"manifest {read['validation_state']} {failure_codes(read)}, expected {ctx.state}")
        if problems:
            return Verdict(Outcome.FAIL, "; ".join(problems), m)
        return Verdict(Outcome.PASS, "metadata kept and manifest " + (read["validation_state"] or "decoded"), m)
