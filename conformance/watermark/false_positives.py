"""``watermark.false_positives``: every detector on all clean content; multi-bit clean
bits must behave as the fair coins the threshold assumes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from conformance.base import Answers, CellContext, PlanContext, planned
from conformance.corpus import DETECT, CorpusCheck, chosen_channels, handles, profile_params
from conformance.statistics import (
    binomial_tail,
    bit_threshold,
    judge_rate_at_most,
    wilson,
)
from conformance.trials import (
    MIN_NULL_UNITS,
    Count,
    DetectorSpec,
    Threshold,
    TrialLog,
    Trials,
    decided,
    detector_spec,
    finite_only,
    independent_clean,
    scaled_count,
    threshold,
)
from runner.model import (
    Cell,
    Outcome,
    Step,
    StepResult,
    Verdict,
    with_context,
)


@dataclass(frozen=True)
class FalsePositivesPlan(CellContext):
    """One detector on all clean content of a kind."""

    kind: str
    detector: DetectorSpec


@dataclass(frozen=True)
class FalsePositivesEvidence(CellContext):
    """The statistic of each clean trial, the threshold, and the vendor's own decisions."""

    plan: FalsePositivesPlan
    threshold: Threshold
    values: tuple[float, ...]
    own: Count
    log: TrialLog


class FalsePositives(CorpusCheck):
    id = "watermark.false_positives"
    title = "No detector claims clean content"
    family = "watermark"
    description = (
        "Every detector runs on every clean corpus vector, untouched and after every channel, with several keys."
        " Multi-bit: no clean trial may reach the binomial threshold more often than the target rate allows, and"
        " the clean bits must behave as the fair coins the threshold assumes (tested at the 5 % tail level)."
        " Zero-bit: the calibrated threshold's rate is shown only with enough clean trials (about 3.8/target);"
        " the vendor's own decision is held to the same target."
    )

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        params = profile_params(ctx)
        for kind, corpus in self.corpora(ctx).items():
            channels = chosen_channels(ctx, params, kind)
            for v in [d for d in ctx.with_op(DETECT) if handles(d, DETECT, kind)]:
                cell = self.cell(ctx, vector=corpus.id, producer=None, consumer=v.id)
                members = self.members(ctx, v, kind, DETECT)
                if isinstance(members, str):
                    yield planned(cell, members)
                    continue
                # A detector that cannot embed takes the corpus at its own rates.
                plan = FalsePositivesPlan(kind=kind, detector=detector_spec(v, members, channels, params))
                yield planned(cell, context=plan)

    def expand(self, cell: Cell, step: Callable[[Step], StepResult]) -> Cell:
        c = cell.context_as(FalsePositivesPlan)
        spec = c.detector
        trials = Trials(step)
        found = [got for got in trials.detect(spec, trials.clean_probes(spec, spec.channels)) if got is not None]
        values = [got.value for got in found]
        own = [bool(got.present) for got in found if got.present is not None]
        th = threshold(spec, trials)
        evidence = FalsePositivesEvidence(plan=c, threshold=th, values=finite_only(values), own=Count.of(own),
                                          log=trials.log())
        return with_context(cell, evidence, steps={})

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        e = cell.context_as(FalsePositivesEvidence)
        spec, th, values, log = e.plan.detector, e.threshold, list(e.values), e.log
        fpr = spec.target_fpr
        n = len(values)
        fp = sum(decided(v, th) for v in values)
        units = min(n, independent_clean(spec))
        lo, hi = wilson(scaled_count(fp, n, units), units)
        m: dict[str, Any] = {"false_positives": {"kind": e.plan.kind, "mode": spec.mode, "threshold": th.as_dict(),
                                                 "trials": n, "independent_trials": units,
                                                 "false_detections": fp, "rate": round(fp / n, 6) if n else None,
                                                 "rate_ci95": [round(lo, 6), round(hi, 6)], "target_fpr": fpr}}
        if log.error_count:
            return Verdict(Outcome.ERROR, f"{log.error_count} clean trials failed (first: {log.errors[0]})", m)
        if not n:
            return Verdict(Outcome.INCONCLUSIVE, "insufficient evidence: no clean trials", m)
        if lo > fpr:
            return Verdict(Outcome.FAIL, f"{fp} of {n} clean trials detected at threshold {th.value}:"
                                         f" rate {fp / n:.4f} [95 % CI {lo:.4f}, {hi:.4f}] exceeds {fpr:g}{log.trouble}", m)
        if spec.mode == "multi-bit":
            return self._null_model(spec, values, fp, units, m, log.trouble)
        own_fp, own_n = e.own.hits, e.own.trials
        if own_n:
            own_units = min(own_n, units)
            own_claim = judge_rate_at_most(scaled_count(own_fp, own_n, own_units), own_units, fpr,
                                           f"the vendor's own decision on clean content ({own_fp} of {own_n};"
                                           f" counted per independent vector and key):")
            m["false_positives"]["vendor_decision"] = {"false_detections": own_fp, "trials": own_n}
            if own_claim.verdict == "fail":
                return Verdict(Outcome.FAIL, f"{own_claim.reason} (a consumer trusting the vendor's present flag gets"
                                             f" these false positives; the harness's calibrated threshold"
                                             f" {th.value} keeps {fp} of {n} clean trials){log.trouble}", m)
        claim = judge_rate_at_most(scaled_count(fp, n, units), units, fpr,
                                   f"clean trials detected ({fp} of {n}; counted per independent vector and key):")
        return Verdict(Outcome(claim.verdict), f"{claim.reason} at calibrated threshold {th.value}{log.trouble}", m)

    @staticmethod
    def _null_model(spec: DetectorSpec, values: list[float], fp: int, units: int, m: dict[str, Any],
                    trouble: str) -> Verdict:
        """The binomial threshold holds if clean bits are fair coins: check the tail at a
        level the trials can see (5 %) and the mean agreement, counting independent trials
        (one per vector and key) for the intervals."""
        n_bits = spec.bits
        n = len(values)
        # the rarest tail the independent trials can see (about 3 expected), 5 % at the least
        level = min(0.5, max(0.05, 3 / max(units, 1)))
        k05 = bit_threshold(n_bits, level) or n_bits
        tail = sum(v >= k05 for v in values)
        expected = binomial_tail(n_bits, k05)
        t_lo, t_hi = wilson(scaled_count(tail, n, units), units)
        agree = sum(max(v, 0.0) for v in values)
        a_lo, a_hi = wilson(scaled_count(int(agree), n * n_bits, units * n_bits), units * n_bits)
        m["false_positives"]["null_model"] = {"tail_bits": k05, "tail_expected": round(expected, 6), "tail_observed": tail,
                                              "tail_ci95": [round(t_lo, 6), round(t_hi, 6)],
                                              "bit_agreement": round(agree / (n * n_bits), 6),
                                              "bit_agreement_ci95": [round(a_lo, 6), round(a_hi, 6)]}
        text = (f"{fp} of {n} clean trials reached the threshold; {tail} reached {k05} bits (chance: {expected:.3f},"
                f" observed {tail / n:.3f} [95 % CI {t_lo:.3f}, {t_hi:.3f}]); clean bit agreement {agree / (n * n_bits):.3f}")
        if t_lo > expected:
            return Verdict(Outcome.FAIL, f"clean content decodes closer to the payload than chance, so the binomial"
                                         f" threshold understates the false-positive rate: {text}{trouble}", m)
        if units < MIN_NULL_UNITS:
            return Verdict(Outcome.INCONCLUSIVE, f"insufficient evidence: too few independent clean trials to test the"
                                                 f" null model ({units} vectors x keys, needs {MIN_NULL_UNITS}): {text}", m)
        return Verdict(Outcome.PASS, f"clean bits behave as fair coins, so the binomial threshold's rate holds: {text}{trouble}", m)
