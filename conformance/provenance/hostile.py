"""Hostile input: attack strings signed as titles, and hostile files every reader must
survive with a state or a clean refusal."""

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
from conformance.provenance.signing import signable
from runner.model import Cell, CellContext, Outcome, Verdict, vendor_step


@dataclass(frozen=True)
class TitleContext(CellContext):
    """The title signed (an attack string), and the state a sound signature reads as."""

    title: str
    validates: bool
    state: str


class AttackStrings(Check):
    id = "provenance.attack_strings"
    title = "Injection strings in manifest fields"
    family = "provenance"
    description = "Attack strings signed into the manifest title come back unchanged and the manifest still validates."

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        strings = [(name, i, s) for name, lines in sorted(ctx.fixtures.attack_strings.items())
                   for i, s in enumerate(lines[: ctx.config.params.get("per_file", 2)])]
        for vector, s in signable(ctx):
            mt = vector.media_type
            if not s.capability("provenance.sign", mt):
                continue
            for name, i, text in strings:
                signed = vendor_step(s.id, "provenance.sign", vector.id, sign_params(ctx, s.id, text))
                for v in ctx.with_op("provenance.read"):
                    cell = self.cell(ctx, vector=vector.id, producer=s.id, consumer=v.id, variant=f"{name}-{i}")
                    if not v.capability("provenance.read", mt):
                        yield planned(cell, f"{v.id} does not read manifests in {mt}")
                        continue
                    read = vendor_step(v.id, "provenance.read", signed, read_params(ctx, True))
                    yield planned(cell, steps={"signed": signed, "read": read},
                                  context=TitleContext(title=text, validates=validates(v, mt), state=signed_state(v, mt)))

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        ctx = cell.context_as(TitleContext)
        read = answers.report("read")
        title = (read.get("active_manifest") or {}).get("title")
        m = {"title_read": title, "title_written": ctx.title, "reader": state_summary(read)}
        if not read["manifest_present"]:
            return Verdict(Outcome.FAIL, "no manifest found", m)
        if ctx.validates and read["validation_state"] != ctx.state:
            return Verdict(Outcome.FAIL, f"manifest {read['validation_state']} {failure_codes(read)}, expected {ctx.state}", m)
        if title is None:
            return Verdict(Outcome.PASS, "manifest intact; this reader does not report the title", m)
        if title != ctx.title:
            return Verdict(Outcome.FAIL, f"title altered: {len(ctx.title)} -> {len(title)} characters", m)
        return Verdict(Outcome.PASS, "title read back unchanged", m)


class Hostile(Check):
    id = "provenance.hostile"
    title = "Hostile files: every reader answers or refuses cleanly"
    family = "provenance"
    description = (
        "The RIFF bomb, the ID3 underflow, the unsupported type and other malformed files go to every"
        " manifest and metadata reader: each returns a result or a clean error, never a crash or a hang."
    )
    judges_clean_errors = True

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        for vector in ctx.vectors:
            for op in ("provenance.read", "metadata.read"):
                for v in ctx.with_op(op):
                    params = read_params(ctx, True) if op == "provenance.read" else {}
                    step = vendor_step(v.id, op, vector.id, params)
                    yield self.cell(ctx, vector=vector.id, producer=None, consumer=v.id, variant=op.split(".")[0], steps={"read": step})

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        res = answers.results["read"]
        if not res.ok:
            return Verdict(Outcome.PASS, f"refused cleanly: {res.error}", {"refused": True})
        report = res.report or {}
        summary = state_summary(report) if "manifest_present" in report else {"fields": sorted(report.get("fields", {}))}
        return Verdict(Outcome.PASS, "answered", {"refused": False, "answer": summary})
