"""Real media and measurements the distribution channel tests share (unit and end-to-end)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import soundfile as sf
from aiii_kit import Asset
from helpers import ROOT
from PIL import Image

from conformance import channels as ch

PHOTO = ROOT / "test_vectors/images/kodak/kodim05.png"
CLIP = ROOT / "test_vectors/audio/librispeech-198-209-0000.ogg"
TEXTS = sorted((ROOT / "test_vectors/text").glob("*.txt"))
#: Every variation selector: the 16 of U+FE00-U+FE0F and the 240 of U+E0100-U+E01EF.
SELECTORS = "".join(map(chr, range(0xFE00, 0xFE10))) + "".join(map(chr, range(0xE0100, 0xE01F0)))


def photo() -> Asset:
    return Asset(PHOTO.read_bytes(), "image/png")


def clip() -> Asset:
    return Asset(CLIP.read_bytes(), "audio/ogg")


def text(path: Path | None = None, marked: bool = False) -> Asset:
    """A text vector (the first by default); ``marked``: with U+FEFF and every variation
    selector appended, the shape of a C2PA Annex A.8 wrapper."""
    data = (path or TEXTS[0]).read_bytes()
    return Asset(data + ("\ufeff" + SELECTORS).encode() if marked else data, "text/plain")


def run(name: str, asset: Asset) -> Asset:
    """A named channel applied the way the executor applies it: step by step."""
    for transform, params in ch.NAMED[name].steps:
        asset = ch.CHANNELS[transform](asset, dict(params))
    return asset


def image(asset: Asset) -> Image.Image:
    img = Image.open(io.BytesIO(asset.data))
    img.load()
    return img


def pixels(asset: Asset) -> np.ndarray:
    return np.asarray(image(asset).convert("RGB"), dtype=np.float64)


def audio(asset: Asset) -> tuple[np.ndarray, int]:
    samples, rate = sf.read(io.BytesIO(asset.data), dtype="float64")
    return samples, rate


def wav(samples: np.ndarray, rate: int) -> Asset:
    out = io.BytesIO()
    sf.write(out, samples, rate, format="WAV", subtype="PCM_16")
    return Asset(out.getvalue(), "audio/wav")


def sine(freq: float, seconds: float, rate: int = 44100) -> Asset:
    t = np.arange(round(seconds * rate)) / rate
    return wav(0.5 * np.sin(2 * np.pi * freq * t), rate)


def peak_hz(samples: np.ndarray, rate: int) -> float:
    """The dominant frequency, refined by parabolic interpolation between FFT bins."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    k = int(np.argmax(spectrum))
    a, b, c = np.log(spectrum[k - 1:k + 2])
    return (k + 0.5 * (a - c) / (a - 2 * b + c)) * rate / len(samples)
