"""What the torch watermark vendors' tests share: the vendors served from their one process
environment, real media as they take it, and how many payload bits chance gets right.

invisible-watermark (dwtDct, dwtDctSvd, rivaGan), resemble-perth and aware share one
virtual environment, built from PyPI on first use (about 90 s with a fast mirror, 5.4 GB)
and kept in the harness's state folder like a user's run keeps it, so a second session
reuses it.  Each vendor's adapter is served from that environment over a unix socket,
exactly as ``aiii run`` serves it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from math import comb

import numpy as np
import soundfile as sf
from aiii_kit import Asset
from helpers import ROOT
from PIL import Image
from scipy.signal import resample_poly

from runner.paths import state_dir
from runner.transports import Transport, make_transport
from runner.vendors import load_vendors

KODAK = ROOT / "test_vectors" / "images" / "kodak"
AUDIO = ROOT / "test_vectors" / "audio"
PAYLOAD_32 = "10110010111000011010010110001101"
PAYLOAD_20 = "10110010111000011010"


@contextmanager
def served(*vids: str) -> Iterator[dict[str, Transport]]:
    """The vendors ``vids`` started in their placement (the torch environment), closed after."""
    manifests = load_vendors(ROOT / "vendors")
    started: dict[str, Transport] = {}
    log_dir = state_dir() / "logs" / "tests-watermark-torch"
    try:
        for vid in vids:
            transport = make_transport(manifests[vid], None, log_dir)
            transport.start()
            started[vid] = transport
        yield started
    finally:
        for transport in started.values():
            transport.close()


def min_correct(n: int, fpr: float = 1e-3) -> int:
    """Fewest right bits out of n that chance reaches with probability at most ``fpr``."""
    k = n
    while k > 0 and sum(comb(n, i) for i in range(k - 1, n + 1)) / 2**n <= fpr:
        k -= 1
    return k


def correct(bits: str | None, payload: str) -> int:
    assert bits is not None and len(bits) == len(payload)
    return sum(a == b for a, b in zip(bits, payload, strict=True))


def png_asset(name: str) -> Asset:
    return Asset((KODAK / f"{name}.png").read_bytes(), "image/png", f"{name}.png")


def image_of(asset: Asset) -> Image.Image:
    return Image.open(io.BytesIO(asset.data))


def wav_asset(name: str, rate: int, seconds: float, channels: int = 1) -> Asset:
    """An excerpt of an OGG vector as WAV PCM16 at ``rate`` (the vectors are 22050 Hz mono)."""
    samples, native = sf.read(AUDIO / f"{name}.ogg", dtype="float64")
    samples = samples[: int(native * seconds)]
    if rate != native:
        samples = resample_poly(samples, rate, native)
    if channels == 2:
        samples = np.stack([samples, 0.5 * samples], axis=1)
    out = io.BytesIO()
    sf.write(out, samples, rate, subtype="PCM_16", format="WAV")
    return Asset(out.getvalue(), "audio/wav", f"{name}.wav")


def resampled(asset: Asset, rate: int) -> Asset:
    samples, native = sf.read(io.BytesIO(asset.data), dtype="float64")
    out = io.BytesIO()
    sf.write(out, resample_poly(samples, rate, native), rate, subtype="PCM_16", format="WAV")
    return Asset(out.getvalue(), "audio/wav")
