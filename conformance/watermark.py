"""Watermarks: robustness through distribution channels, false positives, cross-talk,
quality, coexistence and C2PA soft bindings.

A watermark decision needs a threshold, and none of the libraries gives one that says
what it costs: the harness derives it.  Multi-bit marks: the binomial tail (``n`` fair
coin bits reach ``k`` matches with probability at most the target false-positive rate).
Zero-bit scores: calibrated on clean content (every clean vector through every channel,
detected with many keys), at the lowest score that no more than the target share of
clean trials reaches.  Rates are reported with Wilson intervals; a cell whose trials
cannot support its claim is ``inconclusive`` ("insufficient evidence").

Robustness, false-positive and cross-talk cells judge a statistic over a corpus: their
vector is a corpus vector (``corpus:watermark-image``), and they run their trials in
``expand`` through the shared, cached step function, so a trial that several cells need
(an embedding, a clean detection) runs once.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from conformance.base import Answers, Check, PlanContext, unsupported
from conformance.channels import NamedChannel, chain_step, describe_channel
from conformance.metadata import declared_fields, normalisations, normalise, value_sets
from conformance.provenance import failure_codes, read_params, sign_params, signed_state, validates
from conformance.statistics import (
    binomial_tail,
    bit_threshold,
    calibrate,
    judge_rate_at_least,
    judge_rate_at_most,
    wilson,
)
from runner.errors import PlanError
from runner.model import Cell, Outcome, Step, StepResult, VendorManifest, Verdict, canonical_json, transform_step, vendor_step
from runner.vectors import Vector

EMBED, DETECT = "watermark.embed", "watermark.detect"

#: Defaults of the profile params every watermark check reads.
DEFAULTS: dict[str, Any] = {
    "target_fpr": 1e-3,
    "seed": 20261122,
    "trials": 4,  # keys (and payloads) per vector for marked trials
    "null_keys": 4,  # keys per clean vector x channel for clean trials (keyed detectors)
    "min_tpr": 0.9,
}

#: Soft-binding algorithm names from the C2PA soft-binding algorithm list, by vendor;
#: a vendor not listed there gets a clearly private name (see soft_binding_alg).
PRIVATE_ALG_PREFIX = "org.aiii-interop.private."


def _params(ctx: PlanContext) -> dict[str, Any]:
    params = {**DEFAULTS, **dict(ctx.config.params)}
    fpr = params["target_fpr"]
    if not isinstance(fpr, (int, float)) or not 0 < fpr < 1:
        raise PlanError(f"params.target_fpr: {fpr!r} is not a rate between 0 and 1")
    for name in ("trials", "null_keys", "crosstalk_trials"):
        if name in params and (not isinstance(params[name], int) or params[name] < 1):
            raise PlanError(f"params.{name}: {params[name]!r} is not a positive whole number")
    return params


def trials_for(params: dict[str, Any], vendor: str, name: str = "trials") -> int:
    """Marks per vector for an embedder: the profile's ``vendor_trials`` may lower it for a
    slow embedder (aware takes over a minute per 10 s of audio)."""
    base = int(params.get(name, params["trials"]))
    own = params.get("vendor_trials", {}).get(vendor)
    return min(base, int(own)) if isinstance(own, int) and own >= 1 else base


def kind_of(media_type: str) -> str:
    return media_type.split("/", 1)[0]


def options(vendor: VendorManifest, operation: str) -> dict[str, Any]:
    cap = vendor.capability(operation)
    return dict(cap.options) if cap else {}


def watermarkers(ctx: PlanContext) -> list[VendorManifest]:
    """Selected vendors that both embed and detect."""
    return [v for v in ctx.with_op(EMBED) if v.capability(DETECT)]


def key(seed: int, trial: int) -> str:
    return f"aiii-{seed}-{trial}"


def payload(seed: int, vector: str, trial: int, bits: int) -> str:
    """A deterministic pseudo-random payload per vector and trial (never a pattern: a
    detector's bias towards a pattern must not pass for a detection)."""
    out = ""
    counter = 0
    while len(out) < bits:
        digest = hashlib.sha256(f"{seed}/{vector}/{trial}/{counter}".encode()).digest()
        out += "".join(f"{b:08b}" for b in digest)
        counter += 1
    return out[:bits]


# -- trials ----------------------------------------------------------------------------


def _sample_rate(vector: Vector) -> int | None:
    if kind_of(vector.media_type) != "audio":
        return None
    import soundfile as sf

    try:
        return int(sf.info(str(vector.path)).samplerate)
    except (RuntimeError, sf.LibsndfileError) as exc:
        raise PlanError(f"vector {vector.id}: cannot read its sample rate: {exc}") from exc


def member(vector: Vector, vendor: VendorManifest) -> dict[str, Any]:
    """A corpus member as a vendor's trials need it: its id and, for audio at a rate the
    vendor does not take, the rate to resample to first."""
    rates = options(vendor, EMBED).get("sample_rates")
    rate = _sample_rate(vector)
    resample = int(rates[0]) if rates and rate is not None and rate not in rates else None
    return {"id": vector.id, "resample": resample}


def source(m: dict[str, Any]) -> Step | str:
    """The embedder's input for a member: the vector, resampled where needed."""
    if m.get("resample"):
        return transform_step("channel.resample", m["id"], {"rate": m["resample"]})
    return str(m["id"])


def channel_from(spec: dict[str, Any] | None) -> NamedChannel | None:
    if spec is None:
        return None
    return NamedChannel(spec["name"], spec["kind"], tuple((n, dict(p)) for n, p in spec["steps"]), spec.get("description", ""))


def channel_spec(channel: NamedChannel | None) -> dict[str, Any] | None:
    if channel is None:
        return None
    return {"name": channel.name, "kind": channel.kind, "steps": [[n, p] for n, p in channel.steps],
            "description": channel.description}


def through(channel: NamedChannel | None, step: Step | str) -> Step | str:
    return step if channel is None else chain_step(channel, step)


def chosen_channels(ctx: PlanContext, params: dict[str, Any], kind: str) -> list[NamedChannel | None]:
    """``None`` (no channel) first, then the profile's channels of this kind, in order."""
    names = list(params.get("channels", []))
    unknown = [n for n in names if n not in ctx.channels]
    if unknown:
        raise PlanError(f"params.channels: unknown channels {unknown}; known: {sorted(ctx.channels)}")
    return [None, *(ctx.channels[n] for n in names if ctx.channels[n].kind == kind)]


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
            if res.error_kind == "clean":
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
        return [(through(channel_from(ch), source(m)), key(spec["seed"], j), _null_reference(spec, m["id"], j))
                for m in spec["members"] for ch in channels for j in range(spec["null_keys"])]

    def calibration(self, spec: dict[str, Any]) -> list[float]:
        """Clean trials over every member, channel and null key (cached steps, shared by
        every cell of the detector)."""
        return [got[0] for got in self.detect(spec, self.clean_probes(spec, spec["channels"])) if got is not None]


def _null_reference(spec: dict[str, Any], vector: str, trial: int) -> str | None:
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


def _scaled(successes: int, trials: int, units: int) -> int:
    """Successes among ``trials`` correlated trials, as a count out of ``units`` independent
    ones (the same rate), for intervals that do not overstate the evidence."""
    if not trials or not successes:
        return 0
    return max(1, round(successes * units / trials))  # an observed event is never rounded away


def _ci(interval: tuple[float, float]) -> list[float]:
    return [round(interval[0], 6), round(interval[1], 6)]


def _finite(values: list[float]) -> list[float]:
    """Trials without a statistic (a refusal, no answer) as one below every real one, so
    they count as misses and stay plottable in JSON."""
    real = [v for v in values if math.isfinite(v)]
    floor = (min(real) if real else 0.0) - 1.0
    return [v if math.isfinite(v) else floor for v in values]


def _trouble(trials: Trials) -> str:
    parts = []
    if trials.refusals:
        parts.append(f"{len(trials.refusals)} refusals counted as misses (first: {trials.refusals[0]})")
    if trials.notes:
        parts.append("; ".join(trials.notes[:3]))
    return ("; " + "; ".join(parts)) if parts else ""


# -- checks ----------------------------------------------------------------------------


def handles(vendor: VendorManifest, operation: str, kind: str) -> bool:
    """Whether the vendor declares the operation for any media type of this kind (a
    vendor of the other kind gets no cells at all, not a column of unsupported ones)."""
    cap = vendor.capability(operation)
    return bool(cap and any(kind_of(mt) == kind for c in vendor.capabilities if c.operation == operation
                            for mt in c.media_types))


class CorpusCheck(Check):
    """Plans one cell per embedder (or detector pair) x channel over a corpus per kind."""

    def corpora(self, ctx: PlanContext) -> dict[str, Vector]:
        if ctx.corpus is None:
            raise PlanError("this planner cannot make corpus vectors")
        out = {}
        for kind in ("image", "audio"):
            members = [v for v in ctx.vectors if kind_of(v.media_type) == kind]
            if members:
                # Named by kind, size and members, so checks selecting other vectors get their own.
                tag = hashlib.sha256(" ".join(v.id for v in members).encode()).hexdigest()[:6]
                out[kind] = ctx.corpus(f"watermark-{kind}-{len(members)}-{tag}", members)
        return out

    def members(self, ctx: PlanContext, vendor: VendorManifest, kind: str, operation: str) -> list[dict[str, Any]] | str:
        """The vendor's members of the kind's corpus, or why it takes none of them."""
        vectors = [v for v in ctx.vectors if kind_of(v.media_type) == kind]
        refused = sorted({v.media_type for v in vectors if not vendor.capability(operation, v.media_type)})
        if refused:
            return f"{vendor.id} does not declare {operation} for {', '.join(refused)}"
        return [member(v, vendor) for v in vectors]


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
        params = _params(ctx)
        for kind, corpus in self.corpora(ctx).items():
            channels = chosen_channels(ctx, params, kind)
            for v in [w for w in watermarkers(ctx) if handles(w, EMBED, kind)]:
                members = self.members(ctx, v, kind, EMBED)
                for ch in channels:
                    cell = Cell(self.id, ctx.config.level, corpus.id, v.id, v.id, ch.name if ch else "none",
                                channel=ch.name if ch else None)
                    if isinstance(members, str):
                        yield unsupported(cell, members)
                        continue
                    spec = detector_spec(v, members, channels, params)
                    context = {"kind": kind, "detector": spec, "trials": trials_for(params, v.id), "min_tpr": params["min_tpr"],
                               "channel": channel_spec(ch)}
                    yield replace(cell, context_json=canonical_json(context))

    def expand(self, cell: Cell, step: Callable[[Step], StepResult]) -> Cell:
        c = cell.context
        spec = c["detector"]
        ch = channel_from(c["channel"])
        trials = Trials(step)
        th = threshold(spec, trials)
        marks = [(m, t, embed_params(spec, m["id"], t)) for m in spec["members"] for t in range(c["trials"])]
        marked = [vendor_step(str(cell.producer), EMBED, source(m), ep) for m, _t, ep in marks]
        moved = [through(ch, step) for step in marked]
        found = trials.detect(spec, [(mv, ep["key"], ep.get("payload")) for mv, (_m, _t, ep) in zip(moved, marks, strict=True)])
        positives = [got[0] for got in found if got is not None]
        own = [bool(got[1]) for got in found if got is not None and got[1] is not None]
        bit_acc = [got[0] / int(spec["payload_bits"]) for got in found
                   if got is not None and spec["mode"] == "multi-bit" and math.isfinite(got[0])]
        example: dict[str, Step] = {}
        first = next((i for i, got in enumerate(found) if got is not None), None)
        if first is not None:
            example = {"marked": marked[first]}
            after = moved[first]
            if isinstance(after, Step) and after != marked[first]:
                example["channel"] = after
        clean = [got for got in trials.detect(spec, trials.clean_probes(spec, [c["channel"]])) if got is not None]
        negatives = [got[0] for got in clean]
        clean_own = [bool(got[1]) for got in clean if got[1] is not None]
        context = {**c, "threshold": th, "positives": _finite(positives), "negatives": _finite(negatives),
                   "bit_accuracy": bit_acc, "own_decisions": [sum(own), len(own), sum(clean_own), len(clean_own)],
                   "errors": trials.errors[:5], "error_count": len(trials.errors), "trouble": _trouble(trials)}
        return replace(cell, steps=example, context_json=canonical_json(context))

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        c = cell.context
        spec, th = c["detector"], c["threshold"]
        positives, negatives = c["positives"], c["negatives"]
        detected = sum(decided(v, th) for v in positives)
        false_pos = sum(decided(v, th) for v in negatives)
        claim = judge_rate_at_least(detected, len(positives), c["min_tpr"], "detected")
        fp_ci = wilson(false_pos, len(negatives))
        wm = {
            "kind": c["kind"], "channel": cell.variant, "mode": spec["mode"], "payload_bits": spec.get("payload_bits"),
            "statistic": "matching bits" if spec["mode"] == "multi-bit" else "score",
            "threshold": th, "trials": len(positives), "detected": detected,
            "tpr": round(claim.rate, 6) if positives else None, "tpr_ci95": _ci(claim.interval),
            "bit_accuracy_mean": round(sum(c["bit_accuracy"]) / len(c["bit_accuracy"]), 6) if c["bit_accuracy"] else None,
            "clean_trials": len(negatives), "false_positives": false_pos,
            "fpr": round(false_pos / len(negatives), 6) if negatives else None, "fpr_ci95": _ci(fp_ci),
            "evidence": "sufficient" if claim.verdict != "inconclusive" and th["supported"] else "insufficient",
            "positives": positives, "negatives": negatives,
        }
        own = c["own_decisions"]
        if own[1] or own[3]:
            wm["vendor_decision"] = {"detected": own[0], "trials": own[1], "false_positives": own[2], "clean_trials": own[3]}
        measurements: dict[str, Any] = {"watermark": wm}
        if c["channel"]:
            measurements["channel"] = describe_channel(channel_from(c["channel"]))  # type: ignore[arg-type]
        if c["error_count"]:
            measurements["errors"] = c["errors"]
        reason = f"{claim.reason}; threshold {th['value']} ({th['rule']}){c['trouble']}"
        if c["error_count"]:
            return Verdict(Outcome.ERROR, f"{c['error_count']} trials failed (first: {c['errors'][0]}); {reason}", measurements)
        if th["value"] is None:
            return Verdict(Outcome.INCONCLUSIVE, f"insufficient evidence: no threshold: {th['rule']}", measurements)
        if claim.verdict == "fail":
            return Verdict(Outcome.FAIL, reason, measurements)
        if claim.verdict == "pass" and not th["supported"]:
            return Verdict(Outcome.INCONCLUSIVE, f"insufficient evidence: the threshold's false-positive rate is not shown"
                                                 f" ({th['rule']}); {claim.reason}", measurements)
        return Verdict(Outcome.PASS if claim.verdict == "pass" else Outcome.INCONCLUSIVE, reason, measurements)


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
        params = _params(ctx)
        for kind, corpus in self.corpora(ctx).items():
            channels = chosen_channels(ctx, params, kind)
            for v in [d for d in ctx.with_op(DETECT) if handles(d, DETECT, kind)]:
                cell = Cell(self.id, ctx.config.level, corpus.id, None, v.id)
                members = self.members(ctx, v, kind, DETECT)
                if isinstance(members, str):
                    yield unsupported(cell, members)
                    continue
                # A detector that cannot embed takes the corpus at its own rates.
                spec = detector_spec(v, members, channels, params)
                yield replace(cell, context_json=canonical_json({"kind": kind, "detector": spec}))

    def expand(self, cell: Cell, step: Callable[[Step], StepResult]) -> Cell:
        c = cell.context
        spec = c["detector"]
        trials = Trials(step)
        found = [got for got in trials.detect(spec, trials.clean_probes(spec, spec["channels"])) if got is not None]
        values = [got[0] for got in found]
        own = [bool(got[1]) for got in found if got[1] is not None]
        th = threshold(spec, trials)
        context = {**c, "threshold": th, "values": _finite(values), "own": [sum(own), len(own)],
                   "errors": trials.errors[:5], "error_count": len(trials.errors), "trouble": _trouble(trials)}
        return replace(cell, steps={}, context_json=canonical_json(context))

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        c = cell.context
        spec, th, values = c["detector"], c["threshold"], c["values"]
        fpr = spec["target_fpr"]
        n = len(values)
        fp = sum(decided(v, th) for v in values)
        units = min(n, independent_clean(spec))
        lo, hi = wilson(_scaled(fp, n, units), units)
        m: dict[str, Any] = {"false_positives": {"kind": c["kind"], "mode": spec["mode"], "threshold": th, "trials": n,
                                                 "independent_trials": units,
                                                 "false_detections": fp, "rate": round(fp / n, 6) if n else None,
                                                 "rate_ci95": [round(lo, 6), round(hi, 6)], "target_fpr": fpr}}
        if c["error_count"]:
            return Verdict(Outcome.ERROR, f"{c['error_count']} clean trials failed (first: {c['errors'][0]})", m)
        if not n:
            return Verdict(Outcome.INCONCLUSIVE, "insufficient evidence: no clean trials", m)
        if lo > fpr:
            return Verdict(Outcome.FAIL, f"{fp} of {n} clean trials detected at threshold {th['value']}:"
                                         f" rate {fp / n:.4f} [95 % CI {lo:.4f}, {hi:.4f}] exceeds {fpr:g}{c['trouble']}", m)
        if spec["mode"] == "multi-bit":
            return self._null_model(spec, values, fp, units, m, c["trouble"])
        own_fp, own_n = c["own"]
        if own_n:
            own_units = min(own_n, units)
            own_claim = judge_rate_at_most(_scaled(own_fp, own_n, own_units), own_units, fpr,
                                           f"the vendor's own decision on clean content ({own_fp} of {own_n};"
                                           f" counted per independent vector and key):")
            m["false_positives"]["vendor_decision"] = {"false_detections": own_fp, "trials": own_n}
            if own_claim.verdict == "fail":
                return Verdict(Outcome.FAIL, f"{own_claim.reason} (a consumer trusting the vendor's present flag gets"
                                             f" these false positives; the harness's calibrated threshold"
                                             f" {th['value']} keeps {fp} of {n} clean trials){c['trouble']}", m)
        claim = judge_rate_at_most(_scaled(fp, n, units), units, fpr,
                                   f"clean trials detected ({fp} of {n}; counted per independent vector and key):")
        return Verdict(Outcome(claim.verdict), f"{claim.reason} at calibrated threshold {th['value']}{c['trouble']}", m)

    @staticmethod
    def _null_model(spec: dict[str, Any], values: list[float], fp: int, units: int, m: dict[str, Any],
                    trouble: str) -> Verdict:
        """The binomial threshold holds if clean bits are fair coins: check the tail at a
        level the trials can see (5 %) and the mean agreement, counting independent trials
        (one per vector and key) for the intervals."""
        n_bits = int(spec["payload_bits"])
        n = len(values)
        # the rarest tail the independent trials can see (about 3 expected), 5 % at the least
        level = min(0.5, max(0.05, 3 / max(units, 1)))
        k05 = bit_threshold(n_bits, level) or n_bits
        tail = sum(v >= k05 for v in values)
        expected = binomial_tail(n_bits, k05)
        t_lo, t_hi = wilson(_scaled(tail, n, units), units)
        agree = sum(max(v, 0.0) for v in values)
        a_lo, a_hi = wilson(_scaled(int(agree), n * n_bits, units * n_bits), units * n_bits)
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
        params = _params(ctx)
        for kind, corpus in self.corpora(ctx).items():
            channels = chosen_channels(ctx, params, kind)
            for e in [w for w in watermarkers(ctx) if handles(w, EMBED, kind)]:
                emb_members = self.members(ctx, e, kind, EMBED)
                for d in ctx.with_op(DETECT):
                    if d.id == e.id or not handles(d, DETECT, kind):
                        continue
                    det_members = self.members(ctx, d, kind, DETECT)
                    for ch in channels:
                        cell = Cell(self.id, ctx.config.level, corpus.id, e.id, d.id, ch.name if ch else "none",
                                    channel=ch.name if ch else None)
                        why = next((x for x in (emb_members, det_members) if isinstance(x, str)), None)
                        if why:
                            yield unsupported(cell, why)
                            continue
                        assert not isinstance(emb_members, str) and not isinstance(det_members, str)
                        context = {"kind": kind, "embedder": detector_spec(e, emb_members, channels, params),
                                   "detector": detector_spec(d, det_members, channels, params),
                                   "trials": trials_for(params, e.id, "crosstalk_trials"), "channel": channel_spec(ch)}
                        yield replace(cell, context_json=canonical_json(context))

    def expand(self, cell: Cell, step: Callable[[Step], StepResult]) -> Cell:
        c = cell.context
        emb, det = c["embedder"], c["detector"]
        ch = channel_from(c["channel"])
        trials = Trials(step)
        th = threshold(det, trials)
        probes: list[Probe] = []
        for m in emb["members"]:
            for t in range(c["trials"]):
                ep = embed_params(emb, m["id"], t)
                moved = through(ch, vendor_step(str(cell.producer), EMBED, source(m), ep))
                # The detector is asked with the same key string: the worst case for cross-talk.
                probes.append((moved, ep["key"], _null_reference(det, m["id"], t)))
        values = [got[0] for got in trials.detect(det, probes) if got is not None]
        context = {**c, "threshold": th, "values": _finite(values), "errors": trials.errors[:5],
                   "error_count": len(trials.errors), "trouble": _trouble(trials)}
        return replace(cell, steps={}, context_json=canonical_json(context))

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        c = cell.context
        th, values = c["threshold"], c["values"]
        fpr = c["detector"]["target_fpr"]
        n = len(values)
        k = sum(decided(v, th) for v in values)
        lo, hi = wilson(k, n)
        m = {"crosstalk": {"channel": cell.variant, "trials": n, "false_detections": k,
                           "rate": round(k / n, 6) if n else None, "rate_ci95": [round(lo, 6), round(hi, 6)],
                           "threshold": th}}
        if c["error_count"]:
            return Verdict(Outcome.ERROR, f"{c['error_count']} trials failed (first: {c['errors'][0]})", m)
        if not n:
            return Verdict(Outcome.INCONCLUSIVE, "insufficient evidence: no trials", m)
        text = (f"{cell.consumer} detected {cell.producer}'s mark in {k} of {n} trials at threshold {th['value']}"
                f" (rate {k / n:.3f}, 95 % upper bound {hi:.3f}){c['trouble']}")
        if lo > fpr:
            return Verdict(Outcome.FAIL, text, m)
        if k == 0:
            return Verdict(Outcome.PASS, text, m)
        return Verdict(Outcome.INCONCLUSIVE, f"insufficient evidence: {text}", m)


# -- per-vector checks -----------------------------------------------------------------


def image_quality(original: bytes, marked: bytes) -> dict[str, float]:
    import numpy as np
    from PIL import Image
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    with Image.open(io.BytesIO(original)) as a, Image.open(io.BytesIO(marked)) as b:
        x = np.asarray(a.convert("RGB"))
        y = np.asarray(b.convert("RGB"))
    if x.shape != y.shape:
        raise ValueError(f"the marked image is {y.shape[1]}x{y.shape[0]}, the original {x.shape[1]}x{x.shape[0]}")
    psnr = float(peak_signal_noise_ratio(x, y, data_range=255)) if not np.array_equal(x, y) else math.inf
    ssim = float(structural_similarity(x, y, channel_axis=2, data_range=255))
    return {"psnr_db": round(psnr, 3) if math.isfinite(psnr) else 999.0, "ssim": round(ssim, 5)}


def audio_quality(original: bytes, marked: bytes, frame_s: float = 0.02) -> dict[str, float]:
    """SNR and segmental SNR (frames of 20 ms, each clamped to [-10, 35] dB, silent
    frames skipped) of the marked signal against the original."""
    import numpy as np
    import soundfile as sf

    x, rx = sf.read(io.BytesIO(original), dtype="float64", always_2d=True)
    y, ry = sf.read(io.BytesIO(marked), dtype="float64", always_2d=True)
    if rx != ry:
        raise ValueError(f"the marked audio is at {ry} Hz, the original at {rx} Hz")
    n = min(len(x), len(y))
    x, y = x[:n].mean(axis=1), y[:n].mean(axis=1)
    noise = x - y
    snr = 10 * math.log10(float(np.sum(x * x)) / max(float(np.sum(noise * noise)), 1e-20))
    frame = max(1, int(rx * frame_s))
    segs = []
    for i in range(0, n - frame + 1, frame):
        s, e = x[i:i + frame], noise[i:i + frame]
        power = float(np.sum(s * s))
        if power < 1e-8:
            continue
        segs.append(min(35.0, max(-10.0, 10 * math.log10(power / max(float(np.sum(e * e)), 1e-20)))))
    seg = sum(segs) / len(segs) if segs else snr
    return {"snr_db": round(snr, 3), "segmental_snr_db": round(seg, 3), "length_difference": abs(len(x) - len(y))}


class Quality(CorpusCheck):
    id = "watermark.quality"
    title = "Perceptual cost of the mark"
    family = "watermark"
    description = (
        "The marked file against its input: PSNR and SSIM for images (scikit-image), SNR and segmental SNR for"
        " audio. Each must reach the profile's minimum (min_psnr_db, min_ssim, min_snr_db, min_segsnr_db)."
    )
    MINIMUMS = {"min_psnr_db": 35.0, "min_ssim": 0.95, "min_snr_db": 20.0, "min_segsnr_db": 15.0}

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        params = _params(ctx)
        minimums = {k: float(params.get(k, v)) for k, v in self.MINIMUMS.items()}
        for v in watermarkers(ctx):
            spec = detector_spec(v, [], [], params)
            for vector in [x for x in ctx.vectors if handles(v, EMBED, kind_of(x.media_type))]:
                cell = Cell(self.id, ctx.config.level, vector.id, v.id, None)
                if not v.capability(EMBED, vector.media_type):
                    yield unsupported(cell, f"{v.id} does not declare {EMBED} for {vector.media_type}")
                    continue
                m = member(vector, v)
                src = source(m)
                steps: dict[str, Step] = {}
                if isinstance(src, Step):
                    steps["input"] = src
                steps["marked"] = vendor_step(v.id, EMBED, src, embed_params(spec, vector.id, 0))
                yield replace(cell, steps=steps, context_json=canonical_json({"kind": kind_of(vector.media_type), **minimums}))

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        c = cell.context
        original = answers.asset("input").data if "input" in answers.results else answers.source().data
        marked = answers.asset("marked").data
        try:
            if c["kind"] == "image":
                q = image_quality(original, marked)
                limits = {"psnr_db": c["min_psnr_db"], "ssim": c["min_ssim"]}
            else:
                q = audio_quality(original, marked)
                limits = {"snr_db": c["min_snr_db"], "segmental_snr_db": c["min_segsnr_db"]}
        except ValueError as exc:
            return Verdict(Outcome.FAIL, f"the marked file cannot be compared with its input: {exc}")
        low = [f"{k} {q[k]} < {limit:g}" for k, limit in limits.items() if q[k] < limit]
        text = ", ".join(f"{k} {q[k]}" for k in limits)
        if low:
            return Verdict(Outcome.FAIL, f"below the profile's minimum: {'; '.join(low)}", {"quality": q})
        return Verdict(Outcome.PASS, text, {"quality": q})


def _decide_one(spec: dict[str, Any], trials: Trials, th: dict[str, Any], asset: Step | str, trial_key: str,
                expected: str | None) -> dict[str, Any]:
    got = trials.detect(spec, [(asset, trial_key, expected)])[0]
    if got is None:
        return {"vendor": spec["vendor"], "error": trials.last_error}
    out: dict[str, Any] = {"vendor": spec["vendor"], "statistic": got[0] if math.isfinite(got[0]) else None,
                           "threshold": th["value"], "detected": decided(got[0], th)}
    if spec["mode"] == "multi-bit":
        out["bit_accuracy"] = round(max(got[0], 0.0) / int(spec["payload_bits"]), 4)
    return out


class Coexistence(CorpusCheck):
    id = "watermark.coexistence"
    title = "Marks coexist: a second mark, metadata and a C2PA signature keep the first"
    family = "watermark"
    description = (
        "Two marks: A embeds, then B embeds on A's output; both detectors must still find their marks. The"
        " pipeline: a mark, then metadata written by a metadata vendor, then a C2PA signature: the mark is still"
        " detected, the manifest validates and the metadata is intact."
    )

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        params = _params(ctx)
        fields = value_sets({})["ascii"]
        for kind, _corpus in self.corpora(ctx).items():
            channels = chosen_channels(ctx, params, kind)
            marks = [w for w in watermarkers(ctx) if handles(w, EMBED, kind)]
            specs = {}
            for v in marks:
                members = self.members(ctx, v, kind, EMBED)
                if not isinstance(members, str):
                    specs[v.id] = detector_spec(v, members, channels, params)
            for vector in [v for v in ctx.vectors if kind_of(v.media_type) == kind]:
                mt = vector.media_type
                for a in marks:
                    for b in marks:
                        if a.id == b.id:
                            continue
                        cell = Cell(self.id, ctx.config.level, vector.id, f"{a.id}+{b.id}", None, "two-marks")
                        if a.id not in specs or b.id not in specs:
                            yield unsupported(cell, f"{a.id if a.id not in specs else b.id} does not mark all {kind} vectors")
                            continue
                        yield replace(cell, context_json=canonical_json(
                            {"mode": "two-marks", "vector": vector.id, "first": specs[a.id], "second": specs[b.id]}))
                for a in marks:
                    if a.id not in specs:
                        continue
                    for w in ctx.with_op("metadata.write"):
                        if not (w.capability("metadata.write", mt) and w.capability("metadata.read", mt)):
                            continue
                        values = {k: v for k, v in fields.items() if k in declared_fields(w, "metadata.write", mt)}
                        for s in ctx.with_op("provenance.sign"):
                            if not s.capability("provenance.sign", mt):
                                continue
                            reader = s if s.capability("provenance.read", mt) else None
                            cell = Cell(self.id, ctx.config.level, vector.id, f"{a.id}+{w.id}+{s.id}", a.id, "pipeline")
                            if reader is None:
                                yield unsupported(cell, f"{s.id} does not read back what it signs in {mt}")
                                continue
                            passes = sorted(set(normalisations(w, "metadata.write", mt)) | set(normalisations(w, "metadata.read", mt)))
                            context = {"mode": "pipeline", "vector": vector.id, "first": specs[a.id], "writer": w.id,
                                       "signer": s.id, "fields": values, "passes": passes,
                                       "sign": sign_params(ctx, s.id, f"aiii {vector.id}"), "read": read_params(ctx, True),
                                       "state": signed_state(reader, mt), "validates": validates(reader, mt)}
                            yield replace(cell, context_json=canonical_json(context))

    def expand(self, cell: Cell, step: Callable[[Step], StepResult]) -> Cell:
        c = cell.context
        first = c["first"]
        trials = Trials(step)
        m = next(x for x in first["members"] if x["id"] == c["vector"])
        ep = embed_params(first, m["id"], 0)
        marked = vendor_step(first["vendor"], EMBED, source(m), ep)
        th_a = threshold(first, trials)
        if c["mode"] == "two-marks":
            second = c["second"]
            ep2 = embed_params(second, m["id"], 1)
            twice = vendor_step(second["vendor"], EMBED, marked, ep2)
            th_b = threshold(second, trials)
            results = [_decide_one(first, trials, th_a, twice, ep["key"], ep.get("payload")),
                       _decide_one(second, trials, th_b, twice, ep2["key"], ep2.get("payload"))]
            steps = {"first": marked, "second": twice}
        else:
            written = vendor_step(c["writer"], "metadata.write", marked, {"fields": c["fields"]})
            signed = vendor_step(c["signer"], "provenance.sign", written, c["sign"])
            results = [_decide_one(first, trials, th_a, signed, ep["key"], ep.get("payload"))]
            steps = {"marked": marked, "written": written, "signed": signed,
                     "metadata": vendor_step(c["writer"], "metadata.read", signed, {}),
                     "read": vendor_step(c["signer"], "provenance.read", signed, c["read"])}
        context = {**c, "results": results, "errors": trials.errors[:5]}
        return replace(cell, steps=steps, context_json=canonical_json(context))

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        c = cell.context
        results = c["results"]
        m: dict[str, Any] = {"detections": results}
        broken = [r for r in results if "error" in r]
        if broken:
            return Verdict(Outcome.ERROR, f"detection by {broken[0]['vendor']} failed: {broken[0]['error']}", m)
        lost = [r["vendor"] for r in results if not r["detected"]]
        problems = [f"{', '.join(lost)}'s mark no longer detected"] if lost else []
        if c["mode"] == "pipeline":
            read = answers.report("read")
            got = answers.report("metadata")["fields"]
            passes = c["passes"]
            altered = sorted(k for k, v in c["fields"].items() if k not in got or normalise(got[k], passes) != normalise(v, passes))
            m["metadata_lost_or_altered"] = altered
            m["manifest"] = {"present": read["manifest_present"], "state": read["validation_state"], "failure": failure_codes(read)}
            m["pixels_or_samples_kept"] = _same_content(answers.asset("marked"), answers.asset("signed"))
            if altered:
                problems.append(f"metadata lost or altered: {', '.join(altered)}")
            if not read["manifest_present"]:
                problems.append("no manifest")
            elif c["validates"] and read["validation_state"] != c["state"]:
                problems.append(f"manifest {read['validation_state']} {failure_codes(read)}, expected {c['state']}")
        if problems:
            return Verdict(Outcome.FAIL, "; ".join(problems), m)
        found = ", ".join(f"{r['vendor']} {r.get('bit_accuracy', r['statistic'])}" for r in results)
        return Verdict(Outcome.PASS, f"every mark still detected ({found})" + (
            "; metadata intact, manifest " + str(m["manifest"]["state"]) if c["mode"] == "pipeline" else ""), m)


def _same_content(a: Any, b: Any) -> bool | None:
    """Whether two files decode to the same pixels or samples (None: cannot tell)."""
    try:
        import numpy as np

        if a.media_type.startswith("image/"):
            from PIL import Image

            with Image.open(io.BytesIO(a.data)) as x, Image.open(io.BytesIO(b.data)) as y:
                return bool(np.array_equal(np.asarray(x.convert("RGB")), np.asarray(y.convert("RGB"))))
        import soundfile as sf

        x, _ = sf.read(io.BytesIO(a.data), dtype="int16")
        y, _ = sf.read(io.BytesIO(b.data), dtype="int16")
        return bool(np.array_equal(x, y))
    except Exception:  # noqa: BLE001 - a measurement, not the verdict
        return None


def soft_binding_alg(vendor: VendorManifest) -> tuple[str, bool]:
    """The vendor's soft-binding algorithm name and whether it is a registered one."""
    registered = options(vendor, EMBED).get("soft_binding_alg")
    if isinstance(registered, str) and registered:
        return registered, True
    return f"{PRIVATE_ALG_PREFIX}{vendor.id}.1", False


class SoftBinding(CorpusCheck):
    id = "watermark.soft_binding"
    title = "A watermark declared as a C2PA soft binding, recovered after the manifest is stripped"
    family = "watermark"
    description = (
        "A multi-bit mark is embedded; the signer's manifest declares it in c2pa.soft-binding (the registry's"
        " algorithm name where one exists, else a private one) with a c2pa.watermarked action; a channel that"
        " strips the manifest (social media for images, MP3 for audio) follows; the detector's payload must"
        " equal the soft-binding value read from the original manifest."
    )

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        params = _params(ctx)
        strip = {"image": params.get("strip_channel_image", "social-media"), "audio": params.get("strip_channel_audio", "mp3-128k")}
        for kind, _corpus in self.corpora(ctx).items():
            name = strip[kind]
            if name not in ctx.channels:
                raise PlanError(f"params.strip_channel_{kind}: unknown channel {name!r}")
            channels = chosen_channels(ctx, params, kind)
            for vector in [v for v in ctx.vectors if kind_of(v.media_type) == kind]:
                mt = vector.media_type
                for a in [w for w in watermarkers(ctx) if handles(w, EMBED, kind)]:
                    for s in ctx.with_op("provenance.sign"):
                        cell = Cell(self.id, ctx.config.level, vector.id, s.id, a.id, name)
                        members = self.members(ctx, a, kind, EMBED)
                        why = (members if isinstance(members, str) else
                               f"{a.id} is a zero-bit mark: no payload to bind" if options(a, EMBED).get("mode") == "zero-bit" else
                               f"{s.id} does not sign {mt}" if not s.capability("provenance.sign", mt) else
                               f"{s.id} does not read {mt}" if not s.capability("provenance.read", mt) else None)
                        if why:
                            yield unsupported(cell, why)
                            continue
                        assert not isinstance(members, str)
                        alg, registered = soft_binding_alg(a)
                        spec = detector_spec(a, members, channels, params)
                        context = {"vector": vector.id, "detector": spec, "alg": alg, "registered": registered,
                                   "sign": sign_params(ctx, s.id, f"aiii {vector.id}"), "read": read_params(ctx, True),
                                   "strip": channel_spec(ctx.channels[name])}
                        yield replace(cell, context_json=canonical_json(context))

    def expand(self, cell: Cell, step: Callable[[Step], StepResult]) -> Cell:
        c = cell.context
        spec = c["detector"]
        m = next(x for x in spec["members"] if x["id"] == c["vector"])
        ep = embed_params(spec, m["id"], 0)
        marked = vendor_step(str(cell.consumer), EMBED, source(m), ep)
        value_hex = f"{int(ep['payload'], 2):0{(len(ep['payload']) + 7) // 8 * 2}x}"
        sign = {**c["sign"],
                "actions": [*c["sign"]["actions"], {"action": "c2pa.watermarked"}],
                "soft_bindings": [{"alg": c["alg"], "value_hex": value_hex,
                                   "binding_metadata": {"payload_bits": len(ep["payload"])}}]}
        signed = vendor_step(str(cell.producer), "provenance.sign", marked, sign)
        read = vendor_step(str(cell.producer), "provenance.read", signed, c["read"])
        strip = channel_from(c["strip"])
        assert strip is not None
        stripped = chain_step(strip, signed)
        detected = vendor_step(str(cell.consumer), DETECT, stripped, detect_params(spec, ep["key"]))
        steps = {"marked": marked, "signed": signed, "read": read, "stripped": stripped, "detected": detected,
                 "after_strip": vendor_step(str(cell.producer), "provenance.read", stripped, c["read"])}
        return replace(cell, steps=steps, context_json=canonical_json({**c, "value_hex": value_hex,
                                                                       "bits": len(ep["payload"])}))

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        c = cell.context
        manifest = answers.report("read").get("active_manifest") or {}
        blocks = [b for b in manifest.get("soft_bindings") or [] if b.get("alg") == c["alg"]]
        actions = [a.get("action") for a in manifest.get("actions") or []]
        stored = [_binding_hex(b.get("value")) for b in blocks]
        bits = answers.report("detected").get("bits") or ""
        n = int(c["bits"])
        recovered = f"{int(bits, 2):0{(n + 7) // 8 * 2}x}" if len(bits) == n else None
        still = answers.report("after_strip")["manifest_present"]
        m = {"alg": c["alg"], "registered_alg": c["registered"], "signed_value_hex": c["value_hex"],
             "manifest_values_hex": stored, "recovered_hex": recovered, "manifest_after_strip": still,
             "actions": actions}
        if not blocks:
            return Verdict(Outcome.FAIL, f"the signed manifest carries no {c['alg']} soft binding", m)
        if "c2pa.watermarked" not in actions:
            return Verdict(Outcome.FAIL, f"the manifest lacks the c2pa.watermarked action ({actions})", m)
        if still:
            return Verdict(Outcome.FAIL, f"the channel {c['strip']['name']} did not strip the manifest", m)
        if recovered is None:
            return Verdict(Outcome.FAIL, f"the detector decoded {len(bits)} bits, not {n}", m)
        if recovered not in stored:
            wrong = sum(a != b for a, b in zip(bits, f"{int(stored[0] or '0', 16):0{n}b}"[-n:], strict=False)) if stored[0] else n
            m["wrong_bits"] = wrong
            return Verdict(Outcome.FAIL, f"recovered payload {recovered} differs from the manifest's {stored} ({wrong} bits)", m)
        return Verdict(Outcome.PASS, f"payload {recovered} recovered after {c['strip']['name']} stripped the manifest;"
                                     f" it equals the {c['alg']} soft binding", m)


def _binding_hex(value: Any) -> str | None:
    """A normalised soft-binding value (``bytes:<hex>``, base64 text or a byte list) as hex."""
    import base64

    if isinstance(value, str) and value.startswith("bytes:"):
        return value[6:]
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True).hex()
        except ValueError:
            return None
    if isinstance(value, list) and all(isinstance(x, int) for x in value):
        return bytes(value).hex()
    return None


def watermark_checks() -> list[Check]:
    return [Robustness(), FalsePositives(), CrossTalk(), Quality(), Coexistence(), SoftBinding()]


__all__ = ["watermark_checks", "payload", "key"]
