"""``recognition.iscc``: ISO 24138 content codes survive distribution channels and tell
different works apart (the check that was ``recognition.iscc``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from conformance.base import Answers, Check, PlanContext, planned
from conformance.channels import chain_steps, describe_channel
from conformance.iscc_codes import generate_params, iscc_vendors, unit_distance
from conformance.recognition.fingerprints import channel_names
from runner.model import (
    Cell,
    CellContext,
    Outcome,
    Vector,
    Verdict,
    vendor_step,
)

#: The channels of the catalogue (conformance/channels.py) a content code is tried
#: through unless the profile names others.
RECOGNITION_DEFAULT = ("jpeg-q50", "resize-0.5", "mp3-128k", "resample-16k")


@dataclass(frozen=True)
class RecognitionContext(CellContext):
    """A recognition cell: ``kind`` "same" (the vector against its channel version:
    ``channel``, ``described``) or "different" (against the ``other`` vector), and the
    threshold the distance is held to (None: the profile's ``threshold_bits`` has none for
    the vector's media kind), for codes of ``bits`` bits."""

    kind: str
    threshold: int | None
    bits: int
    channel: str | None = None
    described: Mapping[str, Any] | None = None
    other: str | None = None


class IsccRecognition(Check):
    id = "recognition.iscc"
    title = "ISCC content codes through distribution channels"
    family = "recognition"
    description = (
        "The content-code distance between a vector and its channel versions stays at or under the profile's"
        " threshold; between different vectors of one kind it stays above it. Distances are reported."
    )

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        params = ctx.config.params
        bits = int(params.get("bits", 64))
        threshold = dict(params.get("threshold_bits", {"image": 8, "audio": 8}))
        channels = channel_names(ctx, RECOGNITION_DEFAULT)
        for v in iscc_vendors(ctx):
            by_kind: dict[str, list[Vector]] = {}
            for vector in ctx.vectors:
                kind = vector.media_type.split("/", 1)[0]
                by_kind.setdefault(kind, []).append(vector)
                gen = vendor_step(v.id, "identifier.generate", vector.id, generate_params(vector, bits, ["content"]))
                for name in channels:
                    channel = ctx.channels[name]
                    if channel.kind != kind:
                        continue
                    cell = self.cell(ctx, vector=vector.id, producer=None, consumer=v.id, variant=name)
                    if not v.capability("identifier.generate", vector.media_type):
                        yield planned(cell, f"{v.id} makes no ISCC of {vector.media_type}")
                        continue
                    moved = chain_steps(channel, vector.id)
                    again = vendor_step(v.id, "identifier.generate", moved[-1], generate_params(vector, bits, ["content"]))
                    context = RecognitionContext(kind="same", threshold=threshold.get(kind), bits=bits, channel=name,
                                                 described=describe_channel(channel))
                    roles = {"channel" if i == len(moved) - 1 else f"channel.{i}": s for i, s in enumerate(moved)}
                    yield planned(cell, steps={"original": gen, **roles, "transformed": again}, context=context)
            for kind, group in by_kind.items():
                for first, second in zip(group, group[1:] + group[:1], strict=True):
                    if first.id == second.id or (first.source or first.id) == (second.source or second.id):
                        continue
                    if not (v.capability("identifier.generate", first.media_type) and v.capability("identifier.generate", second.media_type)):
                        continue
                    cell = self.cell(ctx, vector=first.id, producer=None, consumer=v.id, variant=f"vs-{second.id}")
                    context = RecognitionContext(kind="different", threshold=threshold.get(kind), bits=bits, other=second.id)
                    yield planned(cell, steps={
                        "original": vendor_step(v.id, "identifier.generate", first.id, generate_params(first, bits, ["content"])),
                        "other": vendor_step(v.id, "identifier.generate", second.id, generate_params(second, bits, ["content"])),
                    }, context=context)

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        ctx = cell.context_as(RecognitionContext)
        role = "transformed" if ctx.kind == "same" else "other"
        first, second = answers.report("original"), answers.report(role)
        a, b = first.get("codes", {}).get("content"), second.get("codes", {}).get("content")
        if a is None or b is None:
            why = (first.get("not_made") or {}).get("content") or (second.get("not_made") or {}).get("content") or "no content code"
            return Verdict(Outcome.UNSUPPORTED, f"no content code: {why}")
        try:
            _unit, distance = unit_distance(a, b)
        except ValueError as exc:
            return Verdict(Outcome.FAIL, f"content codes are not comparable: {exc}", {"codes": [a, b]})
        threshold = ctx.threshold
        if threshold is None:
            return Verdict(Outcome.ERROR, "the profile's threshold_bits has no threshold for this media kind", {"codes": [a, b]})
        measurements = {"distance_bits": distance, "threshold_bits": threshold, "code_bits": ctx.bits, "codes": [a, b]}
        if ctx.kind == "same":
            measurements["channel"] = ctx.described
            if distance <= threshold:
                return Verdict(Outcome.PASS, f"recognised after {ctx.channel}: distance {distance} <= {threshold}", measurements)
            return Verdict(Outcome.FAIL, f"not recognised after {ctx.channel}: distance {distance} > {threshold}", measurements)
        measurements["other"] = ctx.other
        if distance > threshold:
            return Verdict(Outcome.PASS, f"told apart from {ctx.other}: distance {distance} > {threshold}", measurements)
        return Verdict(Outcome.FAIL, f"confused with {ctx.other}: distance {distance} <= {threshold}", measurements)
