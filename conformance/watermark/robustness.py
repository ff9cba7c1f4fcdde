"""``watermark.robustness``: the true-positive rate of each embedder's own detector
through each channel, with its Wilson interval."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from conformance.base import Answers, PlanContext, planned
from conformance.channels import describe_channel
from conformance.corpus import (
    EMBED,
    CorpusCheck,
    channel_from,
    channel_spec,
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
from conformance.trials import Trials, ci_bounds, decided, detector_spec, embed_params, finite_only, threshold, trouble_note
from runner.model import (
    Cell,
    Outcome,
    Step,
    StepResult,
    Verdict,
    canonical_json,
    vendor_step,
)


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
                    spec = detector_spec(v, members, channels, params)
                    context = {"kind": kind, "detector": spec, "trials": trials_for(params, v.id), "min_tpr": params["min_tpr"],
                               "channel": channel_spec(ch)}
                    yield planned(cell, context=context)

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
        context = {**c, "threshold": th, "positives": finite_only(positives), "negatives": finite_only(negatives),
                   "bit_accuracy": bit_acc, "own_decisions": [sum(own), len(own), sum(clean_own), len(clean_own)],
                   "errors": trials.errors[:5], "error_count": len(trials.errors), "trouble": trouble_note(trials)}
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
            "tpr": round(claim.rate, 6) if positives else None, "tpr_ci95": ci_bounds(claim.interval),
            "bit_accuracy_mean": round(sum(c["bit_accuracy"]) / len(c["bit_accuracy"]), 6) if c["bit_accuracy"] else None,
            "clean_trials": len(negatives), "false_positives": false_pos,
            "fpr": round(false_pos / len(negatives), 6) if negatives else None, "fpr_ci95": ci_bounds(fp_ci),
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
