"""Embedded metadata (XMP / IPTC / PLUS / ID3 / Vorbis): round trips and preservation."""

from __future__ import annotations

from collections.abc import Iterable

from conformance.base import Answers, Check, PlanContext
from conformance.fields import FieldRoundTrip, content_hash, declared_fields, value_sets
from runner.model import Cell, Outcome, Verdict, vendor_step


class MetadataRoundTrip(FieldRoundTrip):
    id = "metadata.roundtrip"
    title = "Metadata round trip (writer x reader x format)"
    family = "metadata"
    description = (
        "Each writer writes the canonical fields; each reader must read back every field both"
        " declare, equal after the normalisation passes they declare."
    )



class MetadataPreservation(Check):
    id = "metadata.preservation"
    title = "Writing metadata leaves pixels and samples untouched"
    family = "metadata"
    description = "The hash of the decoded content is equal before and after a writer writes the canonical fields."

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        values = value_sets({})["ascii"]
        for vector in ctx.vectors:
            for w in ctx.with_op("metadata.write"):
                if not w.capability("metadata.write", vector.media_type):
                    continue
                fields = declared_fields(w, "metadata.write", vector.media_type)
                step = vendor_step(w.id, "metadata.write", vector.id, {"fields": {k: v for k, v in values.items() if k in fields}})
                yield self.cell(ctx, vector=vector.id, producer=w.id, consumer=None, variant=None, steps={"written": step})

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        before, what = content_hash(answers.source())
        after, what_after = content_hash(answers.asset("written"))
        m = {"decoded": what, "before": before, "after": after}
        if before != after:
            return Verdict(Outcome.FAIL, f"decoded content changed ({what} -> {what_after})", m)
        return Verdict(Outcome.PASS, f"decoded content unchanged ({what})", m)

