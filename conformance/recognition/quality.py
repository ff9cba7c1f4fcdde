"""``recognition.quality``: whether a quality gate means the same in two implementations
of one algorithm.

PDQ gives a quality with each hash, and a consumer drops hashes below a gate (Meta's
documentation: 50 of 100) before matching.  Each implementation reports quality on its
own scale (``quality_scale``: 0-100 in Meta's C++, 0-1 in the Rust crate), so the gate is
held as a share of each one's declared scale.  Both implementations rate every corpus
member, untouched and after each channel; the gate means the same when both keep and
drop the same fingerprints.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from conformance.base import Answers, CellContext, Check, PlanContext, planned
from conformance.channels import NamedChannel
from conformance.corpus import through
from conformance.recognition.fingerprints import (
    Fingerprint,
    Fingerprinter,
    NoFingerprint,
    channel_names,
    compute_params,
    fingerprinters,
    pairs,
    read,
    refused,
)
from conformance.trials import Trials
from runner.errors import PlanError
from runner.model import Cell, Outcome, Step, StepResult, Verdict, with_context

#: The gate as a share of the declared scale: PDQ's documented 50 of 100.
GATE: dict[str, float] = {"pdq": 0.5}
CHANNELS_DEFAULT = ("jpeg-q50", "resize-0.5", "blur-1", "noise-0.02")


@dataclass(frozen=True)
class QualityPlan(CellContext):
    """Two implementations' qualities over a corpus and its channel versions, and the gate."""

    a: Fingerprinter
    b: Fingerprinter
    members: tuple[str, ...]
    channels: tuple[NamedChannel | None, ...]
    gate: float
    params: dict[str, Any]


@dataclass(frozen=True)
class Rated:
    """One item both rated: the member, the channel, and each one's quality (None: none given)."""

    member: str
    channel: str
    a: float | None
    b: float | None


@dataclass(frozen=True)
class QualityEvidence(CellContext):
    plan: QualityPlan
    items: tuple[Rated, ...]
    scale_a: tuple[float, float] | None
    scale_b: tuple[float, float] | None
    errors: tuple[str, ...]


def normalised(q: float, scale: tuple[float, float] | None) -> float:
    """A quality as a share of its declared scale (the raw value when none is declared)."""
    if scale is None or scale[1] == scale[0]:
        return q
    return (q - scale[0]) / (scale[1] - scale[0])


def spearman(xs: list[float], ys: list[float]) -> float | None:
    """Spearman's rank correlation (average ranks for ties); None below three items or
    when one side is constant."""
    if len(xs) < 3:
        return None

    def ranks(values: list[float]) -> list[float]:
        order = sorted(range(len(values)), key=lambda i: values[i])
        out = [0.0] * len(values)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
                j += 1
            for k in range(i, j + 1):
                out[order[k]] = (i + j) / 2
            i = j + 1
        return out

    rx, ry = ranks(xs), ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    sx = sum((r - mx) ** 2 for r in rx) ** 0.5
    sy = sum((r - my) ** 2 for r in ry) ** 0.5
    if not sx or not sy:
        return None
    return sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True)) / (sx * sy)


class QualityGate(Check):
    id = "recognition.quality"
    title = "A quality gate means the same in both implementations"
    family = "recognition"
    description = (
        "Two implementations of an algorithm that report a quality rate every corpus member, untouched and after"
        " each channel. The profile's gate (a share of each one's declared quality scale, PDQ: 0.5) must keep and"
        " drop the same fingerprints in both; their scales, rank correlation and every disagreement are shown."
    )

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        gates = {**GATE, **dict(ctx.config.params.get("gate", {}))}
        names = channel_names(ctx, CHANNELS_DEFAULT)
        extra = compute_params(ctx)
        for algorithm, a, b in pairs(fingerprinters(ctx)):
            if algorithm not in gates:
                continue  # no gate for this algorithm: nothing to hold the qualities to
            vectors = [v for v in ctx.vectors if a.takes(v.media_type) or b.takes(v.media_type)]
            if not vectors:
                continue
            tag = hashlib.sha256(" ".join(v.id for v in vectors).encode()).hexdigest()[:6]
            if ctx.corpus is None:
                raise PlanError("this planner cannot make corpus vectors")
            corpus = ctx.corpus(f"recognition-quality-{len(vectors)}-{tag}", vectors)
            cell = self.cell(ctx, vector=corpus.id, producer=a.vendor, consumer=b.vendor, variant=algorithm)
            lacking = refused((a, b), vectors)
            if lacking:
                yield planned(cell, f"{a.vendor} or {b.vendor} fingerprint no {', '.join(lacking)}")
                continue
            kind = vectors[0].media_type.split("/", 1)[0]
            channels = (None, *(ctx.channels[n] for n in names if ctx.channels[n].kind == kind))
            yield planned(cell, context=QualityPlan(a=a, b=b, members=tuple(v.id for v in vectors), channels=channels,
                                                    gate=float(gates[algorithm]), params=extra))

    def expand(self, cell: Cell, step: Callable[[Step], StepResult]) -> Cell:
        c = cell.context_as(QualityPlan)
        items = [(m, ch) for m in c.members for ch in c.channels]
        steps = [f.step(through(ch, m), m, c.params) for m, ch in items for f in (c.a, c.b)]
        results = Trials(step).run(steps)
        errors: list[str] = []
        scales: dict[str, tuple[float, float] | None] = {"a": None, "b": None}

        def rate(fp: Fingerprinter, side: str, res: StepResult) -> float | None:
            if not res.ok or res.report is None:
                errors.append(f"{fp.vendor}: {res.error}")
                return None
            try:
                got: Fingerprint = read(fp, res.report)
            except NoFingerprint as exc:
                errors.append(f"{fp.vendor}: {exc}")
                return None
            scales[side] = scales[side] or got.scale
            return got.quality

        rated = []
        for k, (m, ch) in enumerate(items):
            qa = rate(c.a, "a", results[2 * k])
            qb = rate(c.b, "b", results[2 * k + 1])
            rated.append(Rated(member=m, channel=ch.name if ch else "none", a=qa, b=qb))
        evidence = QualityEvidence(plan=c, items=tuple(rated), scale_a=scales["a"], scale_b=scales["b"],
                                   errors=tuple(dict.fromkeys(errors))[:5])
        return with_context(cell, evidence, steps={})

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        e = cell.context_as(QualityEvidence)
        p = e.plan
        a, b = p.a.vendor, p.b.vendor
        silent = [v for v, side in ((a, "a"), (b, "b")) if all(getattr(r, side) is None for r in e.items)]
        if silent:
            return Verdict(Outcome.UNSUPPORTED, f"{' and '.join(silent)} report no {p.a.algorithm} quality")
        both = [r for r in e.items if r.a is not None and r.b is not None]
        undeclared = [v for v, s in ((a, e.scale_a), (b, e.scale_b)) if s is None]
        na = [normalised(float(r.a), e.scale_a) for r in both]  # type: ignore[arg-type]
        nb = [normalised(float(r.b), e.scale_b) for r in both]  # type: ignore[arg-type]
        keep_a = [x >= p.gate for x in na]
        keep_b = [y >= p.gate for y in nb]
        differ = [{"member": r.member, "channel": r.channel, a: r.a, b: r.b}
                  for r, ka, kb in zip(both, keep_a, keep_b, strict=True) if ka != kb]
        rho = spearman(na, nb)
        m: dict[str, Any] = {"quality": {
            "algorithm": p.a.algorithm, "gate_share": p.gate, "scales": {a: e.scale_a, b: e.scale_b},
            "same_scale": e.scale_a == e.scale_b, "rated": len(both), "kept": {a: sum(keep_a), b: sum(keep_b)},
            "disagreements": len(differ), "spearman": None if rho is None else round(rho, 4),
            "pairs": [[r.a, r.b] for r in both], "examples": differ[:10]}}
        if e.errors:
            m["errors"] = list(e.errors)
        if not both:
            return Verdict(Outcome.ERROR, f"no item both rated (first error: {e.errors[0] if e.errors else 'none'})", m)
        scales = (f"scales {e.scale_a} and {e.scale_b}" if e.scale_a != e.scale_b else f"one scale {e.scale_a}")
        text = (f"gate {p.gate:g} of each scale ({scales}): {a} keeps {sum(keep_a)}, {b} keeps {sum(keep_b)} of"
                f" {len(both)}; rank correlation {'n/a' if rho is None else f'{rho:.3f}'}")
        if undeclared:
            return Verdict(Outcome.FAIL, f"{', '.join(undeclared)} declare no quality scale, so a gate on its quality"
                                         f" has no stated meaning; {text}", m)
        if differ:
            first = differ[0]
            return Verdict(Outcome.FAIL, f"the gate means different things: {len(differ)} of {len(both)} fingerprints"
                                         f" kept by one and dropped by the other (first: {first['member']} after"
                                         f" {first['channel']}: {a} {first[a]}, {b} {first[b]}); {text}", m)
        return Verdict(Outcome.PASS, f"the gate keeps and drops the same fingerprints in both; {text}", m)
