"""``watermark.coexistence``: a second mark, metadata and a C2PA signature keep the first."""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from conformance.base import Answers, CellContext, PlanContext, planned
from conformance.c2pa import failure_codes, read_params, sign_params, signed_state, validates
from conformance.corpus import EMBED, CorpusCheck, chosen_channels, handles, kind_of, profile_params, source, watermarkers
from conformance.fields import declared_fields, normalisations, normalise, value_sets
from conformance.trials import DetectorSpec, Probe, Threshold, Trials, decided, detector_spec, mark, threshold
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
class TwoMarksPlan(CellContext):
    """A vector marked by the first vendor, then by the second."""

    vector: str
    first: DetectorSpec
    second: DetectorSpec


@dataclass(frozen=True)
class PipelinePlan(CellContext):
    """A vector marked, its metadata written, then signed: the fields written, the
    normalisation passes, the sign and read params and the state a sound signature
    reads as."""

    vector: str
    first: DetectorSpec
    writer: str
    signer: str
    fields: dict[str, str]
    passes: tuple[str, ...]
    sign: dict[str, Any]
    read: dict[str, Any]
    state: str
    validates: bool


@dataclass(frozen=True)
class Detection:
    """One detector's decision on the final file (or the error that kept it from one)."""

    vendor: str
    error: str | None = None
    statistic: float | None = None
    threshold: float | None = None
    detected: bool = False
    bit_accuracy: float | None = None  # multi-bit

    def as_dict(self) -> dict[str, Any]:
        """As recorded in measurements."""
        if self.error is not None:
            return {"vendor": self.vendor, "error": self.error}
        out: dict[str, Any] = {"vendor": self.vendor, "statistic": self.statistic, "threshold": self.threshold,
                               "detected": self.detected}
        return out if self.bit_accuracy is None else {**out, "bit_accuracy": self.bit_accuracy}


@dataclass(frozen=True)
class CoexistenceEvidence(CellContext):
    """Each mark's detection on the final file, and the pipeline (None: two marks)."""

    pipeline: PipelinePlan | None
    results: tuple[Detection, ...]


def _decide_one(spec: DetectorSpec, trials: Trials, th: Threshold, asset: Step | str, trial_key: str,
                expected: str | None) -> Detection:
    got = trials.detect(spec, [Probe(asset, trial_key, expected)])[0]
    if got is None:
        return Detection(spec.vendor, error=trials.last_error)
    return Detection(spec.vendor, statistic=got.value if math.isfinite(got.value) else None, threshold=th.value,
                     detected=decided(got.value, th),
                     bit_accuracy=round(max(got.value, 0.0) / spec.bits, 4) if spec.mode == "multi-bit" else None)


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
        params = profile_params(ctx)
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
                        cell = self.cell(ctx, vector=vector.id, producer=f"{a.id}+{b.id}", consumer=None, variant="two-marks")
                        if a.id not in specs or b.id not in specs:
                            yield planned(cell, f"{a.id if a.id not in specs else b.id} does not mark all {kind} vectors")
                            continue
                        yield planned(cell, context=TwoMarksPlan(vector=vector.id, first=specs[a.id], second=specs[b.id]))
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
                            cell = self.cell(ctx, vector=vector.id, producer=f"{a.id}+{w.id}+{s.id}", consumer=a.id, variant="pipeline")
                            if reader is None:
                                yield planned(cell, f"{s.id} does not read back what it signs in {mt}")
                                continue
                            passes = sorted(set(normalisations(w, "metadata.write", mt)) | set(normalisations(w, "metadata.read", mt)))
                            plan = PipelinePlan(vector=vector.id, first=specs[a.id], writer=w.id, signer=s.id, fields=values,
                                                passes=tuple(passes), sign=sign_params(ctx, s.id, f"aiii {vector.id}"),
                                                read=read_params(ctx, True), state=signed_state(reader, mt),
                                                validates=validates(reader, mt))
                            yield planned(cell, context=plan)

    def expand(self, cell: Cell, step: Callable[[Step], StepResult]) -> Cell:
        c: TwoMarksPlan | PipelinePlan
        c = cell.context_as(TwoMarksPlan) if cell.variant == "two-marks" else cell.context_as(PipelinePlan)
        first = c.first
        trials = Trials(step)
        m = first.member(c.vector)
        mk = mark(first, m.id, 0)
        marked = vendor_step(first.vendor, EMBED, source(m), mk.params)
        th_a = threshold(first, trials)
        if isinstance(c, TwoMarksPlan):
            second = c.second
            mk2 = mark(second, m.id, 1)
            twice = vendor_step(second.vendor, EMBED, marked, mk2.params)
            th_b = threshold(second, trials)
            results = [_decide_one(first, trials, th_a, twice, mk.key, mk.payload),
                       _decide_one(second, trials, th_b, twice, mk2.key, mk2.payload)]
            steps = {"first": marked, "second": twice}
        else:
            written = vendor_step(c.writer, "metadata.write", marked, {"fields": c.fields})
            signed = vendor_step(c.signer, "provenance.sign", written, c.sign)
            results = [_decide_one(first, trials, th_a, signed, mk.key, mk.payload)]
            steps = {"marked": marked, "written": written, "signed": signed,
                     "metadata": vendor_step(c.writer, "metadata.read", signed, {}),
                     "read": vendor_step(c.signer, "provenance.read", signed, c.read)}
        evidence = CoexistenceEvidence(pipeline=c if isinstance(c, PipelinePlan) else None, results=tuple(results))
        return with_context(cell, evidence, steps=steps)

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        e = cell.context_as(CoexistenceEvidence)
        results, p = e.results, e.pipeline
        m: dict[str, Any] = {"detections": [r.as_dict() for r in results]}
        broken = [r for r in results if r.error is not None]
        if broken:
            return Verdict(Outcome.ERROR, f"detection by {broken[0].vendor} failed: {broken[0].error}", m)
        lost = [r.vendor for r in results if not r.detected]
        problems = [f"{', '.join(lost)}'s mark no longer detected"] if lost else []
        if p is not None:
            read = answers.report("read")
            got = answers.report("metadata")["fields"]
            passes = p.passes
            altered = sorted(k for k, v in p.fields.items() if k not in got or normalise(got[k], passes) != normalise(v, passes))
            m["metadata_lost_or_altered"] = altered
            m["manifest"] = {"present": read["manifest_present"], "state": read["validation_state"], "failure": failure_codes(read)}
            m["pixels_or_samples_kept"] = _same_content(answers.asset("marked"), answers.asset("signed"))
            if altered:
                problems.append(f"metadata lost or altered: {', '.join(altered)}")
            if not read["manifest_present"]:
                problems.append("no manifest")
            elif p.validates and read["validation_state"] != p.state:
                problems.append(f"manifest {read['validation_state']} {failure_codes(read)}, expected {p.state}")
        if problems:
            return Verdict(Outcome.FAIL, "; ".join(problems), m)
        found = ", ".join(f"{r.vendor} {r.bit_accuracy if r.bit_accuracy is not None else r.statistic}" for r in results)
        return Verdict(Outcome.PASS, f"every mark still detected ({found})" + (
            "; metadata intact, manifest " + str(m["manifest"]["state"]) if p is not None else ""), m)


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
