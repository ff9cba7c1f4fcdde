"""AWARE: a 20-bit audio watermark embedded by adversarial optimisation against a fixed
detector network (its weights come from a fixed seed: nothing is downloaded).

The library works on mono audio at 16 kHz.  Embedding takes a 16 kHz WAV (the harness
resamples to the declared rate first) and refuses other rates; several channels are
mixed to mono for the library, and the difference its mark made to that mix is added
to every channel, so the output keeps the input's channel count.  AWARE rescales its
output to the input's positive peak, so levels can change.  Embedding runs 400
optimisation steps: tens of seconds per 10 s of audio on two cores.  Detection takes
any rate and resamples to 16 kHz itself (scipy's polyphase filter).

The library refuses audio in which its voice-activity check finds no speech.
"""

from __future__ import annotations

import logging
from math import gcd
from typing import Any

import numpy as np
import torch
from aiii_kit import Adapter, AdapterError, Asset, Unsupported
from aiii_kit.watermark import bits_string, detect_report, mono_mark_wav, payload_list, read_samples, require_key
from aware.service.detect import detect_watermark
from aware.service.embed import embed_watermark
from aware.utils.models.load_model import load
from scipy.signal import resample_poly

PAYLOAD_BITS = 20
RATE = 16000
MIN_SECONDS = 1.0  # the detector slides one-second windows
DETECT_TYPES = frozenset({"audio/wav", "audio/flac", "audio/ogg", "audio/mpeg"})  # what libsndfile reads

logging.getLogger("deltamark").setLevel(logging.CRITICAL)  # the library logs every refusal in colour to stdout


class AwareAdapter(Adapter):
    _models: Any = None

    def health(self) -> None:
        self._load()

    def _load(self) -> Any:
        if self._models is None:
            # One thread unless the manifest says otherwise: torch's busy-waiting threads on
            # a shared two-core machine made one embedding 10-20 times slower, not faster.
            torch.set_num_threads(int(self.config.get("torch_threads", 1)))
            models = load("AWARE")  # the full-length 20-bit model; None when its config fails to load
            if models is None:
                raise AdapterError("aware could not build its embedder and detector (see the process log)")
            self._models = models
        return self._models

    def watermark_embed(self, asset: Asset, params: dict[str, Any]) -> Asset:
        if asset.media_type != "audio/wav":
            raise Unsupported(f"embeds into WAV only, not {asset.media_type}")
        embedder, _ = self._load()
        require_key(params)
        if params.get("strength") is not None:
            raise Unsupported("aware's strength (tolerance_db) is fixed by its model card")
        payload = np.array(payload_list(params, PAYLOAD_BITS))
        samples, rate = read_samples(asset, MIN_SECONDS, "aware")
        if rate != RATE:
            raise Unsupported(f"aware embeds at {RATE} Hz only, this WAV is {rate} Hz")
        mono = samples.mean(axis=1)
        try:
            marked = np.asarray(embed_watermark(mono.astype(np.float32), RATE, payload, embedder), dtype=np.float64)
        except ValueError as exc:
            raise AdapterError(f"aware refused the audio: {exc}") from exc
        return mono_mark_wav(samples, mono, marked, rate, asset.name)

    def watermark_detect(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        if asset.media_type not in DETECT_TYPES:
            raise Unsupported(f"detects in WAV, FLAC, OGG and MP3 audio, not {asset.media_type}")
        _, detector = self._load()
        require_key(params)
        bits = params.get("payload_bits", PAYLOAD_BITS)
        if bits != PAYLOAD_BITS:
            raise AdapterError(f"payload_bits: aware embeds exactly {PAYLOAD_BITS} bits, asked for {bits!r}")
        samples, rate = read_samples(asset, MIN_SECONDS, "aware")
        mono = samples.mean(axis=1)
        notes = []
        if rate != RATE:
            step = gcd(RATE, rate)
            mono = resample_poly(mono, RATE // step, rate // step)
            notes.append(f"resampled from {rate} Hz to {RATE} Hz for the detector")
        try:
            decoded, confidence = detect_watermark(mono.astype(np.float32), RATE, detector)
        except ValueError as exc:
            raise AdapterError(f"aware could not detect: {exc}") from exc
        # Its confidence alone is no decision (clean music can score above 0.5): the bits decide.
        return detect_report(score=float(confidence), bits=bits_string(decoded), notes=notes)


