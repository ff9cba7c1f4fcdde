"""The channel transforms: plain functions of an asset and its params (same input, same
params, same bytes out).  Image channels write PNG except the JPEG and WebP re-encodes;
audio channels write 16-bit WAV except MP3; text channels write UTF-8 text.  :mod:`conformance.channels` names them,
says what each reads and records, and chains them into named channels."""

from __future__ import annotations

import codecs
import html
import io
import re
import subprocess
import tempfile
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from aiii_kit import Asset, Unsupported

Channel = Callable[[Asset, dict[str, Any]], Asset]

#: The seed of every channel that adds noise, unless its params give one.
DEFAULT_SEED = 0


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


# -- more image channels ------------------------------------------------------------------


def _png(img: Any) -> Asset:
    """An image as PNG, with no metadata chunk (Pillow writes only what it is given)."""
    out = io.BytesIO()
    img.save(out, format="PNG")
    return Asset(out.getvalue(), "image/png")


def webp(asset: Asset, params: dict[str, Any]) -> Asset:
    """Re-encode as lossy WebP at ``quality`` (libwebp through Pillow, method 4, no metadata)."""
    img = _image(asset)
    out = io.BytesIO()
    img.save(out, format="WEBP", quality=int(params["quality"]), method=4, lossless=False, exact=False)
    return Asset(out.getvalue(), "image/webp")


def fit(asset: Asset, params: dict[str, Any]) -> Asset:
    """Scale down (Lanczos) so the long side is at most ``long_side`` px, as PNG.

    An image already within the limit keeps its size: platforms do not upscale.
    """
    from PIL import Image

    img = _image(asset)
    w, h = img.size
    limit = int(params["long_side"])
    if max(w, h) > limit:
        scale = limit / max(w, h)
        img = img.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.LANCZOS)
    return _png(img)


def crop(asset: Asset, params: dict[str, Any]) -> Asset:
    """Centre crop removing ``fraction`` of the width and of the height (half on each
    side), as PNG: ``fraction`` 0.1 keeps the central 90 % x 90 %."""
    img = _image(asset)
    w, h = img.size
    frac = float(params["fraction"])
    if not 0 <= frac < 1:
        raise ValueError(f"crop fraction {frac} is not in [0, 1)")
    keep_w, keep_h = max(1, round(w * (1 - frac))), max(1, round(h * (1 - frac)))
    left, top = (w - keep_w) // 2, (h - keep_h) // 2
    return _png(img.crop((left, top, left + keep_w, top + keep_h)))


def rotate(asset: Asset, params: dict[str, Any]) -> Asset:
    """Rotate by ``degrees`` counter-clockwise about the centre (bicubic), keeping the
    canvas size: the corners rotated out are lost, those rotated in are filled with
    ``fill`` (default black).  As PNG."""
    from PIL import Image

    img = _image(asset)
    fill = tuple(params.get("fill", (0, 0, 0)))
    return _png(img.rotate(float(params["degrees"]), resample=Image.Resampling.BICUBIC, expand=False, fillcolor=fill))


def _pixels(asset: Asset) -> Any:
    import numpy as np

    return np.asarray(_image(asset), dtype=np.float64)


def _from_pixels(values: Any) -> Asset:
    import numpy as np
    from PIL import Image

    return _png(Image.fromarray(np.clip(np.rint(values), 0, 255).astype(np.uint8), "RGB"))


def blur(asset: Asset, params: dict[str, Any]) -> Asset:
    """Gaussian blur with standard deviation ``sigma`` px (scipy.ndimage, edges
    reflected, kernel truncated at 4 sigma), as PNG."""
    from scipy.ndimage import gaussian_filter

    sigma = float(params["sigma"])
    return _from_pixels(gaussian_filter(_pixels(asset), sigma=(sigma, sigma, 0), mode="reflect"))


def noise(asset: Asset, params: dict[str, Any]) -> Asset:
    """Add Gaussian noise of standard deviation ``sigma`` (on a 0..1 scale) to every
    pixel and channel, from a PCG64 generator seeded with ``seed``; clipped, as PNG."""
    import numpy as np

    pixels = _pixels(asset)
    rng = np.random.Generator(np.random.PCG64(int(params.get("seed", DEFAULT_SEED))))
    return _from_pixels(pixels + rng.normal(0.0, float(params["sigma"]) * 255.0, pixels.shape))


def brightness(asset: Asset, params: dict[str, Any]) -> Asset:
    """Multiply every pixel by ``factor`` (1.2: 20 % brighter; Pillow's ImageEnhance),
    clipped, as PNG."""
    from PIL import ImageEnhance

    return _png(ImageEnhance.Brightness(_image(asset)).enhance(float(params["factor"])))


def strip(asset: Asset, params: dict[str, Any]) -> Asset:
    """Re-save as PNG with no metadata (no EXIF, XMP, ICC or text chunks): what a
    screenshot of the displayed image gives."""
    return _png(_image(asset))


# -- more audio channels ------------------------------------------------------------------


def _wav(samples: Any, rate: int) -> Asset:
    """Samples as 16-bit PCM WAV (clipped), the form every audio channel but MP3 gives."""
    import numpy as np
    import soundfile as sf

    out = io.BytesIO()
    sf.write(out, np.clip(samples, -1.0, 1.0), rate, format="WAV", subtype="PCM_16")
    return Asset(out.getvalue(), "audio/wav")


@lru_cache(maxsize=1)
def _ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


@lru_cache(maxsize=1)
def ffmpeg_version() -> str:
    """The bundled ffmpeg's version string (``n9.0.2-...``)."""
    out = subprocess.run([_ffmpeg_exe(), "-hide_banner", "-version"], capture_output=True, text=True,
                         timeout=FFMPEG_TIMEOUT_S, check=True).stdout
    return out.split()[2] if out.startswith("ffmpeg version") else out.splitlines()[0]


#: Deadline of one ffmpeg call: a few seconds of audio take well under one.
FFMPEG_TIMEOUT_S = 120.0
#: Keeps ffmpeg's output free of version strings and its threads from reordering work.
_BITEXACT = ["-fflags", "+bitexact", "-flags:a", "+bitexact", "-map_metadata", "-1"]


def _ffmpeg(*args: str) -> None:
    proc = subprocess.run([_ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args],
                          capture_output=True, text=True, timeout=FFMPEG_TIMEOUT_S)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        raise RuntimeError(f"ffmpeg exited with {proc.returncode}: {last}")


def _through_ffmpeg(samples: Any, rate: int, encode: list[str], suffix: str, out_rate: int | None = None) -> Any:
    """Run samples through one ffmpeg encode (``encode``: output options, to a ``suffix``
    file), then decode that file to float WAV at ``out_rate`` (default: the input rate)."""
    import soundfile as sf

    with tempfile.TemporaryDirectory(prefix="aiii-channel-") as tmp:
        src, mid, dst = Path(tmp, "in.wav"), Path(tmp, "mid" + suffix), Path(tmp, "out.wav")
        sf.write(src, samples, rate, format="WAV", subtype="FLOAT")
        _ffmpeg("-threads", "1", "-i", str(src), "-threads", "1", "-filter_threads", "1", *encode, *_BITEXACT, str(mid))
        _ffmpeg("-threads", "1", "-i", str(mid), "-threads", "1", "-filter_threads", "1", "-ar", str(out_rate or rate),
                "-c:a", "pcm_f32le", *_BITEXACT, str(dst))
        decoded, _ = sf.read(dst, dtype="float32", always_2d=True)
    return decoded


def aac(asset: Asset, params: dict[str, Any]) -> Asset:
    """Encode as AAC-LC at ``bitrate`` kbit/s (ffmpeg's native encoder, in MP4), then
    decode back to 16-bit WAV at the input rate (soundfile cannot read AAC)."""
    samples, rate = _audio(asset)
    return _wav(_through_ffmpeg(samples, rate, ["-c:a", "aac", "-b:a", f"{int(params['bitrate'])}k"], ".m4a"), rate)


def opus(asset: Asset, params: dict[str, Any]) -> Asset:
    """Encode as Opus at ``bitrate`` kbit/s (libopus through ffmpeg, in Ogg; Opus runs at
    48 kHz, so ffmpeg resamples on the way in), then decode back to 16-bit WAV at the
    input rate."""
    samples, rate = _audio(asset)
    encode = ["-c:a", "libopus", "-b:a", f"{int(params['bitrate'])}k", "-vbr", "off", "-ar", "48000"]
    return _wav(_through_ffmpeg(samples, rate, encode, ".opus"), rate)


def audio_noise(asset: Asset, params: dict[str, Any]) -> Asset:
    """Add white Gaussian noise at ``snr_db`` below the clip's mean power (from a PCG64
    generator seeded with ``seed``), as 16-bit WAV."""
    import numpy as np

    samples, rate = _audio(asset)
    x = samples.astype(np.float64)
    power = float(np.mean(x**2))
    sigma = (power / 10 ** (float(params["snr_db"]) / 10)) ** 0.5
    rng = np.random.Generator(np.random.PCG64(int(params.get("seed", DEFAULT_SEED))))
    return _wav(x + rng.normal(0.0, sigma, x.shape), rate)


def _rubberband(samples: Any, rate: int, option: str) -> Any:
    return _through_ffmpeg(samples, rate, ["-af", f"rubberband={option}", "-c:a", "pcm_f32le"], ".wav")


def stretch(asset: Asset, params: dict[str, Any]) -> Asset:
    """Time-stretch to ``factor`` times the duration (1.05: 5 % longer) keeping the pitch
    (Rubber Band through ffmpeg's ``rubberband`` filter), as 16-bit WAV."""
    samples, rate = _audio(asset)
    return _wav(_rubberband(samples, rate, f"tempo={1 / float(params['factor']):.9f}"), rate)


def pitch(asset: Asset, params: dict[str, Any]) -> Asset:
    """Shift the pitch by ``semitones`` keeping the duration (Rubber Band through
    ffmpeg's ``rubberband`` filter), as 16-bit WAV."""
    samples, rate = _audio(asset)
    return _wav(_rubberband(samples, rate, f"pitch={2 ** (float(params['semitones']) / 12):.9f}"), rate)


def excerpt(asset: Asset, params: dict[str, Any]) -> Asset:
    """``duration_s`` seconds from ``start_s`` (default 1 s), as 16-bit WAV.  The start is
    moved earlier when the clip ends before the excerpt would (a clip shorter than the
    excerpt is kept whole)."""
    samples, rate = _audio(asset)
    length = round(float(params.get("duration_s", 3.0)) * rate)
    start = max(0, min(round(float(params.get("start_s", 1.0)) * rate), len(samples) - length))
    return _wav(samples[start:start + length], rate)


def lowpass(asset: Asset, params: dict[str, Any]) -> Asset:
    """Low-pass at ``cutoff_hz``: an 8th-order Butterworth run forwards and backwards
    (zero phase, so nothing shifts in time; scipy.signal), as 16-bit WAV."""
    from scipy.signal import butter, sosfiltfilt

    samples, rate = _audio(asset)
    cutoff = float(params["cutoff_hz"])
    if not 0 < cutoff < rate / 2:
        raise Unsupported(f"a {cutoff:g} Hz low-pass needs a sample rate above {2 * cutoff:g} Hz, not {rate}")
    sos = butter(int(params.get("order", 8)), cutoff, btype="lowpass", fs=rate, output="sos")
    return _wav(sosfiltfilt(sos, samples, axis=0), rate)


# -- text channels (standard library only) ------------------------------------------------

#: The variation selectors (U+FE00-U+FE0F, U+E0100-U+E01EF) that carry a C2PA Annex A.8
#: wrapper's bytes: what the clipboard channel removes.
VARIATION_SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")


def _text(asset: Asset) -> str:
    if asset.media_type != "text/plain":
        raise Unsupported(f"a text channel cannot take {asset.media_type}")
    try:
        return asset.data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Unsupported(f"a text channel takes UTF-8 text: {exc}") from None


def _utf8(text: str) -> Asset:
    return Asset(text.encode("utf-8"), "text/plain")


def nfc(asset: Asset, params: dict[str, Any]) -> Asset:
    """Unicode Normalization Form C (canonical composition; unicodedata), as UTF-8."""
    return _utf8(unicodedata.normalize("NFC", _text(asset)))


def nfkc(asset: Asset, params: dict[str, Any]) -> Asset:
    """Unicode Normalization Form KC (compatibility composition: full-width and ideographic
    spaces, ligatures, presentation forms folded; unicodedata), as UTF-8."""
    return _utf8(unicodedata.normalize("NFKC", _text(asset)))


def trim(asset: Asset, params: dict[str, Any]) -> Asset:
    """What editors and form fields do: each line's trailing whitespace removed, then the
    text's leading and trailing whitespace (Python's ``str.rstrip``/``str.strip``: Unicode
    White_Space, which U+FEFF and the variation selectors are not)."""
    lines = _text(asset).split("\n")
    return _utf8("\n".join(line.rstrip() for line in lines).strip())


def clipboard(asset: Asset, params: dict[str, Any]) -> Asset:
    """A copy through a plain-text clipboard that drops the variation selectors
    (U+FE00-U+FE0F, U+E0100-U+E01EF), including the emoji presentation selector U+FE0F in
    the visible text; everything else, U+FEFF included, is kept."""
    return _utf8(VARIATION_SELECTORS.sub("", _text(asset)))


def html_round_trip(asset: Asset, params: dict[str, Any]) -> Asset:
    """The text put into HTML and read back: ``html.escape`` (``&``, ``<``, ``>``, quotes)
    then ``html.unescape``, as UTF-8."""
    return _utf8(html.unescape(html.escape(_text(asset), quote=True)))


def utf16(asset: Asset, params: dict[str, Any]) -> Asset:
    """Re-encoded to UTF-16 (with its byte-order mark, surrogate pairs for the
    supplementary planes) and decoded back to UTF-8 (``codecs``)."""
    wide = codecs.encode(_text(asset), "utf-16")
    return _utf8(codecs.decode(wide, "utf-16"))
