"""``watermark.robustness``: the true-positive rate of each embedder's own detector
through each channel, with its Wilson interval."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from conformance.base import Answers, CellContext, PlanContext, planned
from conformance.channels import NamedChannel, describe_channel
from conformance.corpus import (
    EMBED,
    CorpusCheck,
    chosen_channels,
    handles,
    profile_params,
    source,
    through,
    trials_for,
    watermarkers,
)
from conformance.statistics import (
    judge_rate_at_least,
    wilson,
)
from conformance.trials import (
    Count,
    DetectorSpec,
    Probe,
    Threshold,
    TrialLog,
    Trials,
    ci_bounds,
    decided,
    detector_spec,
    finite_only,
    mark,
    threshold,
)
from runner.model import (
    Cell,
    Outcome,
    Step,
    StepResult,
    Verdict,
    vendor_step,
    with_context,
)


@dataclass(frozen=True)
class RobustnessPlan(CellContext):
    """One embedder through one channel (None: untouched): its detector, the marks per
    vector and the rate to reach."""

    kind: str
    detector: DetectorSpec
    trials: int
    min_tpr: float
    channel: NamedChannel | None


@dataclass(frozen=True)
class RobustnessEvidence(CellContext):
    """What the trials gave: the statistic of each marked and each clean trial (through the
    channel), the bit accuracies, and the vendor's own decisions on both."""

    plan: RobustnessPlan
    threshold: Threshold
    positives: tuple[float, ...]
    negatives: tuple[float, ...]
    bit_accuracy: tuple[float, ...]
    own_marked: Count
    own_clean: Count
    log: TrialLog


class Robustness(CorpusCheck):
    id = "watermark.robustness"
    title = "Watermark robustness through distribution channels"
    family = "watermark"
    description = (
        "Each embedder marks every corpus vector with several keys and payloads; each distribution channel"
        " transforms the marked file; the vendor's own detector decides at a threshold derived for the target"
        " false-positive rate (binomial tail for multi-bit, calibrated on clean content for zero-bit). Pass: the"
        " 95 % Wilson interval of the true-positive rate lies at or above the profile's min_tpr."
    )

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        params = profile_params(ctx)
        for kind, corpus in self.corpora(ctx).items():
            channels = chosen_channels(ctx, params, kind)
            for v in [w for w in watermarkers(ctx) if handles(w, EMBED, kind)]:
                members = self.members(ctx, v, kind, EMBED)
                for ch in channels:
                    cell = self.cell(ctx, vector=corpus.id, producer=v.id, consumer=v.id, variant=ch.name if ch else "none",
                                channel=ch.name if ch else None)
                    if isinstance(members, str):
                        yield planned(cell, members)
                        continue
                    plan = RobustnessPlan(kind=kind, detector=detector_spec(v, members, channels, params),
                                          trials=trials_for(params, v.id), min_tpr=params["min_tpr"], channel=ch)
                    yield planned(cell, context=plan)

    def expand(self, cell: Cell, step: Callable[[Step], StepResult]) -> Cell:
        c = cell.context_as(RobustnessPlan)
        spec, ch = c.detector, c.channel
        trials = Trials(step)
        th = threshold(spec, trials)
        marks = [(m, mark(spec, m.id, t)) for m in spec.members for t in range(c.trials)]
        marked = [vendor_step(str(cell.producer), EMBED, source(m), mk.params) for m, mk in marks]
        moved = [through(ch, step) for step in marked]
        found = trials.detect(spec, [Probe(mv, mk.key, mk.payload) for mv, (_m, mk) in zip(moved, marks, strict=True)])
        positives = [got.value for got in found if got is not None]
        own = [bool(got.present) for got in found if got is not None and got.present is not None]
        bit_acc = [got.value / spec.bits for got in found
                   if got is not None and spec.mode == "multi-bit" and math.isfinite(got.value)]
        example: dict[str, Step] = {}
        first = next((i for i, got in enumerate(found) if got is not None), None)
        if first is not None:
            example = {"marked": marked[first]}
            after = moved[first]
            if isinstance(after, Step) and after != marked[first]:
                example["channel"] = after
        clean = [got for got in trials.detect(spec, trials.clean_probes(spec, [ch])) if got is not None]
        negatives = [got.value for got in clean]
        clean_own = [bool(got.present) for got in clean if got.present is not None]
        evidence = RobustnessEvidence(plan=c, threshold=th, positives=finite_only(positives), negatives=finite_only(negatives),
                                      bit_accuracy=tuple(bit_acc), own_marked=Count.of(own), own_clean=Count.of(clean_own),
                                      log=trials.log())
        return with_context(cell, evidence, steps=example)

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        e = cell.context_as(RobustnessEvidence)
        spec, th, log = e.plan.detector, e.threshold, e.log
        positives, negatives = list(e.positives), list(e.negatives)
        detected = sum(decided(v, th) for v in positives)
        false_pos = sum(decided(v, th) for v in negatives)
        claim = judge_rate_at_least(detected, len(positives), e.plan.min_tpr, "detected")
        fp_ci = wilson(false_pos, len(negatives))
        wm = {
            "kind": e.plan.kind, "channel": cell.variant, "mode": spec.mode, "payload_bits": spec.payload_bits,
            "statistic": "matching bits" if spec.mode == "multi-bit" else "score",
            "threshold": th.as_dict(), "trials": len(positives), "detected": detected,
            "tpr": round(claim.rate, 6) if positives else None, "tpr_ci95": ci_bounds(claim.interval),
            "bit_accuracy_mean": round(sum(e.bit_accuracy) / len(e.bit_accuracy), 6) if e.bit_accuracy else None,
            "clean_trials": len(negatives), "false_positives": false_pos,
            "fpr": round(false_pos / len(negatives), 6) if negatives else None, "fpr_ci95": ci_bounds(fp_ci),
            "evidence": "sufficient" if claim.verdict != "inconclusive" and th.supported else "insufficient",
            "positives": positives, "negatives": negatives,
        }
        if e.own_marked.trials or e.own_clean.trials:
            wm["vendor_decision"] = {"detected": e.own_marked.hits, "trials": e.own_marked.trials,
                                     "false_positives": e.own_clean.hits, "clean_trials": e.own_clean.trials}
        measurements: dict[str, Any] = {"watermark": wm}
        if e.plan.channel:
            measurements["channel"] = describe_channel(e.plan.channel)
        if log.error_count:
            measurements["errors"] = list(log.errors)
        reason = f"{claim.reason}; threshold {th.value} ({th.rule}){log.trouble}"
        if log.error_count:
            return Verdict(Outcome.ERROR, f"{log.error_count} trials failed (first: {log.errors[0]}); {reason}", measurements)
        if th.value is None:
            return Verdict(Outcome.INCONCLUSIVE, f"insufficient evidence: no threshold: {th.rule}", measurements)
        if claim.verdict == "fail":
            return Verdict(Outcome.FAIL, reason, measurements)
        if claim.verdict == "pass" and not th.supported:
            return Verdict(Outcome.INCONCLUSIVE, f"insufficient evidence: the threshold's false-positive rate is not shown"
                                                 f" ({th.rule}); {claim.reason}", measurements)
        return Verdict(Outcome.PASS if claim.verdict == "pass" else Outcome.INCONCLUSIVE, reason, measurements)
