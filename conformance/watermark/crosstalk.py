"""``watermark.crosstalk``: every detector on every other vendor's marked output after
each channel, asked with the same key string."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from conformance.base import Answers, CellContext, PlanContext, planned
from conformance.channels import NamedChannel
from conformance.corpus import (
    DETECT,
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
    wilson,
)
from conformance.trials import (
    DetectorSpec,
    Probe,
    Threshold,
    TrialLog,
    Trials,
    decided,
    detector_spec,
    finite_only,
    mark,
    null_reference,
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
class CrossTalkPlan(CellContext):
    """One embedder's marks, through one channel (None: untouched), read by another
    vendor's detector."""

    kind: str
    embedder: DetectorSpec
    detector: DetectorSpec
    trials: int
    channel: NamedChannel | None


@dataclass(frozen=True)
class CrossTalkEvidence(CellContext):
    """The detector's statistic on each marked trial, and its threshold."""

    plan: CrossTalkPlan
    threshold: Threshold
    values: tuple[float, ...]
    log: TrialLog


class CrossTalk(CorpusCheck):
    id = "watermark.crosstalk"
    title = "No detector claims another vendor's mark"
    family = "watermark"
    description = (
        "Each detector runs on every other vendor's marked output of the same kind, untouched and after every"
        " channel, with its own threshold (the profile's crosstalk_trials marks per vector, default: trials). Pass: no false detection (the 95 % upper bound of the rate is"
        " reported); fail: false detections above the target rate's interval; otherwise inconclusive."
    )

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        params = profile_params(ctx)
        for kind, corpus in self.corpora(ctx).items():
            channels = chosen_channels(ctx, params, kind)
            for e in [w for w in watermarkers(ctx) if handles(w, EMBED, kind)]:
                emb_members = self.members(ctx, e, kind, EMBED)
                for d in ctx.with_op(DETECT):
                    if d.id == e.id or not handles(d, DETECT, kind):
                        continue
                    det_members = self.members(ctx, d, kind, DETECT)
                    for ch in channels:
                        cell = self.cell(ctx, vector=corpus.id, producer=e.id, consumer=d.id, variant=ch.name if ch else "none",
                                    channel=ch.name if ch else None)
                        why = next((x for x in (emb_members, det_members) if isinstance(x, str)), None)
                        if why:
                            yield planned(cell, why)
                            continue
                        assert not isinstance(emb_members, str) and not isinstance(det_members, str)
                        plan = CrossTalkPlan(kind=kind, embedder=detector_spec(e, emb_members, channels, params),
                                             detector=detector_spec(d, det_members, channels, params),
                                             trials=trials_for(params, e.id, "crosstalk_trials"), channel=ch)
                        yield planned(cell, context=plan)

    def expand(self, cell: Cell, step: Callable[[Step], StepResult]) -> Cell:
        c = cell.context_as(CrossTalkPlan)
        emb, det = c.embedder, c.detector
        trials = Trials(step)
        th = threshold(det, trials)
        probes: list[Probe] = []
        for m in emb.members:
            for t in range(c.trials):
                mk = mark(emb, m.id, t)
                moved = through(c.channel, vendor_step(str(cell.producer), EMBED, source(m), mk.params))
                # The detector is asked with the same key string: the worst case for cross-talk.
                probes.append(Probe(moved, mk.key, null_reference(det, m.id, t)))
        values = [got.value for got in trials.detect(det, probes) if got is not None]
        evidence = CrossTalkEvidence(plan=c, threshold=th, values=finite_only(values), log=trials.log())
        return with_context(cell, evidence, steps={})

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        e = cell.context_as(CrossTalkEvidence)
        th, values, log = e.threshold, e.values, e.log
        fpr = e.plan.detector.target_fpr
        n = len(values)
        k = sum(decided(v, th) for v in values)
        lo, hi = wilson(k, n)
        m = {"crosstalk": {"channel": cell.variant, "trials": n, "false_detections": k,
                           "rate": round(k / n, 6) if n else None, "rate_ci95": [round(lo, 6), round(hi, 6)],
                           "threshold": th.as_dict()}}
        if log.error_count:
            return Verdict(Outcome.ERROR, f"{log.error_count} trials failed (first: {log.errors[0]})", m)
        if not n:
            return Verdict(Outcome.INCONCLUSIVE, "insufficient evidence: no trials", m)
        text = (f"{cell.consumer} detected {cell.producer}'s mark in {k} of {n} trials at threshold {th.value}"
                f" (rate {k / n:.3f}, 95 % upper bound {hi:.3f}){log.trouble}")
        if lo > fpr:
            return Verdict(Outcome.FAIL, text, m)
        if k == 0:
            return Verdict(Outcome.PASS, text, m)
        return Verdict(Outcome.INCONCLUSIVE, f"insufficient evidence: {text}", m)
