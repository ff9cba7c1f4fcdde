"""Bounds on decoding one input vector, and the probe that applies them.

A file that claims 400 megapixels in a 500 KB PNG, or a sparse 700 MB JPEG, costs
gigabytes in whoever decodes it.  Such a vector (and one that is truncated or does not
decode at all) is the vector's problem, not the vendors': :func:`decode_problem` says
why before any vendor is handed it, and the run leaves its cells ``blocked``.

Pillow's own decompression-bomb limit is set here, on import (``runner.vectors``
imports this module, so every harness process has it): Pillow warns above
``Image.MAX_IMAGE_PIXELS`` and refuses above twice that.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

from PIL import Image

from runner.model import Limits

#: Media types that are read as data, never decoded (only the file-size cap applies).
OPAQUE_TYPES = frozenset({"text/plain", "application/json", "application/octet-stream"})

#: Frames read at a time when decoding a clip to the end (bounded memory).
AUDIO_BLOCK_FRAMES = 65536


def set_pillow_limit(limits: Limits) -> None:
    """Pillow's decompression-bomb limit at the pixel cap (process-wide)."""
    Image.MAX_IMAGE_PIXELS = limits.max_pixels


set_pillow_limit(Limits())


def file_problem(path: Path, limits: Limits) -> str | None:
    """Why the file cannot be read as a vector (not a regular file, over the size cap)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        return f"cannot stat it: {exc.strerror or exc}"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file"
    if st.st_size > limits.max_file_bytes:
        return f"{st.st_size} bytes, over the cap of {limits.max_file_bytes} bytes per vector file (limits.max_file_bytes)"
    return None


def _image_problem(path: Path, limits: Limits) -> str | None:
    try:
        with Image.open(path) as im:  # reads the header only
            width, height = im.size
            if width * height > limits.max_pixels:
                return (f"{width}x{height} = {width * height} pixels, over the cap of {limits.max_pixels}"
                        " (limits.max_pixels)")
            im.load()  # under the cap: decode it, so truncation shows
    except Image.DecompressionBombError as exc:
        return f"decompression bomb: {exc}"
    except Exception as exc:  # noqa: BLE001 - whatever Pillow raises, the file does not decode
        return f"Pillow cannot decode it: {type(exc).__name__}: {exc}"
    return None


def _audio_problem(path: Path, limits: Limits) -> str | None:
    import soundfile as sf  # libsndfile is loaded only when a clip is probed

    try:
        with sf.SoundFile(str(path)) as clip:
            samples = clip.frames * clip.channels
            if samples > limits.max_samples:
                return (f"{clip.frames} frames x {clip.channels} channels = {samples} samples, over the cap of"
                        f" {limits.max_samples} (limits.max_samples)")
            decoded = sum(len(block) for block in clip.blocks(AUDIO_BLOCK_FRAMES, dtype="float32"))
            if decoded < clip.frames:
                return f"libsndfile decodes {decoded} of the {clip.frames} frames its header announces"
    except Exception as exc:  # noqa: BLE001 - libsndfile's errors are the file's
        return f"libsndfile cannot decode it: {type(exc).__name__}: {exc}"
    return None


_memo: dict[tuple[str, Limits, bool], str | None] = {}
_memo_locks: dict[tuple[str, Limits, bool], threading.Lock] = {}
_memo_guard = threading.Lock()


def decode_problem(path: Path, media_type: str, sha256: str, limits: Limits, hostile: bool = False) -> str | None:
    """Why this vector cannot be decoded within ``limits``, in a few words; None when it can.

    Cheap first: the file's size (``stat``, nothing read), then the image's or clip's
    header against the pixel or sample cap; only a file under the caps is decoded in
    full (a clip block by block), to catch truncation.  Data types (JSON, text) are not
    decoded.  A ``hostile`` vector is malformed on purpose: only its file size is checked.
    Memoised per sha256 and limits, and one probe of a file runs at a time.
    """
    key = (sha256, limits, hostile)
    with _memo_guard:
        if key in _memo:
            return _memo[key]
        lock = _memo_locks.setdefault(key, threading.Lock())
    with lock:
        if key not in _memo:
            problem = file_problem(path, limits)
            if problem is None and not hostile:
                if media_type.startswith("image/"):
                    problem = _image_problem(path, limits)
                elif media_type.startswith("audio/"):
                    problem = _audio_problem(path, limits)
            _memo[key] = " ".join(problem.split()) if problem else None
        return _memo[key]
