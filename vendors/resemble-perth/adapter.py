"""resemble-perth: Resemble AI's PerTh neural audio watermark (zero-bit, unkeyed).

The implicit PerthNet model ships inside the wheel.  The package imports it inside a
``try/except ImportError`` and quietly leaves ``perth.PerthImplicitWatermarker`` as None
when anything is missing (torch, torchaudio, librosa, or ``pkg_resources`` from
setuptools<81): this adapter checks that it really loaded and says why not.

The model works on mono audio at 32 kHz and resamples any other rate itself (librosa).
Several channels are mixed to mono for the model; the difference the mark made to that
mix is added to every channel, so the output keeps the input's rate and channel count.
The output is WAV PCM16 of the input's length.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import perth
import torch
from aiii_kit import Adapter, AdapterError, Asset, Unsupported
from aiii_kit.watermark import detect_report, mono_mark_wav, read_samples, require_key

MIN_SECONDS = 0.5  # the model's STFT padding fails on shorter input; refused with a clear message
THRESHOLD = 0.5  # the library's own decision: get_watermark(round=True) rounds the confidence
DETECT_TYPES = frozenset({"audio/wav", "audio/flac", "audio/ogg", "audio/mpeg"})  # what libsndfile reads


class PerthAdapter(Adapter):
    _watermarker: Any = None

    def health(self) -> None:
        self._model()

    def _model(self) -> Any:
        if self._watermarker is None:
            # One thread unless the manifest says otherwise: torch's busy-waiting threads
            # slow everything down on a shared two-core machine.
            torch.set_num_threads(int(self.config.get("torch_threads", 1)))
            cls = getattr(perth, "PerthImplicitWatermarker", None)
            if cls is None:
                raise AdapterError(
                    "resemble-perth loaded without its neural watermarker (perth.PerthImplicitWatermarker is None): "
                    f"{_import_failure()}. It needs torch, torchaudio, librosa, soundfile and setuptools<81 "
                    "(for pkg_resources)")
            self._watermarker = cls(device="cpu")
        return self._watermarker

    def watermark_embed(self, asset: Asset, params: dict[str, Any]) -> Asset:
        if asset.media_type != "audio/wav":
            raise Unsupported(f"embeds into WAV only, not {asset.media_type}")
        model = self._model()
        require_key(params)
        if params.get("payload") is not None:
            raise AdapterError("payload: resemble-perth is a zero-bit watermark and embeds no payload")
        if params.get("strength") is not None:
            raise Unsupported("resemble-perth has no strength setting")
        samples, rate = read_samples(asset, MIN_SECONDS, "resemble-perth")
        mono = samples.mean(axis=1)
        try:
            marked = np.asarray(model.apply_watermark(mono, sample_rate=rate), dtype=np.float64)
        except (RuntimeError, ValueError) as exc:
            raise AdapterError(f"resemble-perth could not embed: {exc}") from exc
        # The model's STFT round trip (and its resampling) can return a few samples fewer.
        return mono_mark_wav(samples, mono, marked, rate, asset.name)

    def watermark_detect(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        if asset.media_type not in DETECT_TYPES:
            raise Unsupported(f"detects in WAV, FLAC, OGG and MP3 audio, not {asset.media_type}")
        model = self._model()
        require_key(params)
        samples, rate = read_samples(asset, MIN_SECONDS, "resemble-perth")
        try:
            score = float(model.get_watermark(samples.mean(axis=1), sample_rate=rate, round=False))
        except (RuntimeError, ValueError) as exc:
            raise AdapterError(f"resemble-perth could not detect: {exc}") from exc
        return detect_report(present=score >= THRESHOLD, score=score)


def _import_failure() -> str:
    """Why the watermarker module does not import (the package hides the error)."""
    try:
        importlib.import_module("perth.perth_net.perth_net_implicit.perth_watermarker")
        importlib.import_module("perth.perth_net")
    except Exception as exc:  # noqa: BLE001 - the reason is the point
        return f"importing it fails with {type(exc).__name__}: {exc}"
    return "the module imports now, but did not when perth was first imported"
