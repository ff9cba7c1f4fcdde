"""Detection statistics for watermarks: thresholds derived from a target false-positive
rate, confidence intervals, and what a number of trials can and cannot support.

Pure functions of counts and scores (stdlib only), so every figure in a scorecard can be
recomputed by hand from the numbers in the result bundle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

#: Two-sided 95 % normal quantile, for Wilson intervals.
Z95 = 1.959963984540054


def binomial_tail(n: int, k: int, p: Fraction | float = Fraction(1, 2)) -> float:
    """P(X >= k) for X ~ Binomial(n, p), exactly (rational arithmetic for p = 1/2)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    q = Fraction(p) if isinstance(p, Fraction) else p
    total = sum(math.comb(n, i) * q**i * (1 - q) ** (n - i) for i in range(k, n + 1))
    return float(total)


def bit_threshold(n: int, target_fpr: float) -> int | None:
    """The fewest matching bits out of ``n`` that chance reaches with probability at most
    ``target_fpr`` (bits of an unmarked asset are fair coins); None when even all ``n``
    bits matching is too likely (a payload too short for the target)."""
    for k in range(n + 1):
        if binomial_tail(n, k) <= target_fpr:
            return k
    return None


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for a proportion (95 % by default); (0, 1) for no trials."""
    if trials <= 0:
        return 0.0, 1.0
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == trials else min(1.0, centre + half)
    return lo, hi


def trials_to_show_fpr(target_fpr: float, z: float = Z95) -> int:
    """How many clean trials, all negative, put the Wilson upper bound of the false-positive
    rate at or below ``target_fpr`` (about z^2 / target: 3842 for 1e-3)."""
    # With zero successes the Wilson upper bound is z^2 / (n + z^2).
    return math.ceil(z * z / target_fpr - z * z)


@dataclass(frozen=True)
class Calibration:
    """A score threshold calibrated on clean content for a target false-positive rate."""

    threshold: float | None
    negatives: int
    false_positives: int
    #: whether the negatives are enough to show the rate (see trials_to_show_fpr)
    supported: bool
    rule: str


def calibrate(negatives: list[float], target_fpr: float, independent: int | None = None) -> Calibration:
    """The lowest score threshold whose empirical false-positive rate on ``negatives``
    (clean content, higher score = more likely marked, detected means score >= threshold)
    is at most ``target_fpr``.

    With fewer than 1/target negatives, that is just above the highest clean score: no
    clean trial is detected, and the rate claimed is only what the Wilson bound allows.
    ``independent`` is how many of the negatives are independent (the channel versions of
    one vector, detected with one key, are not): the evidence rule counts those.
    """
    clean = sorted(negatives, reverse=True)
    n = len(clean)
    if n == 0:
        return Calibration(None, 0, 0, False, "no clean trials to calibrate on")
    allowed = math.floor(target_fpr * n)  # clean trials that may score at or above the threshold
    # Strictly above the (allowed+1)-th highest clean score, so at most `allowed` reach it.
    threshold = clean[-1] if allowed >= n else math.nextafter(clean[allowed], math.inf)
    false_positives = sum(1 for s in clean if s >= threshold)
    needed = trials_to_show_fpr(target_fpr)
    units = n if independent is None else min(n, independent)
    supported = units >= needed
    counted = f"{units} independent" if units != n else f"{n}"
    rule = (f"calibrated: lowest score with at most {allowed} of {n} clean trials at or above it "
            f"(target {target_fpr:g}); {counted} clean trials: "
            f"{'enough' if supported else f'too few (needs {needed})'} to show the rate")
    return Calibration(threshold, n, false_positives, supported, rule)


def roc(positives: list[float], negatives: list[float]) -> tuple[list[float], list[float], float]:
    """ROC points (fpr, tpr) over every distinct threshold, from (0, 0) to (1, 1), and the
    area under the curve (trapezoids); detected means statistic >= threshold."""
    if not positives or not negatives:
        return [0.0, 1.0], [0.0, 1.0], math.nan
    thresholds = sorted(set(positives) | set(negatives), reverse=True)
    fpr, tpr = [0.0], [0.0]
    for t in thresholds:
        fpr.append(sum(1 for s in negatives if s >= t) / len(negatives))
        tpr.append(sum(1 for s in positives if s >= t) / len(positives))
    if fpr[-1] != 1.0 or tpr[-1] != 1.0:
        fpr.append(1.0)
        tpr.append(1.0)
    auc = sum((fpr[i] - fpr[i - 1]) * (tpr[i] + tpr[i - 1]) / 2 for i in range(1, len(fpr)))
    return fpr, tpr, auc


@dataclass(frozen=True)
class RateClaim:
    """A detection rate judged against a minimum: pass, fail, or not enough trials."""

    verdict: str  # "pass", "fail" or "inconclusive"
    rate: float
    interval: tuple[float, float]
    reason: str


def judge_rate_at_least(successes: int, trials: int, minimum: float, what: str) -> RateClaim:
    """Pass when the whole 95 % interval is at or above ``minimum``, fail when it is all
    below, inconclusive when it straddles (or there are no trials)."""
    lo, hi = wilson(successes, trials)
    rate = successes / trials if trials else math.nan
    text = f"{what} {successes}/{trials} = {rate:.3f} [95 % CI {lo:.3f}, {hi:.3f}]" if trials else f"no {what} trials"
    if trials and lo >= minimum:
        return RateClaim("pass", rate, (lo, hi), f"{text} >= {minimum:g}")
    if trials and hi < minimum:
        return RateClaim("fail", rate, (lo, hi), f"{text} < {minimum:g}")
    return RateClaim("inconclusive", rate, (lo, hi), f"insufficient evidence: {text} straddles {minimum:g}")


def judge_rate_at_most(successes: int, trials: int, maximum: float, what: str) -> RateClaim:
    """Pass when the 95 % interval is at or below ``maximum``, fail when it lies above it,
    inconclusive otherwise (too few trials to show so small a rate)."""
    lo, hi = wilson(successes, trials)
    rate = successes / trials if trials else math.nan
    text = f"{what} {successes}/{trials} = {rate:.4f} [95 % CI {lo:.4f}, {hi:.4f}]" if trials else f"no {what} trials"
    if trials and hi <= maximum:
        return RateClaim("pass", rate, (lo, hi), f"{text} <= {maximum:g}")
    if trials and lo > maximum:
        return RateClaim("fail", rate, (lo, hi), f"{text} > {maximum:g}")
    need = trials_to_show_fpr(maximum)
    return RateClaim("inconclusive", rate, (lo, hi),
                     f"insufficient evidence: {text}; showing <= {maximum:g} needs about {need} clean trials")
