"""Media generated from a seed, for differential testing of fingerprinters: the
``recognition.generate`` transform and the Hypothesis strategies that describe its inputs.

An input is a small tuple (hashable, so Hypothesis can shrink it and the search can
memoise answers); the transform renders it the same way every time, so a shrunk
counterexample is reproduced from its description alone.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from aiii_kit import Asset
from hypothesis import strategies as st

from runner.check import TransformUnsupported

TRANSFORM = "recognition.generate"

IMAGE_PATTERNS = ("flat", "gradient", "noise", "checker", "stripes")
#: PIL modes: grey, colour, with alpha, 16-bit grey
IMAGE_MODES = ("L", "RGB", "RGBA", "LA", "I;16")
AUDIO_PATTERNS = ("silence", "sine", "noise", "chirp")
#: Pixels of a generated image at most (fingerprinting stays quick).
MAX_PIXELS = 256 * 256


def _image(spec: dict[str, Any]) -> Asset:
    from PIL import Image

    w, h, mode, pattern = int(spec["width"]), int(spec["height"]), str(spec["mode"]), str(spec["pattern"])
    if w * h > MAX_PIXELS or w < 1 or h < 1:
        raise TransformUnsupported(f"{w}x{h} is outside 1..{MAX_PIXELS} pixels")
    rng = np.random.default_rng(int(spec["seed"]))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    if pattern == "flat":
        base = np.full((h, w), float(spec["seed"] % 256) / 255)
    elif pattern == "gradient":
        base = (xx / max(w - 1, 1) + yy / max(h - 1, 1)) / 2
    elif pattern == "noise":
        base = rng.random((h, w))
    elif pattern == "checker":
        cell = 1 + int(spec["seed"]) % 16
        base = ((xx // cell + yy // cell) % 2).astype(np.float64)
    elif pattern == "stripes":
        base = (np.sin(xx / (1 + int(spec["seed"]) % 9)) + 1) / 2
    else:
        raise TransformUnsupported(f"unknown pattern {pattern!r}")
    if mode == "I;16":
        image = Image.fromarray((base * 65535).round().astype(np.uint16))
    else:
        planes = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}[mode]
        layers = [np.roll(base, k * max(w // 3, 1), axis=1) for k in range(min(planes, 3))]
        if mode in ("LA", "RGBA"):
            layers = layers[: planes - 1] + [rng.random((h, w)) * 0.5 + 0.5 if pattern == "noise" else 1 - base / 2]
        arr = (np.stack(layers, axis=-1) * 255).round().astype(np.uint8)
        image = Image.fromarray(arr[..., 0] if planes == 1 else arr, mode)
    out = io.BytesIO()
    image.save(out, "PNG")
    return Asset(out.getvalue(), "image/png")


def _audio(spec: dict[str, Any]) -> Asset:
    import soundfile as sf

    rate, ms, pattern = int(spec["rate"]), int(spec["duration_ms"]), str(spec["pattern"])
    n = rate * ms // 1000
    rng = np.random.default_rng(int(spec["seed"]))
    t = np.arange(n) / rate
    freq = 110 + int(spec["seed"]) % 2000
    if pattern == "silence":
        x = np.zeros(n)
    elif pattern == "sine":
        x = 0.5 * np.sin(2 * np.pi * freq * t)
    elif pattern == "noise":
        x = 0.3 * rng.standard_normal(n)
    elif pattern == "chirp":
        x = 0.5 * np.sin(2 * np.pi * (freq + 2000 * t / max(t[-1] if n else 1, 1e-3)) * t)
    else:
        raise TransformUnsupported(f"unknown pattern {pattern!r}")
    out = io.BytesIO()
    sf.write(out, np.clip(x, -1, 1), rate, format="WAV", subtype="PCM_16")
    return Asset(out.getvalue(), "audio/wav")


def generate(asset: Asset, params: dict[str, Any]) -> Asset:
    """A generated image (PNG) or clip (16-bit WAV) from its description in ``params``."""
    return _image(params) if params.get("kind") == "image" else _audio(params)


def as_params(candidate: tuple[Any, ...]) -> dict[str, Any]:
    """The transform's params of a candidate tuple (see :func:`images`, :func:`clips`)."""
    if candidate[0] == "image":
        _, pattern, width, height, mode, seed = candidate
        return {"kind": "image", "pattern": pattern, "width": width, "height": height, "mode": mode, "seed": seed}
    _, pattern, duration_ms, rate, seed = candidate
    return {"kind": "audio", "pattern": pattern, "duration_ms": duration_ms, "rate": rate, "seed": seed}


def describe(candidate: tuple[Any, ...]) -> str:
    p = as_params(candidate)
    if p["kind"] == "image":
        return f"{p['width']}x{p['height']} {p['mode']} {p['pattern']} image (seed {p['seed']})"
    return f"{p['duration_ms']} ms {p['pattern']} clip at {p['rate']} Hz (seed {p['seed']})"


_SIDE = st.one_of(st.sampled_from([1, 2, 3, 8, 32, 64]), st.integers(1, 256))


def images() -> st.SearchStrategy[tuple[Any, ...]]:
    """Images: flat, gradients, noise, checkers, stripes; 1x1 up to 256 px a side, extreme
    aspect ratios (1 x 256), grey, colour, alpha and 16-bit grey."""
    return st.tuples(st.just("image"), st.sampled_from(IMAGE_PATTERNS), _SIDE, _SIDE, st.sampled_from(IMAGE_MODES),
                     st.integers(0, 2**16))


def clips() -> st.SearchStrategy[tuple[Any, ...]]:
    """Short clips: silence, tones, noise, chirps; 0.1 to 12 s at common rates."""
    return st.tuples(st.just("audio"), st.sampled_from(AUDIO_PATTERNS), st.integers(100, 12_000),
                     st.sampled_from([8000, 11025, 16000, 22050, 44100, 48000]), st.integers(0, 2**16))
