"""``recognition.agreement`` (two implementations of one algorithm fingerprint the same
file alike) and ``recognition.cross`` (one implementation's fingerprint of the original
finds another's fingerprint of what a distribution channel made of it)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from conformance.base import Answers, Check, PlanContext, planned
from conformance.channels import chain_steps, describe_channel
from conformance.recognition.fingerprints import (
    Fingerprinter,
    NoFingerprint,
    channel_names,
    compute_params,
    distance,
    fingerprinters,
    pairs,
    per_algorithm,
    read,
    unit,
    within,
)
from runner.errors import PlanError
from runner.model import Cell, CellContext, Outcome, Verdict

#: Bit-identical unless the profile allows more.
TOLERANCE: dict[str, float] = {}
#: Match thresholds per algorithm (bits; Chromaprint: bit-error rate): PDQ's documented
#: 31 of 256, 10 of 64 for the imagehash family (about 15 %), 8 of 64 for ISCC content
#: codes (the ISCC recognition check's), 0.15 for Chromaprint sequences.
THRESHOLD: dict[str, float] = {"pdq": 31, "ahash": 10, "phash": 10, "dhash": 10, "whash": 10, "colorhash": 10,
                               "iscc-content": 8, "chromaprint": 0.15}
#: Channels a cross-implementation match is tried through unless the profile names others.
CROSS_DEFAULT = ("jpeg-q50", "resize-0.5", "social-media", "mp3-128k", "resample-16k")


@dataclass(frozen=True)
class PairContext(CellContext):
    """Two fingerprinters of one algorithm and how far apart they may be."""

    a: Fingerprinter
    b: Fingerprinter
    limit: float
    channel: dict[str, Any] | None = None


def _missing(fps: Iterable[Fingerprinter], media_type: str) -> str | None:
    lacking = [f.vendor for f in fps if not f.takes(media_type)]
    return f"{', '.join(lacking)} fingerprint no {media_type}" if lacking else None


def _both(answers: Answers, ctx: PairContext, first: str, second: str) -> Any:
    """Both fingerprints, or the verdict saying why there are not two to compare."""
    try:
        return read(ctx.a, answers.report(first)), read(ctx.b, answers.report(second))
    except NoFingerprint as exc:
        return Verdict(Outcome.UNSUPPORTED, f"no fingerprint to compare: {exc}")


class Agreement(Check):
    id = "recognition.agreement"
    title = "Fingerprint agreement between implementations of one algorithm"
    family = "recognition"
    description = (
        "For each algorithm with two implementations (PDQ, pHash and colour hash, Chromaprint, ISCC content"
        " codes), both fingerprint every vector and derived format: bit-identical, or within the profile's"
        " tolerance. Every difference is shown with its distance."
    )

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        tolerance = per_algorithm(ctx, "tolerance", TOLERANCE)
        extra = compute_params(ctx)
        for algorithm, a, b in pairs(fingerprinters(ctx)):
            for vector in ctx.vectors:
                if not (a.takes(vector.media_type) or b.takes(vector.media_type)):
                    continue  # neither's kind of media: no cell at all
                cell = self.cell(ctx, vector=vector.id, producer=a.vendor, consumer=b.vendor, variant=algorithm)
                missing = _missing((a, b), vector.media_type)
                if missing:
                    yield planned(cell, missing)
                    continue
                context = PairContext(a=a, b=b, limit=tolerance.get(algorithm, 0.0))
                yield planned(cell, steps={"a": a.step(vector.id, vector, extra), "b": b.step(vector.id, vector, extra)},
                              context=context)

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        ctx = cell.context_as(PairContext)
        got = _both(answers, ctx, "a", "b")
        if isinstance(got, Verdict):
            return got
        fa, fb = got
        m: dict[str, Any] = {"algorithm": ctx.a.algorithm, "fingerprints": {ctx.a.vendor: fa.brief(), ctx.b.vendor: fb.brief()},
                             "tolerance": ctx.limit, "unit": unit(ctx.a),
                             "declared_distance": {ctx.a.vendor: ctx.a.distance, ctx.b.vendor: ctx.b.distance}}
        try:
            d = distance(fa, fb)
        except ValueError as exc:
            return Verdict(Outcome.FAIL, f"{ctx.a.algorithm} fingerprints are not comparable: {exc}", m)
        m.update(distance=d.as_dict(), identical=fa.data == fb.data)
        if fa.data == fb.data:
            return Verdict(Outcome.PASS, f"{ctx.a.algorithm}: bit-identical ({fa.bits} bits)", m)
        said = _said(d)
        if within(d, ctx.limit):
            return Verdict(Outcome.PASS, f"{ctx.a.algorithm}: {said}, within the tolerance {ctx.limit:g}", m)
        return Verdict(Outcome.FAIL, f"{ctx.a.algorithm}: {said}, beyond the tolerance {ctx.limit:g}", m)


def _said(d: Any) -> str:
    if d.kind == "hamming":
        return f"{int(d.value)} of {d.compared_bits} bits differ"
    at = f" at offset {d.offset}" if d.offset else ""
    return f"bit-error rate {d.value:.4f} over {d.compared_bits} bits{at}"


class Cross(Check):
    id = "recognition.cross"
    title = "Cross-implementation matching after distribution"
    family = "recognition"
    description = (
        "Implementation A fingerprints the original; implementation B fingerprints each channel's output; the"
        " two match when their distance is at most the profile's threshold for the algorithm. A's own"
        " fingerprint of the channel output is shown beside, so a miss that only the pairing causes stands out."
    )

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        threshold = per_algorithm(ctx, "threshold", THRESHOLD)
        extra = compute_params(ctx)
        names = channel_names(ctx, CROSS_DEFAULT)
        for algorithm, first, second in pairs(fingerprinters(ctx)):
            if algorithm not in threshold:
                raise PlanError(f"params.threshold: no threshold for {algorithm} (in {unit(algorithm)})")
            for a, b in ((first, second), (second, first)):
                for vector in ctx.vectors:
                    kind = vector.media_type.split("/", 1)[0]
                    if not (a.takes(vector.media_type) or b.takes(vector.media_type)):
                        continue
                    for name in names:
                        channel = ctx.channels[name]
                        if channel.kind != kind:
                            continue
                        cell = self.cell(ctx, vector=vector.id, producer=a.vendor, consumer=b.vendor,
                                         variant=f"{algorithm}/{name}", channel=name)
                        missing = _missing((a, b), vector.media_type)
                        if missing:
                            yield planned(cell, missing)
                            continue
                        moved = chain_steps(channel, vector.id)
                        roles = {"channel" if i == len(moved) - 1 else f"channel.{i}": s for i, s in enumerate(moved)}
                        context = PairContext(a=a, b=b, limit=threshold[algorithm], channel=describe_channel(channel))
                        yield planned(cell, steps={"original": a.step(vector.id, vector, extra), **roles,
                                                   "transformed": b.step(moved[-1], vector, extra),
                                                   "own": a.step(moved[-1], vector, extra)}, context=context)

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        ctx = cell.context_as(PairContext)
        got = _both(answers, ctx, "original", "transformed")
        if isinstance(got, Verdict):
            return got
        fa, fb = got
        alg = ctx.a.algorithm
        m: dict[str, Any] = {"algorithm": alg, "threshold": ctx.limit, "unit": unit(ctx.a), "channel": ctx.channel,
                             "fingerprints": {"original": fa.brief(), "transformed": fb.brief()}}
        try:
            d = distance(fa, fb)
        except ValueError as exc:
            return Verdict(Outcome.FAIL, f"{alg}: {ctx.a.vendor}'s and {ctx.b.vendor}'s fingerprints are not comparable:"
                                         f" {exc}", m)
        m["distance"] = d.as_dict()
        own_note = ""
        own = answers.results.get("own")
        if own is not None and own.ok and own.report is not None:
            try:
                od = distance(fa, read(ctx.a, own.report))
                m["own_distance"] = od.as_dict()
                own_note = f"; {ctx.a.vendor} against itself: {_said(od)}" + (
                    " (a match)" if within(od, ctx.limit) else " (no match either)")
            except (NoFingerprint, ValueError):
                pass
        name = (ctx.channel or {}).get("name")
        if within(d, ctx.limit):
            return Verdict(Outcome.PASS, f"{alg}: {ctx.a.vendor}'s original matches {ctx.b.vendor}'s after {name}:"
                                         f" {_said(d)} <= {ctx.limit:g}{own_note}", m)
        return Verdict(Outcome.FAIL, f"{alg}: {ctx.a.vendor}'s original does not match {ctx.b.vendor}'s after {name}:"
                                     f" {_said(d)} > {ctx.limit:g}{own_note}", m)
