"""Deterministic derivation of a test vector into another media format.

A source vector (say a PNG photo or an Ogg clip) is re-encoded into the formats its
catalogue entry lists under ``derive``.  The same source, deriver version and library
versions always give the same bytes, so a derived vector's sha256 is stable and results
can be cached by it.  Derived files live in a cache, never in the repository.

Parameters (bump :data:`DERIVER_VERSION` whenever one changes):

- JPEG: Pillow, quality 90, default 4:2:0 subsampling, ``optimize=False``, baseline,
  no EXIF, ICC or XMP.
- PNG: Pillow, ``optimize=False``, default zlib level, no ancillary chunks.
- WebP: Pillow/libwebp, lossy, quality 80, method 4, no EXIF, ICC or XMP (a simple
  ``VP8`` file, the most common WebP on the web and the hardest for metadata writers,
  which must add a ``VP8X`` header).
- TIFF: Pillow's own writer, uncompressed, one strip layout as Pillow chooses, no
  EXIF or ICC.
- WAV and FLAC: 16-bit PCM at the source's sample rate and channel count.
- MP3: libsndfile/LAME, constant 128 kbit/s at the source's sample rate (MPEG-1 at 32 kHz
  and above, MPEG-2 from 16 kHz), LAME info tag, no ID3 tag.

Audio is decoded once to 16-bit PCM (float decode, rounded and clipped in numpy) and
every target is encoded from those same samples.  MP3 is fed as float64: libsndfile
1.2.2 copies only half of each buffer when given 16-bit *stereo* samples for MP3
(``memcpy`` of ``writecount`` bytes instead of samples), which garbles the audio and
lets stale stack memory into the output.  Ogg output is not offered: libsndfile gives
every Ogg stream a random serial number, so two runs never match.
"""

from __future__ import annotations

import io
import os
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from aiii_kit.vocab import MEDIA_SUFFIX

#: Bump when a derivation parameter changes; part of every derived file's cache key.
DERIVER_VERSION = "d1"

#: MP3 target bitrate in kbit/s (constant bitrate).
MP3_KBPS = 128

IMAGE_TARGETS = ("image/jpeg", "image/png", "image/webp", "image/tiff")
AUDIO_TARGETS = ("audio/wav", "audio/flac", "audio/mpeg")

#: A short label per target, recorded as the derived vector's ``derivation``.
DERIVATIONS: dict[str, str] = {
    "image/jpeg": "pillow jpeg q90 4:2:0 baseline",
    "image/png": "pillow png zlib default",
    "image/webp": "pillow webp lossy q80 m4",
    "image/tiff": "pillow tiff uncompressed",
    "audio/wav": "libsndfile wav pcm16",
    "audio/flac": "libsndfile flac pcm16",
    "audio/mpeg": f"libsndfile lame mp3 cbr {MP3_KBPS}k",
}

#: Bitrate range libsndfile maps ``compression_level`` 0..1 onto, by sample rate floor.
_MP3_RANGES: tuple[tuple[int, float, float], ...] = (
    (32000, 320.0, 32.0),  # MPEG-1 Layer III
    (16000, 160.0, 8.0),  # MPEG-2 Layer III
)


class DeriveError(Exception):
    """The source cannot be derived into the asked format."""


def can_derive(src_media_type: str, target_media_type: str) -> bool:
    """Whether :func:`derive` supports this pair of media types."""
    family = src_media_type.split("/")[0]
    if family == "image":
        return target_media_type in IMAGE_TARGETS
    if family == "audio":
        return target_media_type in AUDIO_TARGETS
    return False


def describe(target_media_type: str) -> str:
    """The derivation label for a target media type."""
    return DERIVATIONS[target_media_type]


def derive(src_path: Path, src_media_type: str, target_media_type: str, dest: Path) -> None:
    """Write ``src_path`` re-encoded as ``target_media_type`` to ``dest`` (atomically)."""
    data = derive_bytes(src_path, src_media_type, target_media_type)
    atomic_write(dest, data)


def derive_bytes(src_path: Path, src_media_type: str, target_media_type: str) -> bytes:
    """The bytes of ``src_path`` re-encoded as ``target_media_type``."""
    if not can_derive(src_media_type, target_media_type):
        raise DeriveError(f"{src_path.name}: cannot derive {target_media_type} from {src_media_type}")
    if src_media_type.startswith("image/"):
        return _derive_image(src_path, target_media_type)
    return _derive_audio(src_path, target_media_type)


def atomic_write(dest: Path, data: bytes) -> None:
    """Write bytes to ``dest`` through a temporary file and ``os.replace``."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cached_derivation(src_path: Path, src_sha256: str, src_media_type: str, target_media_type: str, cache_dir: Path) -> Path:
    """The cached derived file, created on first use; safe across concurrent processes."""
    ext = MEDIA_SUFFIX[target_media_type].lstrip(".")
    dest = cache_dir / "vectors" / f"{src_sha256}-{DERIVER_VERSION}-{libraries_key()}-{ext}"
    if not dest.exists():
        derive(src_path, src_media_type, target_media_type, dest)
    return dest


# -- images -------------------------------------------------------------------------


def _derive_image(src_path: Path, target: str) -> bytes:
    from PIL import Image, ImageOps

    with Image.open(src_path) as opened:
        opened.seek(0)
        im = ImageOps.exif_transpose(opened)
        mode = _pixel_mode(im, target)
        # A fresh image carries pixels only: no EXIF, ICC, XMP, text chunks or gamma.
        clean = Image.frombytes(mode, im.size, im.convert(mode).tobytes())
    out = io.BytesIO()
    if target == "image/jpeg":
        clean.save(out, format="JPEG", quality=90, optimize=False, progressive=False)
    elif target == "image/png":
        clean.save(out, format="PNG", optimize=False)
    elif target == "image/webp":
        clean.save(out, format="WEBP", lossless=False, quality=80, method=4, exact=False)
    else:
        clean.save(out, format="TIFF", compression="raw")
    return out.getvalue()


def _pixel_mode(im: Any, target: str) -> str:
    """L for greyscale, RGBA when there is alpha the target can keep, else RGB."""
    if "A" in im.getbands() or "transparency" in im.info:
        return "RGB" if target == "image/jpeg" else "RGBA"
    return "L" if im.mode == "L" else "RGB"


# -- audio --------------------------------------------------------------------------


def mp3_compression_level(samplerate: int, kbps: int = MP3_KBPS) -> float:
    """The libsndfile ``compression_level`` that makes LAME encode at ``kbps`` CBR.

    libsndfile maps the level linearly onto the bitrate range of the MPEG version the
    sample rate implies (``bitrate = int(max - level * (max - min))``), so the level for
    128 kbit/s is 0.665 at 44.1 kHz but 0.207 at 22.05 kHz; aiming half a kbit/s above
    the target keeps float rounding from truncating to the bitrate below.
    """
    for floor, top, bottom in _MP3_RANGES:
        if samplerate >= floor:
            if not bottom <= kbps <= top:
                break
            return (top - (kbps + 0.5)) / (top - bottom)
    raise DeriveError(f"MP3 at {kbps} kbit/s needs a sample rate of 16 kHz or more, got {samplerate} Hz")


def _derive_audio(src_path: Path, target: str) -> bytes:
    import numpy as np
    import soundfile as sf

    samples, samplerate = sf.read(str(src_path), dtype="float64", always_2d=True)
    pcm = np.clip(np.rint(samples * 32768.0), -32768, 32767).astype(np.int16)
    channels = pcm.shape[1]
    out = io.BytesIO()
    if target == "audio/wav":
        sf.write(out, pcm, samplerate, format="WAV", subtype="PCM_16")
    elif target == "audio/flac":
        sf.write(out, pcm, samplerate, format="FLAC", subtype="PCM_16")
    else:
        if channels > 2:
            raise DeriveError(f"{src_path.name}: MP3 takes 1 or 2 channels, the source has {channels}")
        level = mp3_compression_level(samplerate)
        sf.write(
            out,
            pcm.astype(np.float64) / 32768.0,
            samplerate,
            format="MP3",
            subtype="MPEG_LAYER_III",
            compression_level=level,
            bitrate_mode="CONSTANT",
        )
    return out.getvalue()


# -- provenance of the derivations --------------------------------------------------


@cache
def libraries_key() -> str:
    """A short hash of the codec library versions: a library upgrade re-derives."""
    import hashlib
    import json

    return hashlib.sha256(json.dumps(derivation_info(), sort_keys=True).encode()).hexdigest()[:10]


@cache
def derivation_info() -> dict[str, Any]:
    """The deriver version and the library versions derived bytes depend on."""
    import numpy as np
    import PIL
    import soundfile as sf
    from PIL import features

    info: dict[str, Any] = {
        "deriver_version": DERIVER_VERSION,
        "derivations": dict(DERIVATIONS),
        "pillow": PIL.__version__,
        "libjpeg_turbo": features.version("libjpeg_turbo"),
        "libwebp": features.version("webp"),
        "zlib": features.version("zlib"),
        "zlib_ng": features.version("zlib_ng"),
        "numpy": np.__version__,
        "soundfile": sf.__version__,
        "libsndfile": sf.__libsndfile_version__,
    }
    info.update(_codec_vendor_strings())
    return info


def _codec_vendor_strings() -> dict[str, str | None]:
    """LAME and libFLAC versions as they write themselves into a tiny encoded file."""
    import numpy as np
    import soundfile as sf

    silence = np.zeros((2205, 1), dtype=np.float64)
    found: dict[str, str | None] = {"lame": None, "libflac": None}
    try:
        buf = io.BytesIO()
        sf.write(buf, silence, 22050, format="MP3", compression_level=0.5, bitrate_mode="CONSTANT")
        data = buf.getvalue()
        at = data.find(b"LAME")
        if at >= 0:
            found["lame"] = data[at : at + 9].decode("ascii", "replace")
    except (sf.LibsndfileError, RuntimeError, TypeError):
        pass
    try:
        buf = io.BytesIO()
        sf.write(buf, silence, 22050, format="FLAC", subtype="PCM_16")
        data = buf.getvalue()
        at = data.find(b"reference libFLAC")
        if at >= 0:
            found["libflac"] = data[at:].split(b"\x00", 1)[0].decode("ascii", "replace")
    except (sf.LibsndfileError, RuntimeError, TypeError):
        pass
    return found
