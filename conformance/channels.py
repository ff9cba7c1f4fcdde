"""Distribution channels: named, parameterised, deterministic transforms of an asset.

A channel is what happens to a file between its producer and its consumer: a JPEG
re-encode, a resize, an MP3 encode, a resample.  Each is a plain function of the asset
and its params (same input, same params, same bytes out), run by the executor as a
harness transform step, so its output is cached and shared like a producer's.  Each
records what it did (:func:`describe`): its parameters and the versions of the
libraries that did it.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

from aiii_kit import Asset, Unsupported

from runner.model import Step, canonical_json, transform_step

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


CHANNELS: dict[str, Channel] = {
    "channel.jpeg": jpeg,
    "channel.webp": webp,
    "channel.resize": resize,
    "channel.fit": fit,
    "channel.crop": crop,
    "channel.rotate": rotate,
    "channel.blur": blur,
    "channel.noise": noise,
    "channel.brightness": brightness,
    "channel.strip": strip,
    "channel.mp3": mp3,
    "channel.aac": aac,
    "channel.opus": opus,
    "channel.resample": resample,
    "channel.audio_noise": audio_noise,
    "channel.stretch": stretch,
    "channel.pitch": pitch,
    "channel.excerpt": excerpt,
    "channel.lowpass": lowpass,
}

#: The media each transform takes ("image" or "audio").
KINDS: dict[str, str] = {name: "audio" if name in (
    "channel.mp3", "channel.aac", "channel.opus", "channel.resample", "channel.audio_noise", "channel.stretch",
    "channel.pitch", "channel.excerpt", "channel.lowpass") else "image" for name in CHANNELS}

#: The params each transform reads (a profile's channel may give no other).
PARAMS: dict[str, frozenset[str]] = {
    "channel.jpeg": frozenset({"quality"}),
    "channel.webp": frozenset({"quality"}),
    "channel.resize": frozenset({"scale", "back"}),
    "channel.fit": frozenset({"long_side"}),
    "channel.crop": frozenset({"fraction"}),
    "channel.rotate": frozenset({"degrees", "fill"}),
    "channel.blur": frozenset({"sigma"}),
    "channel.noise": frozenset({"sigma", "seed"}),
    "channel.brightness": frozenset({"factor"}),
    "channel.strip": frozenset(),
    "channel.mp3": frozenset({"bitrate"}),
    "channel.aac": frozenset({"bitrate"}),
    "channel.opus": frozenset({"bitrate"}),
    "channel.resample": frozenset({"rate", "back"}),
    "channel.audio_noise": frozenset({"snr_db", "seed"}),
    "channel.stretch": frozenset({"factor"}),
    "channel.pitch": frozenset({"semitones"}),
    "channel.excerpt": frozenset({"start_s", "duration_s"}),
    "channel.lowpass": frozenset({"cutoff_hz", "order"}),
}

#: The libraries each channel's output depends on (recorded with its results).
LIBRARIES: dict[str, tuple[str, ...]] = {
    "channel.jpeg": ("pillow",),
    "channel.webp": ("pillow",),
    "channel.resize": ("pillow",),
    "channel.fit": ("pillow",),
    "channel.crop": ("pillow",),
    "channel.rotate": ("pillow",),
    "channel.blur": ("pillow", "scipy", "numpy"),
    "channel.noise": ("pillow", "numpy"),
    "channel.brightness": ("pillow",),
    "channel.strip": ("pillow",),
    "channel.mp3": ("soundfile",),
    "channel.aac": ("soundfile", "imageio-ffmpeg"),
    "channel.opus": ("soundfile", "imageio-ffmpeg"),
    "channel.resample": ("soundfile", "scipy", "numpy"),
    "channel.audio_noise": ("soundfile", "numpy"),
    "channel.stretch": ("soundfile", "imageio-ffmpeg"),
    "channel.pitch": ("soundfile", "imageio-ffmpeg"),
    "channel.excerpt": ("soundfile",),
    "channel.lowpass": ("soundfile", "scipy"),
}

#: What passes between the steps inside a transform, where the output does not show it.
_INTERMEDIATE: dict[str, str] = {
    "channel.aac": "AAC-LC in MP4 (ffmpeg's aac encoder), decoded by ffmpeg to 16-bit WAV",
    "channel.opus": "Opus in Ogg at 48 kHz (libopus, constant bitrate), decoded by ffmpeg to 16-bit WAV at the input rate",
    "channel.stretch": "ffmpeg rubberband filter on 32-bit float WAV",
    "channel.pitch": "ffmpeg rubberband filter on 32-bit float WAV",
}


@cache
def _libraries(name: str) -> tuple[tuple[str, str], ...]:
    libs = [(dist, version(dist)) for dist in LIBRARIES.get(name, ())]
    if "soundfile" in LIBRARIES.get(name, ()):
        import soundfile as sf

        libs.append(("libsndfile", str(sf.__libsndfile_version__)))
    if "imageio-ffmpeg" in LIBRARIES.get(name, ()):
        libs.append(("ffmpeg", ffmpeg_version()))
    return tuple(libs)


def describe(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """What a channel did: its name, parameters and the library versions behind it."""
    described: dict[str, Any] = {"channel": name, "params": params, "libraries": dict(_libraries(name))}
    if name in _INTERMEDIATE:
        described["intermediate"] = _INTERMEDIATE[name]
    return described


@cache
def cache_version(name: str) -> str:
    """What a transform's cached output depends on besides its input and params: the
    libraries behind it and this module's code."""
    code = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
    return canonical_json({"libraries": dict(_libraries(name)), "code": code})


# -- named channels -----------------------------------------------------------------------


@dataclass(frozen=True)
class NamedChannel:
    """A distribution channel by name: a chain of transform steps for one kind of media."""

    name: str
    kind: str  # "image" | "audio"
    steps: tuple[tuple[str, dict[str, Any]], ...]
    description: str


def _named(name: str, kind: str, description: str, *steps: tuple[str, dict[str, Any]]) -> NamedChannel:
    return NamedChannel(name, kind, tuple(steps), description)


_BUILT_IN = (
    _named("jpeg-q90", "image", "JPEG re-encode at quality 90", ("channel.jpeg", {"quality": 90})),
    _named("jpeg-q75", "image", "JPEG re-encode at quality 75", ("channel.jpeg", {"quality": 75})),
    _named("jpeg-q50", "image", "JPEG re-encode at quality 50", ("channel.jpeg", {"quality": 50})),
    _named("jpeg-q30", "image", "JPEG re-encode at quality 30", ("channel.jpeg", {"quality": 30})),
    _named("webp-q75", "image", "lossy WebP at quality 75", ("channel.webp", {"quality": 75})),
    _named("resize-0.5", "image", "downscale to half size (Lanczos)", ("channel.resize", {"scale": 0.5})),
    _named("resize-0.75", "image", "downscale to 75 % (Lanczos)", ("channel.resize", {"scale": 0.75})),
    _named("resize-0.5-back", "image", "downscale to half size, then back up to the original size",
           ("channel.resize", {"scale": 0.5, "back": True})),
    _named("resize-0.75-back", "image", "downscale to 75 %, then back up to the original size",
           ("channel.resize", {"scale": 0.75, "back": True})),
    _named("crop-10", "image", "centre crop keeping 90 % of the width and the height", ("channel.crop", {"fraction": 0.1})),
    _named("rotate-2", "image", "rotate 2 degrees counter-clockwise, same canvas, black corners",
           ("channel.rotate", {"degrees": 2})),
    _named("rotate-5", "image", "rotate 5 degrees counter-clockwise, same canvas, black corners",
           ("channel.rotate", {"degrees": 5})),
    _named("blur-1", "image", "Gaussian blur, sigma 1 px", ("channel.blur", {"sigma": 1})),
    _named("noise-0.02", "image", "Gaussian noise, sigma 0.02 of full scale (seed 0)",
           ("channel.noise", {"sigma": 0.02, "seed": DEFAULT_SEED})),
    _named("brightness+20", "image", "20 % brighter", ("channel.brightness", {"factor": 1.2})),
    _named("brightness-20", "image", "20 % darker", ("channel.brightness", {"factor": 0.8})),
    _named("social-media", "image",
           "long side down to 1080 px when larger (never up), JPEG 85; the re-encode keeps no metadata",
           ("channel.fit", {"long_side": 1080}), ("channel.jpeg", {"quality": 85})),
    _named("screenshot-png", "image", "PNG re-save with every metadata chunk dropped", ("channel.strip", {})),
    _named("mp3-128k", "audio", "MP3 at 128 kbit/s CBR (LAME through libsndfile)", ("channel.mp3", {"bitrate": 128})),
    _named("mp3-64k", "audio", "MP3 at 64 kbit/s CBR (LAME through libsndfile)", ("channel.mp3", {"bitrate": 64})),
    _named("aac-128k", "audio", "AAC-LC at 128 kbit/s (ffmpeg), decoded back to WAV", ("channel.aac", {"bitrate": 128})),
    _named("opus-64k", "audio", "Opus at 64 kbit/s (libopus), decoded back to WAV", ("channel.opus", {"bitrate": 64})),
    _named("resample-16k", "audio", "resample to 16 kHz (one way)", ("channel.resample", {"rate": 16000})),
    _named("resample-16k-back", "audio", "resample to 16 kHz and back to the original rate",
           ("channel.resample", {"rate": 16000, "back": True})),
    _named("noise-20db", "audio", "white noise at 20 dB SNR (seed 0)", ("channel.audio_noise", {"snr_db": 20, "seed": DEFAULT_SEED})),
    _named("stretch+5", "audio", "5 % longer, same pitch (Rubber Band)", ("channel.stretch", {"factor": 1.05})),
    _named("stretch-5", "audio", "5 % shorter, same pitch (Rubber Band)", ("channel.stretch", {"factor": 0.95})),
    _named("pitch+1", "audio", "pitch up one semitone, same duration (Rubber Band)", ("channel.pitch", {"semitones": 1})),
    _named("pitch-1", "audio", "pitch down one semitone, same duration (Rubber Band)", ("channel.pitch", {"semitones": -1})),
    _named("excerpt-3s", "audio", "3 s excerpt from 1 s in (earlier when the clip is short)",
           ("channel.excerpt", {"start_s": 1.0, "duration_s": 3.0})),
    _named("lowpass-4k", "audio", "low-pass at 4 kHz (8th-order Butterworth, zero phase)",
           ("channel.lowpass", {"cutoff_hz": 4000})),
)

#: Every built-in channel by name.
NAMED: dict[str, NamedChannel] = {c.name: c for c in _BUILT_IN}
IMAGE_CHANNELS: tuple[str, ...] = tuple(c.name for c in _BUILT_IN if c.kind == "image")
AUDIO_CHANNELS: tuple[str, ...] = tuple(c.name for c in _BUILT_IN if c.kind == "audio")


def chain_steps(channel: NamedChannel, source: Step | str) -> list[Step]:
    """The transform steps of a channel in order, each consuming the one before."""
    steps: list[Step] = []
    for name, params in channel.steps:
        steps.append(transform_step(name, steps[-1] if steps else source, params))
    return steps


def chain_step(channel: NamedChannel, source: Step | str) -> Step:
    """The last step of a channel applied to ``source`` (a vector id or a step)."""
    return chain_steps(channel, source)[-1]


def describe_channel(channel: NamedChannel) -> dict[str, Any]:
    """A channel as recorded with a cell: its name, kind, description and each step's
    transform, params and library versions."""
    return {"name": channel.name, "kind": channel.kind, "description": channel.description,
            "steps": [describe(name, dict(params)) for name, params in channel.steps]}


class ChannelError(ValueError):
    """A profile's channel declaration that cannot run."""


def declared(raw: Mapping[str, Mapping[str, Any]]) -> dict[str, NamedChannel]:
    """The built-in channels merged with a profile's ``[channels.<name>]`` tables.

    Raises :class:`ChannelError` (one line, naming the channel) for an unknown
    transform, a transform of the other kind, an unknown param, or a name that a
    built-in channel already has with other steps.
    """
    out = dict(NAMED)
    for name, table in raw.items():
        kind = table.get("kind")
        if kind not in ("image", "audio"):
            raise ChannelError(f"channels.{name}.kind: {kind!r} is not 'image' or 'audio'")
        steps: list[tuple[str, dict[str, Any]]] = []
        for i, step in enumerate(table.get("steps", ())):
            transform, params = step.get("transform"), dict(step.get("params", {}))
            where = f"channels.{name}.steps[{i}]"
            if transform not in CHANNELS:
                raise ChannelError(f"{where}.transform: unknown transform {transform!r} (known: {', '.join(sorted(CHANNELS))})")
            if KINDS[transform] != kind:
                raise ChannelError(f"{where}.transform: {transform} takes {KINDS[transform]}, not {kind}")
            extra = sorted(set(params) - PARAMS[transform])
            if extra:
                accepted = ", ".join(sorted(PARAMS[transform])) or "none"
                raise ChannelError(f"{where}.params: {transform} takes no {', '.join(extra)} (accepts: {accepted})")
            steps.append((transform, params))
        if not steps:
            raise ChannelError(f"channels.{name}.steps: a channel needs at least one step")
        channel = NamedChannel(name, kind, tuple(steps), str(table.get("description", "")))
        builtin = NAMED.get(name)
        if builtin is not None and (builtin.kind, builtin.steps) != (channel.kind, channel.steps):
            raise ChannelError(f"channels.{name}: a built-in channel has this name with other steps; choose another name")
        out[name] = builtin or channel
    return out
