"""Distribution channels: named, parameterised, deterministic transforms of an asset.

A channel is what happens to a file between its producer and its consumer: a JPEG
re-encode, a resize, an MP3 encode, a resample, a Unicode normalisation of a text.  Each is a plain function of the asset
and its params (same input, same params, same bytes out), run by the executor as a
harness transform step, so its output is cached and shared like a producer's.  Each
records what it did (:func:`describe`): its parameters and the versions of the
libraries that did it.

The transforms themselves are in :mod:`conformance.channel_transforms`; this module
registers them by step name and holds the named channels (built-in and a profile's own).
"""

from __future__ import annotations

import hashlib
import platform
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

from conformance.channel_transforms import (
    DEFAULT_SEED,
    FFMPEG_TIMEOUT_S,
    Channel,
    aac,
    audio_noise,
    blur,
    brightness,
    clipboard,
    crop,
    excerpt,
    ffmpeg_version,
    fit,
    html_round_trip,
    jpeg,
    lowpass,
    mp3,
    nfc,
    nfkc,
    noise,
    opus,
    pitch,
    resample,
    resize,
    rotate,
    stretch,
    strip,
    trim,
    utf16,
    webp,
)
from runner.model import Step, canonical_json, transform_step

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
    "channel.nfc": nfc,
    "channel.nfkc": nfkc,
    "channel.trim": trim,
    "channel.clipboard": clipboard,
    "channel.html": html_round_trip,
    "channel.utf16": utf16,
}

_TEXT_TRANSFORMS = ("channel.nfc", "channel.nfkc", "channel.trim", "channel.clipboard", "channel.html", "channel.utf16")

#: The media each transform takes ("image", "audio" or "text").
KINDS: dict[str, str] = {name: "audio" if name in (
    "channel.mp3", "channel.aac", "channel.opus", "channel.resample", "channel.audio_noise", "channel.stretch",
    "channel.pitch", "channel.excerpt", "channel.lowpass") else "text" if name in _TEXT_TRANSFORMS else "image"
    for name in CHANNELS}

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
    **{name: frozenset() for name in _TEXT_TRANSFORMS},
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
    **{name: () for name in _TEXT_TRANSFORMS},  # the standard library: _libraries records Unicode's and Python's versions
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
    if KINDS.get(name) == "text":  # the standard library: the Unicode database and Python decide
        libs += [("unicodedata", unicodedata.unidata_version), ("python", platform.python_version())]
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
    libraries behind it and the channels' code (this module and the transforms')."""
    digest = hashlib.sha256()
    for path in (Path(__file__), Path(__file__).with_name("channel_transforms.py")):
        digest.update(path.read_bytes())
    code = digest.hexdigest()[:16]
    return canonical_json({"libraries": dict(_libraries(name)), "code": code})


# -- named channels -----------------------------------------------------------------------


@dataclass(frozen=True)
class NamedChannel:
    """A distribution channel by name: a chain of transform steps for one kind of media."""

    name: str
    kind: str  # "image" | "audio" | "text"
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
    _named("text-nfc", "text", "Unicode normalisation form C", ("channel.nfc", {})),
    _named("text-nfkc", "text", "Unicode normalisation form KC (compatibility characters folded)", ("channel.nfkc", {})),
    _named("text-trim", "text", "trailing whitespace of each line and of the text trimmed, as editors and forms do",
           ("channel.trim", {})),
    _named("text-clipboard", "text", "copied through a plain-text clipboard that drops variation selectors",
           ("channel.clipboard", {})),
    _named("text-html", "text", "HTML-escaped into a page and unescaped back", ("channel.html", {})),
    _named("text-utf16", "text", "re-encoded to UTF-16 and back to UTF-8", ("channel.utf16", {})),
)

#: Every built-in channel by name.
NAMED: dict[str, NamedChannel] = {c.name: c for c in _BUILT_IN}
IMAGE_CHANNELS: tuple[str, ...] = tuple(c.name for c in _BUILT_IN if c.kind == "image")
AUDIO_CHANNELS: tuple[str, ...] = tuple(c.name for c in _BUILT_IN if c.kind == "audio")
TEXT_CHANNELS: tuple[str, ...] = tuple(c.name for c in _BUILT_IN if c.kind == "text")


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
        if kind not in ("image", "audio", "text"):
            raise ChannelError(f"channels.{name}.kind: {kind!r} is not 'image', 'audio' or 'text'")
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


__all__ = [
    "AUDIO_CHANNELS", "CHANNELS", "DEFAULT_SEED", "FFMPEG_TIMEOUT_S", "IMAGE_CHANNELS", "KINDS", "LIBRARIES", "NAMED",
    "PARAMS", "TEXT_CHANNELS", "Channel", "ChannelError", "NamedChannel", "aac", "audio_noise", "blur", "brightness",
    "cache_version", "chain_step", "chain_steps", "clipboard", "crop", "declared", "describe", "describe_channel",
    "excerpt", "ffmpeg_version", "fit", "html_round_trip", "jpeg", "lowpass", "mp3", "nfc", "nfkc", "noise", "opus",
    "pitch", "resample", "resize", "rotate", "stretch", "strip", "trim", "utf16", "webp",
]
