"""Distribution channels: named, parameterised, deterministic transforms of an asset.

A channel is what happens to a file between its producer and its consumer: a JPEG
re-encode, a resize, an MP3 encode, a resample.  Each is a plain function of the asset
and its params (same input, same params, same bytes out), run by the executor as a
harness transform step, so its output is cached and shared like a producer's.  Each
records what it did (:func:`describe`): its parameters and the versions of the
libraries that did it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

from runner.adapter import Asset, Unsupported

Channel = Callable[[Asset, dict[str, Any]], Asset]


def _image(asset: Asset):  # type: ignore[no-untyped-def]
    from PIL import Image, ImageOps

    if not asset.media_type.startswith("image/"):
        raise Unsupported(f"an image channel cannot take {asset.media_type}")
    with Image.open(io.BytesIO(asset.data)) as opened:
        return ImageOps.exif_transpose(opened).convert("RGB")


def jpeg(asset: Asset, params: dict[str, Any]) -> Asset:
    """Re-encode as baseline JPEG at ``quality`` (4:2:0, no metadata kept)."""
    img = _image(asset)
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=int(params["quality"]), optimize=False, progressive=False)
    return Asset(out.getvalue(), "image/jpeg")


def resize(asset: Asset, params: dict[str, Any]) -> Asset:
    """Scale by ``scale`` with Lanczos resampling (``back``: then scale back to the original
    size); written as PNG so the resize is the only loss."""
    from PIL import Image

    img = _image(asset)
    w, h = img.size
    scale = float(params["scale"])
    small = img.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.LANCZOS)
    if params.get("back"):
        small = small.resize((w, h), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.save(out, format="PNG")
    return Asset(out.getvalue(), "image/png")


def _audio(asset: Asset):  # type: ignore[no-untyped-def]
    import soundfile as sf

    if not asset.media_type.startswith("audio/"):
        raise Unsupported(f"an audio channel cannot take {asset.media_type}")
    samples, rate = sf.read(io.BytesIO(asset.data), dtype="float32", always_2d=True)
    return samples, rate


def mp3(asset: Asset, params: dict[str, Any]) -> Asset:
    """Encode as constant-bitrate MP3 through libsndfile/LAME (``bitrate`` in kbit/s)."""
    import soundfile as sf

    samples, rate = _audio(asset)
    # libsndfile maps compression_level 0..1 linearly onto LAME's 320..32 kbit/s CBR range.
    kbps = int(params["bitrate"])
    level = min(1.0, max(0.0, (320 - kbps) / (320 - 32)))
    out = io.BytesIO()
    sf.write(out, samples, rate, format="MP3", bitrate_mode="CONSTANT", compression_level=level)
    return Asset(out.getvalue(), "audio/mpeg")


def resample(asset: Asset, params: dict[str, Any]) -> Asset:
    """Resample to ``rate`` Hz with a polyphase filter (``back``: then back to the original
    rate); written as 16-bit WAV."""
    from fractions import Fraction

    import numpy as np
    import soundfile as sf
    from scipy.signal import resample_poly

    samples, rate = _audio(asset)
    target = int(params["rate"])

    def convert(x: Any, src: int, dst: int) -> Any:
        ratio = Fraction(dst, src)
        return resample_poly(x, ratio.numerator, ratio.denominator, axis=0)

    out_rate = target
    samples = convert(samples, rate, target)
    if params.get("back"):
        samples, out_rate = convert(samples, target, rate), rate
    out = io.BytesIO()
    sf.write(out, np.clip(samples, -1.0, 1.0), out_rate, format="WAV", subtype="PCM_16")
    return Asset(out.getvalue(), "audio/wav")


CHANNELS: dict[str, Channel] = {
    "channel.jpeg": jpeg,
    "channel.resize": resize,
    "channel.mp3": mp3,
    "channel.resample": resample,
}

#: The libraries each channel's output depends on (recorded with its results).
LIBRARIES: dict[str, tuple[str, ...]] = {
    "channel.jpeg": ("pillow",),
    "channel.resize": ("pillow",),
    "channel.mp3": ("soundfile",),
    "channel.resample": ("soundfile", "scipy", "numpy"),
}


def describe(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """What a channel did: its name, parameters and the library versions behind it."""
    libs: dict[str, str] = {}
    for dist in LIBRARIES.get(name, ()):
        libs[dist] = version(dist)
    if name == "channel.mp3":
        import soundfile as sf

        libs["libsndfile"] = str(sf.__libsndfile_version__)
    return {"channel": name, "params": params, "libraries": libs}
