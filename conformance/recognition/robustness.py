"""``recognition.robustness``: how often implementation B's fingerprint of a channel's
output still matches implementation A's of the original (A = B: one implementation's
own robustness), at a threshold calibrated on pairs of different works for the profile's
target false-positive rate.

The statistics are the watermark family's (:mod:`conformance.statistics`): a "match" is
a similarity (1 - the share of differing bits) at or above the calibrated threshold, as
a detection is a score at or above it; rates carry 95 % Wilson intervals, and a cell whose
pairs of different works are too few to show the target rate is "insufficient evidence".
The cells carry ``measurements.recognition`` shaped like ``measurements.watermark``, so
the scorecard draws the same heatmaps and ROC curves (reports/figures.py).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from conformance.base import Answers, CellContext, Check, PlanContext, planned
from conformance.channels import NamedChannel, describe_channel
from conformance.corpus import through
from conformance.recognition.fingerprints import (
    Fingerprint,
    Fingerprinter,
    NoFingerprint,
    channel_names,
    compute_params,
    distance,
    fingerprinters,
    read,
    refused,
    similarity,
)
from conformance.statistics import calibrate, judge_rate_at_least, wilson
from conformance.trials import Trials, ci_bounds
from runner.errors import PlanError
from runner.model import Cell, Outcome, Step, StepResult, Vector, Verdict, with_context

DEFAULTS: dict[str, Any] = {"target_fpr": 0.01, "min_tpr": 0.9}
#: Channels tried unless the profile names others (those of another kind are skipped).
CHANNELS_DEFAULT = ("jpeg-q50", "resize-0.5", "social-media", "crop-10", "rotate-5", "mp3-128k", "resample-16k",
                    "noise-20db")


def kind_of(media_type: str) -> str:
    return media_type.split("/", 1)[0]


@dataclass(frozen=True)
class RobustnessPlan(CellContext):
    """A's originals against B's channel outputs over a corpus of one kind: ``channel``
    is this cell's (None: untouched), ``channels`` every one the threshold calibrates on."""

    kind: str
    a: Fingerprinter
    b: Fingerprinter
    members: tuple[str, ...]
    #: member -> the work it shows (a derived format shows its source's), for pairs of different works
    works: tuple[str, ...]
    channel: NamedChannel | None
    channels: tuple[NamedChannel | None, ...]
    target_fpr: float
    min_tpr: float
    params: dict[str, Any]


@dataclass(frozen=True)
class RobustnessEvidence(CellContext):
    """Similarities of each member to its own channel version (``positives``), of
    different works through this channel (``negatives``), the calibration's, and what
    went wrong."""

    plan: RobustnessPlan
    positives: tuple[float, ...]
    negatives: tuple[float, ...]
    calibration: tuple[float, ...]
    independent: int
    errors: tuple[str, ...]
    error_count: int
    #: bits of the fingerprints (bit strings); None for sequences
    bits: int | None = None


@lru_cache(maxsize=200_000)
def _similarity(encoding: str, a: bytes, b: bytes) -> float | None:
    """Similarity of two fingerprints (None: not comparable), memoised: every channel's
    cell of a pair calibrates on the same pairs."""
    try:
        return similarity(distance(Fingerprint(encoding, a), Fingerprint(encoding, b)))
    except ValueError:
        return None


class Robustness(Check):
    id = "recognition.robustness"
    title = "Recognition robustness and discrimination, calibrated"
    family = "recognition"
    description = (
        "Per pair of implementations of an algorithm (A fingerprints the originals, B each channel's output; A = B"
        " is one implementation alone) and per channel: the true-positive rate at a threshold calibrated on pairs"
        " of different works for the profile's target false-positive rate, with 95 % Wilson intervals. Pass: the"
        " interval lies at or above min_tpr and the different works are enough to show the target rate."
    )

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        params = {**DEFAULTS, **dict(ctx.config.params)}
        fpr = params["target_fpr"]
        if not isinstance(fpr, (int, float)) or not 0 < fpr < 1:
            raise PlanError(f"params.target_fpr: {fpr!r} is not a rate between 0 and 1")
        names = channel_names(ctx, CHANNELS_DEFAULT)
        extra = compute_params(ctx)
        found = fingerprinters(ctx)
        for kind, vectors in self._kinds(ctx).items():
            corpus = self._corpus(ctx, kind, vectors)
            channels: tuple[NamedChannel | None, ...] = (None, *(ctx.channels[n] for n in names
                                                                 if ctx.channels[n].kind == kind))
            for algorithm, fps in found.items():
                if not any(kind_of(mt) == kind for f in fps for mt in f.media_types):
                    continue
                for a in fps:
                    for b in fps:
                        lacking = refused((a, b), vectors)
                        for ch in channels:
                            name = ch.name if ch else "none"
                            cell = self.cell(ctx, vector=corpus.id, producer=a.vendor, consumer=b.vendor,
                                             variant=f"{algorithm}/{name}", channel=ch.name if ch else None)
                            if lacking:
                                yield planned(cell, f"{a.vendor} or {b.vendor} fingerprint no {', '.join(lacking)}")
                                continue
                            plan = RobustnessPlan(kind=kind, a=a, b=b, members=tuple(v.id for v in vectors),
                                                  works=tuple(v.source or v.id for v in vectors), channel=ch,
                                                  channels=channels, target_fpr=float(fpr),
                                                  min_tpr=float(params["min_tpr"]), params=extra)
                            yield planned(cell, context=plan)

    @staticmethod
    def _kinds(ctx: PlanContext) -> dict[str, list[Vector]]:
        out: dict[str, list[Vector]] = {}
        for v in ctx.vectors:
            if kind_of(v.media_type) in ("image", "audio"):
                out.setdefault(kind_of(v.media_type), []).append(v)
        return out

    @staticmethod
    def _corpus(ctx: PlanContext, kind: str, vectors: list[Vector]) -> Vector:
        if ctx.corpus is None:
            raise PlanError("this planner cannot make corpus vectors")
        tag = hashlib.sha256(" ".join(v.id for v in vectors).encode()).hexdigest()[:6]
        return ctx.corpus(f"recognition-{kind}-{len(vectors)}-{tag}", vectors)

    def expand(self, cell: Cell, step: Callable[[Step], StepResult]) -> Cell:
        c = cell.context_as(RobustnessPlan)
        trials = Trials(step)
        originals = [c.a.step(m, m, c.params) for m in c.members]
        moved = {(ch.name if ch else None): [c.b.step(through(ch, m), m, c.params) for m in c.members]
                 for ch in c.channels}
        ordered = originals + [s for steps in moved.values() for s in steps]
        results = dict(zip(ordered, trials.run(ordered), strict=True))
        errors: list[str] = []

        def fingerprint(fp: Fingerprinter, s: Step) -> Fingerprint | None:
            res = results[s]
            if not res.ok or res.report is None:
                errors.append(f"{s.vendor} on {s.source if isinstance(s.source, str) else s.source.label}: {res.error}")
                return None
            try:
                return read(fp, res.report)
            except NoFingerprint as exc:
                errors.append(f"{fp.vendor}: {exc}")
                return None

        fa = [fingerprint(c.a, s) for s in originals]
        fb = {name: [fingerprint(c.b, s) for s in steps] for name, steps in moved.items()}

        def sim(x: Fingerprint | None, y: Fingerprint | None) -> float | None:
            if x is None or y is None:
                return None
            if x.encoding != y.encoding:
                return None
            return _similarity(x.encoding, x.data, y.data)

        n = len(c.members)
        different = [(i, j) for i in range(n) for j in range(n) if c.works[i] != c.works[j]]
        here = c.channel.name if c.channel else None
        # a member without both fingerprints is a miss: the lowest similarity there is
        positives = [s if (s := sim(fa[i], fb[here][i])) is not None else 0.0 for i in range(n)]
        negatives = [s for i, j in different if (s := sim(fa[i], fb[here][j])) is not None]
        calibration = [s for name in fb for i, j in different if (s := sim(fa[i], fb[name][j])) is not None]
        works = len(set(c.works))
        evidence = RobustnessEvidence(plan=c, positives=tuple(positives), negatives=tuple(negatives),
                                      calibration=tuple(calibration), independent=works * (works - 1) // 2,
                                      errors=tuple(dict.fromkeys(errors))[:5], error_count=len(set(errors)),
                                      bits=next((f.bits for f in fa if f is not None and f.encoding == "bits"), None))
        example = {"original": originals[0], "transformed": moved[here][0]} if originals else {}
        return with_context(cell, evidence, steps=example)

    @staticmethod
    def _as_distance(th: float, bits: int | None) -> dict[str, Any]:
        """A similarity threshold as the distance it allows: at most so many differing bits
        of a bit string, or a share of differing bits of a sequence."""
        share = 1.0 - th
        if bits is None:
            return {"kind": "bit-error-rate", "value": round(max(share, 0.0), 6)}
        return {"kind": "hamming", "value": max(0, math.floor(share * bits + 1e-9)), "bits": bits}

    def _said(self, th: float | None, bits: int | None) -> str:
        if th is None:
            return "none"
        d = self._as_distance(th, bits)
        if d["kind"] == "hamming":
            return f"similarity {th:.4f}: a match has at most {d['value']} of {bits} bits different"
        return f"similarity {th:.4f}: a match has a bit-error rate of at most {d['value']:.4f}"

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        e = cell.context_as(RobustnessEvidence)
        p = e.plan
        cal = calibrate(list(e.calibration), p.target_fpr, e.independent)
        rule = cal.rule.replace("clean trials", "pairs of different works")
        th = cal.threshold
        bits = e.bits
        positives, negatives = list(e.positives), list(e.negatives)
        matched = sum(th is not None and s >= th for s in positives)
        false_matches = sum(th is not None and s >= th for s in negatives)
        claim = judge_rate_at_least(matched, len(positives), p.min_tpr, "matched")
        fp_ci = wilson(false_matches, len(negatives))
        rec: dict[str, Any] = {
            "kind": p.kind, "channel": p.channel.name if p.channel else "none", "algorithm": p.a.algorithm,
            "row": p.a.label if p.a == p.b else f"{p.a.vendor}->{p.b.vendor} {p.a.algorithm}",
            "statistic": "similarity (1 - share of differing bits)",
            "threshold": {"value": th, "rule": rule, "target_fpr": p.target_fpr, "supported": cal.supported,
                          "clean_trials": cal.negatives},
            "threshold_distance": None if th is None else self._as_distance(th, bits),
            "trials": len(positives), "detected": matched,
            "tpr": round(claim.rate, 6) if positives else None, "tpr_ci95": ci_bounds(claim.interval),
            "clean_trials": len(negatives), "false_positives": false_matches,
            "fpr": round(false_matches / len(negatives), 6) if negatives else None, "fpr_ci95": ci_bounds(fp_ci),
            "evidence": "sufficient" if claim.verdict != "inconclusive" and cal.supported else "insufficient",
            "positives": positives, "negatives": negatives,
        }
        m: dict[str, Any] = {"recognition": rec}
        if p.channel:
            m["channel"] = describe_channel(p.channel)
        if e.error_count:
            m["errors"] = list(e.errors)
        reason = f"{claim.reason}; threshold {self._said(th, bits)} ({rule})"
        if e.error_count and e.error_count >= len(positives):
            return Verdict(Outcome.ERROR, f"{e.error_count} fingerprints failed (first: {e.errors[0]})", m)
        if e.error_count:
            reason += f"; {e.error_count} fingerprints failed, counted as misses (first: {e.errors[0]})"
        if th is None:
            return Verdict(Outcome.INCONCLUSIVE, f"insufficient evidence: no threshold: {rule}", m)
        if claim.verdict == "fail":
            return Verdict(Outcome.FAIL, reason, m)
        if claim.verdict == "pass" and not cal.supported:
            return Verdict(Outcome.INCONCLUSIVE, f"insufficient evidence: the threshold's false-positive rate is not"
                                                 f" shown ({rule}); {claim.reason}", m)
        return Verdict(Outcome.PASS if claim.verdict == "pass" else Outcome.INCONCLUSIVE, reason, m)
