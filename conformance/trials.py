"""The trials engine: a detector's spec, its embed and detect params, the detection
statistic, running a cell's trials through the shared step function, and thresholds
derived from the target false-positive rate (binomial tail or clean calibration)."""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from conformance.channels import NamedChannel
from conformance.corpus import DETECT, channel_from, channel_spec, key, options, payload, source, through
from conformance.statistics import (
    binomial_tail,
    bit_threshold,
    calibrate,
)
from runner.model import (
    ErrorKind,
    Step,
    StepResult,
    VendorManifest,
    vendor_step,
)


def detector_spec(vendor: VendorManifest, members: list[dict[str, Any]], channels: list[NamedChannel | None],
                  params: dict[str, Any]) -> dict[str, Any]:
    """Everything needed to decide for one detector: its mode and payload, and the clean
    trials its zero-bit threshold is calibrated on."""
    opts = options(vendor, DETECT)
    mode = opts.get("mode", "multi-bit")
    keyed = bool(opts.get("keyed", True))
    return {"vendor": vendor.id, "mode": mode, "payload_bits": opts.get("payload_bits"), "keyed": keyed,
            "target_fpr": params["target_fpr"], "seed": params["seed"], "members": members,
            "channels": [channel_spec(c) for c in channels],
            "null_keys": params["null_keys"] if keyed else 1}


def detect_params(spec: dict[str, Any], trial_key: str) -> dict[str, Any]:
    out: dict[str, Any] = {"key": trial_key}
    if spec["mode"] == "multi-bit" and spec.get("payload_bits"):
        out["payload_bits"] = spec["payload_bits"]
    return out


def embed_params(spec: dict[str, Any], vector: str, trial: int, trial_key: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"key": trial_key or key(spec["seed"], trial)}
    if spec["mode"] == "multi-bit":
        out["payload"] = payload(spec["seed"], vector, trial, int(spec["payload_bits"]))
    return out


def statistic(spec: dict[str, Any], report: dict[str, Any], expected: str | None) -> tuple[float, str | None]:
    """The trial's detection statistic (matching bits, or the score) and a note when the
    answer does not fit the vendor's declared mode."""
    if spec["mode"] == "multi-bit":
        bits = report.get("bits")
        n = int(spec["payload_bits"])
        if not isinstance(bits, str) or len(bits) != n:
            return 0.0, f"{spec['vendor']} decoded {len(bits) if isinstance(bits, str) else 'no'} bits, not {n}"
        reference = expected if expected is not None else "0" * n
        return float(sum(a == b for a, b in zip(bits, reference, strict=True))), None
    score = report.get("score")
    if isinstance(score, (int, float)):
        return float(score), None
    if report.get("present") is not None:
        return (1.0 if report["present"] else 0.0), f"{spec['vendor']} gave no score; its present flag stands in"
    return -math.inf, f"{spec['vendor']} gave neither a score nor a decision"


#: Independent clean trials (vectors x keys) below which the null model is not tested.
MIN_NULL_UNITS = 30

#: Steps a cell runs at once while it gathers its trials; the vendors' own concurrency
#: limits still apply, so this only keeps every allowed slot busy.
PARALLEL_STEPS = 4

#: One detection to run: the asset (a step or a vector id), the key, and the payload the
#: decoded bits are compared with (multi-bit; for clean content, the trial's payload).
Probe = tuple[Step | str, str, str | None]


class Trials:
    """Runs a cell's trials through the executor's step function, several at a time, and
    keeps what went wrong."""

    def __init__(self, step: Callable[[Step], StepResult]) -> None:
        self.step = step
        self.errors: list[str] = []  # crashes, protocol violations, failed transforms
        self.refusals: list[str] = []  # the detector's clean refusals (counted as misses)
        self.notes: list[str] = []
        self._seen: set[Step] = set()  # a step a cell asks twice (calibration, then its channel) counts once
        self.last_error = ""

    def run(self, steps: list[Step]) -> list[StepResult]:
        if len(steps) <= 1:
            return [self.step(s) for s in steps]
        with ThreadPoolExecutor(max_workers=PARALLEL_STEPS, thread_name_prefix="trial") as pool:
            return list(pool.map(self.step, steps))

    def detect(self, spec: dict[str, Any], probes: list[Probe]) -> list[tuple[float, bool | None] | None]:
        """Per probe: the statistic and the vendor's own decision, or None when it errored."""
        steps = [vendor_step(spec["vendor"], DETECT, asset, detect_params(spec, k)) for asset, k, _ in probes]
        results = self.run(steps)
        return [self._one(spec, step, res, expected)
                for step, res, (_, _, expected) in zip(steps, results, probes, strict=True)]

    def _one(self, spec: dict[str, Any], step: Step, res: StepResult, expected: str | None) -> tuple[float, bool | None] | None:
        if not res.ok:
            first = step not in self._seen
            self._seen.add(step)
            if res.error_kind == ErrorKind.CLEAN:
                if first:
                    self.refusals.append(str(res.error))
                return -math.inf, None
            if first:
                self.errors.append(str(res.error))
            self.last_error = str(res.error)
            return None
        assert res.report is not None
        value, note = statistic(spec, res.report, expected)
        if note and note not in self.notes:
            self.notes.append(note)
        return value, res.report.get("present")

    def clean_probes(self, spec: dict[str, Any], channels: list[dict[str, Any] | None]) -> list[Probe]:
        """Clean content: every member through each channel, with each null key."""
        return [(through(channel_from(ch), source(m)), key(spec["seed"], j), null_reference(spec, m["id"], j))
                for m in spec["members"] for ch in channels for j in range(spec["null_keys"])]

    def calibration(self, spec: dict[str, Any]) -> list[float]:
        """Clean trials over every member, channel and null key (cached steps, shared by
        every cell of the detector)."""
        return [got[0] for got in self.detect(spec, self.clean_probes(spec, spec["channels"])) if got is not None]


def null_reference(spec: dict[str, Any], vector: str, trial: int) -> str | None:
    """What a clean multi-bit decode is compared with: the payload the same trial embeds."""
    if spec["mode"] != "multi-bit":
        return None
    return payload(spec["seed"], vector, trial, int(spec["payload_bits"]))


def threshold(spec: dict[str, Any], trials: Trials | None) -> dict[str, Any]:
    """The decision threshold of a detector, derived, with how it was derived."""
    fpr = spec["target_fpr"]
    if spec["mode"] == "multi-bit":
        n = int(spec["payload_bits"])
        k = bit_threshold(n, fpr)
        if k is None:
            return {"value": None, "rule": f"{n} bits cannot reach a false-positive rate of {fpr:g}", "target_fpr": fpr,
                    "supported": False}
        return {"value": k, "rule": f"binomial tail: P(X>={k} | n={n}, p=1/2) = {binomial_tail(n, k):.2g} <= {fpr:g}",
                "target_fpr": fpr, "supported": True}
    assert trials is not None
    cal = calibrate(trials.calibration(spec), fpr, independent_clean(spec))
    return {"value": cal.threshold, "rule": cal.rule, "target_fpr": fpr, "supported": cal.supported,
            "clean_trials": cal.negatives}


def independent_clean(spec: dict[str, Any]) -> int:
    """Independent clean trials of a detector: one per vector and key (the channel versions
    of one vector, read with one key, are correlated, so they do not add evidence)."""
    return len(spec["members"]) * int(spec["null_keys"])


def decided(value: float, th: dict[str, Any]) -> bool:
    return th["value"] is not None and value >= th["value"]


def scaled_count(successes: int, trials: int, units: int) -> int:
    """Successes among ``trials`` correlated trials, as a count out of ``units`` independent
    ones (the same rate), for intervals that do not overstate the evidence."""
    if not trials or not successes:
        return 0
    return max(1, round(successes * units / trials))  # an observed event is never rounded away


def ci_bounds(interval: tuple[float, float]) -> list[float]:
    return [round(interval[0], 6), round(interval[1], 6)]


def finite_only(values: list[float]) -> list[float]:
    """Trials without a statistic (a refusal, no answer) as one below every real one, so
    they count as misses and stay plottable in JSON."""
    real = [v for v in values if math.isfinite(v)]
    floor = (min(real) if real else 0.0) - 1.0
    return [v if math.isfinite(v) else floor for v in values]


def trouble_note(trials: Trials) -> str:
    parts = []
    if trials.refusals:
        parts.append(f"{len(trials.refusals)} refusals counted as misses (first: {trials.refusals[0]})")
    if trials.notes:
        parts.append("; ".join(trials.notes[:3]))
    return ("; " + "; ".join(parts)) if parts else ""
