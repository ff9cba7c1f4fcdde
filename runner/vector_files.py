"""What a vector file may be: a regular file inside its folder, never a FIFO, socket,
device or a symlink leading elsewhere; its media type sniffed from its first bytes;
its name escaped wherever it is written; whether it can be decoded within limits."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

from runner.catalogue import CatalogueError
from runner.limits import decode_problem as _probe
from runner.model import Limits, Vector
from runner.paths import display

#: Bytes read from the start of a file to sniff its media type.
SNIFF_BYTES = 65536

#: Extensions each media type is known by (for notes on misleading names).
_KNOWN_SUFFIXES: dict[str, tuple[str, ...]] = {
    "image/jpeg": (".jpg", ".jpeg", ".jpe", ".jfif"),
    "image/png": (".png",),
    "image/webp": (".webp",),
    "image/tiff": (".tif", ".tiff"),
    "image/gif": (".gif",),
    "audio/wav": (".wav", ".wave"),
    "audio/mpeg": (".mp3",),
    "audio/flac": (".flac",),
    "audio/ogg": (".ogg", ".oga", ".opus"),
}
_MEDIA_SUFFIXES = frozenset(s for group in _KNOWN_SUFFIXES.values() for s in group)


# -- media type sniffing ------------------------------------------------------------


def sniff_media_type(data: bytes) -> str | None:
    """The media type the leading bytes of a file announce, or None when unknown.

    Knows JPEG, PNG, WebP, TIFF (both byte orders), GIF, WAV, MP3 (ID3 tag or an MPEG
    audio frame header), FLAC (also behind an ID3 tag) and Ogg.
    """
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"RIFF") and len(data) >= 12:
        return {b"WEBP": "image/webp", b"WAVE": "audio/wav"}.get(data[8:12])
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data.startswith(b"fLaC"):
        return "audio/flac"
    if data.startswith(b"OggS"):
        return "audio/ogg"
    if data.startswith(b"ID3") and len(data) >= 10:
        size_bytes = data[6:10]
        if data[3] in (2, 3, 4) and all(b < 0x80 for b in size_bytes):
            size = sum(b << (7 * (3 - i)) for i, b in enumerate(size_bytes))
            end = 10 + size + (10 if data[3] == 4 and data[5] & 0x10 else 0)
            if data[end : end + 4] == b"fLaC":
                return "audio/flac"
            return "audio/mpeg"
        return None
    if _is_mpeg_audio_frame(data):
        return "audio/mpeg"
    return None


def _is_mpeg_audio_frame(data: bytes) -> bool:
    """A plausible MPEG audio frame header (sync, version, layer, bitrate, rate)."""
    if len(data) < 4 or data[0] != 0xFF or data[1] & 0xE0 != 0xE0:
        return False
    version = (data[1] >> 3) & 0b11  # 0: 2.5, 1: reserved, 2: MPEG-2, 3: MPEG-1
    layer = (data[1] >> 1) & 0b11  # 0: reserved (ADTS AAC uses it)
    bitrate_index = data[2] >> 4
    rate_index = (data[2] >> 2) & 0b11
    return version != 1 and layer != 0 and bitrate_index != 0xF and rate_index != 3


def sniff_file(path: Path) -> str | None:
    """:func:`sniff_media_type` over the first bytes of a file."""
    with open_regular(path) as fh:
        return sniff_media_type(fh.read(SNIFF_BYTES))


# -- what a vector file may be ------------------------------------------------------


def decode_problem(vector: Vector, limits: Limits) -> str | None:
    """Why ``vector`` cannot be decoded within ``limits`` (over a cap, truncated, not
    decodable at all), or None; cheap checks first, memoised per sha256 (runner/limits.py)."""
    return _probe(vector.path, vector.media_type, vector.sha256, limits, "hostile" in vector.tags)


def open_regular(path: Path) -> io.BufferedReader:
    """``path`` opened for reading, refusing anything but a regular file.

    ``O_NONBLOCK`` keeps a FIFO from blocking the open; the check is on the opened
    descriptor, so a file swapped for a FIFO after a ``stat`` is refused too.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise CatalogueError(f"{display(path)}: {_kind(mode)}, not a regular file")
        os.set_blocking(fd, True)
        return open(fd, "rb", closefd=True)  # noqa: SIM115 - the caller closes it
    except BaseException:
        os.close(fd)
        raise


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a folder"))
    return next((name for test, name in kinds if test(mode)), "a special file")


def refusal(path: Path, root: Path) -> str | None:
    """Why the file at ``path`` may not be a vector of the folder ``root`` (resolved), as
    a predicate ("is a FIFO, not a regular file"), or None.  Nothing is opened: FIFOs,
    sockets and devices are told by ``stat``, and a path that resolves outside ``root``
    (through a symlink, of the file or of a folder on the way) is refused, so files from
    elsewhere on the machine never reach a vendor or the run's artifacts."""
    try:
        link = stat.S_ISLNK(os.lstat(path).st_mode)
    except FileNotFoundError:
        return None  # the caller says "not found" in its own words
    except OSError as exc:
        return f"cannot be examined ({exc.strerror or exc})"
    resolved = path.resolve()
    if not resolved.is_relative_to(root):
        return f"resolves outside the vectors folder (to {_printable(str(resolved))})"
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return "is a symlink to nothing" if link else "cannot be examined"
    if not stat.S_ISREG(mode):
        return f"is {_kind(mode)}, not a regular file"
    return None


def _printable(text: str) -> str:
    """``text`` with backslashes and every character that is not printable (control
    characters, line separators, bidi overrides) escaped, for messages and comments."""
    return "".join(_escaped_char(ch) for ch in text)


_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped_char(ch: str) -> str:
    if ch == "\\":
        return "\\\\"
    if ch.isprintable():
        return ch
    if ch in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
