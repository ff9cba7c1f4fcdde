"""Watermark helpers.

Payloads travel as '0'/'1' strings (most significant first); keys as strings.  Libraries
that take integer seeds or passwords get one derived from the key the same way in every
adapter, so a vendor's embedder and detector agree across placements.  The audio helpers
need numpy and soundfile (the kit's ``watermark`` extra), imported when first used.
"""

from __future__ import annotations

import hashlib
from typing import Any

from aiii_kit._core import AdapterError, Asset


def key_seed(key: str, bits: int = 31) -> int:
    """A non-negative integer below ``2**bits`` derived from a watermark key (SHA-256)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % (1 << bits)


def payload_list(params: dict[str, Any], bits: int) -> list[int]:
    """The request's payload as a list of 0/1 ints, checked against the vendor's length."""
    payload = params.get("payload")
    if not isinstance(payload, str) or len(payload) != bits or set(payload) - {"0", "1"}:
        raise AdapterError(f"this vendor embeds exactly {bits} payload bits ('0'/'1'), got {payload!r}")
    return [int(c) for c in payload]


def bits_string(values: Any, threshold: float = 0.5) -> str:
    """Decoded bits (ints, bools or soft values in 0..1) as a '0'/'1' string."""
    return "".join("1" if float(v) >= threshold else "0" for v in values)


def require_key(params: dict[str, Any]) -> str:
    """The request's key (required by the protocol even where a mark is unkeyed)."""
    key = params.get("key")
    if not isinstance(key, str) or not key:
        raise AdapterError(f"key: a non-empty string is required, got {key!r}")
    return key


def read_samples(asset: Asset, min_seconds: float, who: str) -> tuple[Any, int]:
    """An audio asset as float64 samples (frames x channels) and its rate, through
    soundfile (imported here: the kit itself needs only the standard library); a file
    shorter than ``min_seconds`` is refused with a clear error naming ``who``."""
    import io

    import soundfile as sf

    try:
        samples, rate = sf.read(io.BytesIO(asset.data), dtype="float64", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise AdapterError(f"cannot read the {asset.media_type} asset: {exc}") from exc
    if len(samples) < min_seconds * rate:
        raise AdapterError(f"audio too short ({len(samples) / rate:.2f} s): {who} needs at least {min_seconds} s")
    return samples, int(rate)


def mono_mark_wav(samples: Any, mono: Any, marked: Any, rate: int, name: str = "") -> Asset:
    """A mark made on the mono mix, added to every channel of the original ``samples``
    (frames x channels), as 16-bit WAV: the input's rate, channels and length are kept
    (a model that returns a few samples fewer leaves the tail unmarked)."""
    import io

    import numpy as np
    import soundfile as sf

    mark = np.zeros_like(mono)
    n = min(len(mark), len(marked))
    mark[:n] = marked[:n] - mono[:n]
    out = io.BytesIO()
    sf.write(out, np.clip(samples + mark[:, None], -1.0, 32767 / 32768), rate, subtype="PCM_16", format="WAV")
    return Asset(out.getvalue(), "audio/wav", name)


def detect_report(present: bool | None = None, score: float | None = None, bits: str | None = None,
                  notes: list[str] | None = None) -> dict[str, Any]:
    """A watermark.detect answer (a NaN or infinite score becomes null, with a note)."""
    out_notes = list(notes or [])
    if score is not None:
        score = float(score)
        if score != score or score in (float("inf"), float("-inf")):
            out_notes.append(f"the detector's score was {score}: reported as null")
            score = None
    report: dict[str, Any] = {"present": present, "score": score, "bits": bits or None}
    if out_notes:
        report["notes"] = out_notes[:20]
    return report
