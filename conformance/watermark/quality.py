"""``watermark.quality``: PSNR and SSIM for images, SNR and segmental SNR for audio."""

from __future__ import annotations

import io
import math
from collections.abc import Iterable
from dataclasses import dataclass

from conformance.base import Answers, CellContext, PlanContext, planned
from conformance.corpus import EMBED, CorpusCheck, handles, kind_of, member, profile_params, source, watermarkers
from conformance.trials import detector_spec, mark
from runner.model import (
    Cell,
    Outcome,
    Step,
    Verdict,
    vendor_step,
)


@dataclass(frozen=True)
class QualityContext(CellContext):
    """The kind of media and the profile's minimums (only the kind's two are judged)."""

    kind: str
    min_psnr_db: float
    min_ssim: float
    min_snr_db: float
    min_segsnr_db: float


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
        params = profile_params(ctx)
        minimums = {k: float(params.get(k, v)) for k, v in self.MINIMUMS.items()}
        for v in watermarkers(ctx):
            spec = detector_spec(v, [], [], params)
            for vector in [x for x in ctx.vectors if handles(v, EMBED, kind_of(x.media_type))]:
                cell = self.cell(ctx, vector=vector.id, producer=v.id, consumer=None)
                if not v.capability(EMBED, vector.media_type):
                    yield planned(cell, f"{v.id} does not declare {EMBED} for {vector.media_type}")
                    continue
                m = member(vector, v)
                src = source(m)
                steps: dict[str, Step] = {}
                if isinstance(src, Step):
                    steps["input"] = src
                steps["marked"] = vendor_step(v.id, EMBED, src, mark(spec, vector.id, 0).params)
                yield planned(cell, steps=steps, context=QualityContext(kind=kind_of(vector.media_type), **minimums))

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        c = cell.context_as(QualityContext)
        original = answers.asset("input").data if "input" in answers.results else answers.source().data
        marked = answers.asset("marked").data
        try:
            if c.kind == "image":
                q = image_quality(original, marked)
                limits = {"psnr_db": c.min_psnr_db, "ssim": c.min_ssim}
            else:
                q = audio_quality(original, marked)
                limits = {"snr_db": c.min_snr_db, "segmental_snr_db": c.min_segsnr_db}
        except ValueError as exc:
            return Verdict(Outcome.FAIL, f"the marked file cannot be compared with its input: {exc}")
        low = [f"{k} {q[k]} < {limit:g}" for k, limit in limits.items() if q[k] < limit]
        text = ", ".join(f"{k} {q[k]}" for k in limits)
        if low:
            return Verdict(Outcome.FAIL, f"below the profile's minimum: {'; '.join(low)}", {"quality": q})
        return Verdict(Outcome.PASS, text, {"quality": q})
