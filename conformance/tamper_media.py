"""The media types the tamper transforms know, and the error for those they do not."""

from __future__ import annotations

from collections.abc import Callable

TamperFn = Callable[[bytes, str], bytes]

_JPEG = "image/jpeg"
_PNG = "image/png"
_WEBP = "image/webp"
_TIFF = "image/tiff"
_WAV = "audio/wav"
_MP3 = "audio/mpeg"
_FLAC = "audio/flac"
_ALIASES = {
    "image/jpg": _JPEG,
    "image/tif": _TIFF,
    "audio/x-wav": _WAV,
    "audio/wave": _WAV,
    "audio/vnd.wave": _WAV,
    "audio/mp3": _MP3,
    "audio/x-flac": _FLAC,
}


def _media(media_type: str) -> str:
    return _ALIASES.get(media_type.lower(), media_type.lower())


class TamperUnsupported(ValueError):
    """The format (or this variant of it) is out of the transform's reach."""


def _unsupported(what: str, media_type: str) -> TamperUnsupported:
    return TamperUnsupported(f"{what} tamper not supported for {media_type}")
