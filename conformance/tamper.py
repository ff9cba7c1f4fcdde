"""Tamper transforms on signed assets: each turns a signer's output into a tamper vector.

Every transform is a pure function ``(data, media_type) -> bytes`` that changes exactly
what its name says and raises :class:`ValueError` when it cannot find that part, or
:class:`TamperUnsupported` (a ValueError: "... not supported for <type>") when the
format is out of its reach.

* ``pixel``: one byte of the media payload the hard binding covers (JPEG scan data,
  PNG image data, WebP ``VP8``/``VP8L`` chunk, WAV ``data`` chunk, TIFF strip or tile,
  MP3 frame).  The file still decodes.  PNG is the exception to "one byte": IDAT is
  zlib-compressed, so one filtered scanline byte is changed and the image data is
  recompressed into a single IDAT chunk with a correct CRC (a raw byte flip in the
  deflate stream would just make the file unreadable).
* ``assertion``: one ASCII letter inside a text string of the ``c2pa.actions``
  assertion's CBOR (another non-hash assertion when there is no actions assertion);
  the JUMBF and CBOR structure stay intact.
* ``signature``: one byte of the signature bytes of the ``c2pa.signature`` COSE_Sign1.
* ``strip``: the whole manifest store is removed (JPEG APP11 segments, PNG ``caBX``
  chunk, RIFF ``C2PA`` chunk, TIFF tag 52545, ID3 ``GEOB`` frame).

The manifest store is located by parsing the container, never by searching for bytes.
In the active (last) manifest of the store, assertions and the signature are found by
parsing JUMBF and CBOR.

:data:`TAMPERS` gives each transform with the failure codes c2pa-rs 0.91 / c2pa-python
0.38 reports for it (``None``: no manifest is found at all).  c2pa-rs 0.91 binds every
format handled here with ``c2pa.hash.data`` (not ``c2pa.hash.boxes``), so ``pixel``
expects ``assertion.dataHash.mismatch`` for all of them.

Verified on c2pa-python 0.38.1 output for JPEG (one and three APP11 segments), PNG,
WebP, TIFF, WAV, MP3 and FLAC, and on the 2022 public JPEG test files: every transform
gave exactly its code (beside ``signingCredential.untrusted``) and every tampered file
still decodes.  Not supported: ``pixel`` for FLAC (CRC-protected, Rice-coded frames),
all four for GIF (sub-blocked application extension), BigTIFF, unsynchronised ID3.
"""

from __future__ import annotations

import functools
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

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

_C2PA_UUID = b"c2pa" + bytes.fromhex("00110010800000aa00389b71")
_TIFF_C2PA_TAG = 52545
_MAX_DEPTH = 64


def _media(media_type: str) -> str:
    return _ALIASES.get(media_type.lower(), media_type.lower())


class TamperUnsupported(ValueError):
    """The format (or this variant of it) is out of the transform's reach."""


def _unsupported(what: str, media_type: str) -> TamperUnsupported:
    return TamperUnsupported(f"{what} tamper not supported for {media_type}")


# --------------------------------------------------------------------------- JUMBF


@dataclass(frozen=True)
class _Store:
    """The manifest store's bytes as one logical buffer, mapped back to the file.

    ``pieces`` are ``(file_offset, length)`` in logical order: one piece for formats
    that keep the store contiguous, one per APP11 segment for JPEG.
    """

    data: bytes
    pieces: tuple[tuple[int, int], ...]

    def file_offset(self, logical: int) -> int:
        base = 0
        for start, length in self.pieces:
            if logical < base + length:
                return start + logical - base
            base += length
        raise ValueError("offset outside the manifest store")


@dataclass(frozen=True)
class _Box:
    tbox: bytes
    start: int  # box start (LBox)
    payload: int  # payload start
    end: int
    label: str | None = None
    uuid: bytes = b""
    children: tuple[_Box, ...] = ()


def _box_header(buf: bytes, pos: int, limit: int) -> tuple[bytes, int, int]:
    if pos + 8 > limit:
        raise ValueError("truncated JUMBF box header")
    (lbox,) = struct.unpack_from(">I", buf, pos)
    tbox = buf[pos + 4 : pos + 8]
    if lbox == 1:
        if pos + 16 > limit:
            raise ValueError("truncated JUMBF XLBox")
        (length,) = struct.unpack_from(">Q", buf, pos + 8)
        payload = pos + 16
    elif lbox == 0:
        length, payload = limit - pos, pos + 8
    else:
        length, payload = lbox, pos + 8
    if length < payload - pos or pos + length > limit:
        raise ValueError("JUMBF box length out of range")
    return tbox, payload, pos + length


def _parse_box(buf: bytes, pos: int, limit: int, depth: int = 0) -> _Box:
    if depth > _MAX_DEPTH:
        raise ValueError("JUMBF nesting too deep")
    tbox, payload, end = _box_header(buf, pos, limit)
    if tbox != b"jumb":
        return _Box(tbox, pos, payload, end)
    dtype, dpayload, dend = _box_header(buf, payload, end)
    if dtype != b"jumd" or dend - dpayload < 17:
        raise ValueError("JUMBF superbox without a description box")
    uuid, toggles = buf[dpayload : dpayload + 16], buf[dpayload + 16]
    label = None
    if toggles & 0x02:
        nul = buf.find(b"\x00", dpayload + 17, dend)
        if nul < 0:
            raise ValueError("unterminated JUMBF label")
        label = buf[dpayload + 17 : nul].decode("utf-8", "replace")
    children = []
    at = dend
    while at < end:
        child = _parse_box(buf, at, end, depth + 1)
        children.append(child)
        at = child.end
    return _Box(tbox, pos, payload, end, label, uuid, tuple(children))


def _child(box: _Box, label: str) -> _Box | None:
    return next((c for c in box.children if c.label == label), None)


def _active_manifest(store: _Store) -> _Box:
    root = _parse_box(store.data, 0, len(store.data))
    if root.label != "c2pa":
        raise ValueError("not a C2PA manifest store")
    manifests = [c for c in root.children if c.tbox == b"jumb"]
    if not manifests:
        raise ValueError("the manifest store holds no manifest")
    return manifests[-1]


def _content(box: _Box, tbox: bytes) -> _Box | None:
    return next((c for c in box.children if c.tbox == tbox), None)


# ---------------------------------------------------------------------------- CBOR


def _cbor_head(buf: bytes, pos: int, end: int) -> tuple[int, int | None, int]:
    """Major type, argument (None for indefinite length) and the offset after the head."""
    if pos >= end:
        raise ValueError("truncated CBOR")
    first = buf[pos]
    major, info = first >> 5, first & 0x1F
    if info < 24:
        return major, info, pos + 1
    sizes = {24: 1, 25: 2, 26: 4, 27: 8}
    if info in sizes:
        size = sizes[info]
        if pos + 1 + size > end:
            raise ValueError("truncated CBOR argument")
        return major, int.from_bytes(buf[pos + 1 : pos + 1 + size], "big"), pos + 1 + size
    if info == 31 and major in (2, 3, 4, 5, 7):
        return major, None, pos + 1
    raise ValueError("malformed CBOR head")


def _cbor_walk(buf: bytes, pos: int, end: int, visit: Callable[[int, int, int], None], depth: int = 0) -> int:
    """Skip one CBOR item; ``visit(major, content_start, content_end)`` sees every string."""
    if depth > _MAX_DEPTH:
        raise ValueError("CBOR nesting too deep")
    major, arg, at = _cbor_head(buf, pos, end)
    if major in (2, 3):
        if arg is None:
            while at < end and buf[at] != 0xFF:
                at = _cbor_walk(buf, at, end, visit, depth + 1)
            return at + 1
        if at + arg > end:
            raise ValueError("CBOR string overruns its box")
        visit(major, at, at + arg)
        return at + arg
    if major in (4, 5):
        per_entry = 2 if major == 5 else 1
        if arg is None:
            while at < end and buf[at] != 0xFF:
                at = _cbor_walk(buf, at, end, visit, depth + 1)
            return at + 1
        for _ in range(arg * per_entry):
            at = _cbor_walk(buf, at, end, visit, depth + 1)
        return at
    if major == 6:
        return _cbor_walk(buf, at, end, visit, depth + 1)
    if major == 7 and arg is None:
        raise ValueError("unexpected CBOR break")
    return at


def _strings(buf: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    found: list[tuple[int, int, int]] = []
    at = start
    while at < end:
        at = _cbor_walk(buf, at, end, lambda m, s, e: found.append((m, s, e)))
    return found


def _cose_signature(buf: bytes, start: int, end: int) -> tuple[int, int]:
    """The signature bytes of a (tagged) COSE_Sign1."""
    major, arg, at = _cbor_head(buf, start, end)
    if major == 6:
        major, arg, at = _cbor_head(buf, at, end)
    if major != 4 or arg != 4:
        raise ValueError("the claim signature is not a COSE_Sign1 array")
    for _ in range(3):
        at = _cbor_walk(buf, at, end, lambda m, s, e: None)
    major, arg, at = _cbor_head(buf, at, end)
    if major != 2 or arg is None or arg == 0 or at + arg > end:
        raise ValueError("the COSE_Sign1 signature is not a byte string")
    return at, at + arg


# ------------------------------------------------------------ locating the store


def _locate_store(data: bytes, media_type: str, what: str) -> _Store:
    media = _media(media_type)
    if media == _JPEG:
        return _jpeg_store(data)
    if media == _PNG:
        chunk = _png_c2pa_chunk(data)
        return _Store(data[chunk[1] : chunk[2]], ((chunk[1], chunk[2] - chunk[1]),))
    if media in (_WEBP, _WAV):
        _, start, end = _riff_chunk(data, b"C2PA")
        return _Store(data[start:end], ((start, end - start),))
    if media == _TIFF:
        start, end = _tiff_c2pa(data)[1:]
        return _Store(data[start:end], ((start, end - start),))
    if media in (_MP3, _FLAC):
        frame = _id3_c2pa_frame(data)
        return _Store(data[frame.data_start : frame.data_end], ((frame.data_start, frame.data_end - frame.data_start),))
    raise _unsupported(what, media_type)


def _flip_in_store(data: bytes, media_type: str, store: _Store, logical: int, value: int) -> bytes:
    out = bytearray(data)
    out[store.file_offset(logical)] = value
    if _media(media_type) == _PNG:
        _png_fix_crc(out, _png_c2pa_chunk(bytes(out))[0])
    return bytes(out)


# ------------------------------------------------------------------------- JPEG


def _jpeg_segments(data: bytes) -> tuple[list[tuple[int, int, int]], int, int]:
    """Marker segments before the first scan as ``(marker, start, end)`` plus the scan range."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG file")
    segments: list[tuple[int, int, int]] = []
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ValueError("JPEG marker expected")
        while pos < len(data) and data[pos] == 0xFF:
            pos += 1
        marker = data[pos]
        start = pos - 1
        pos += 1
        if marker == 0xD9:
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue
        (length,) = struct.unpack_from(">H", data, pos)
        end = pos + length
        if length < 2 or end > len(data):
            raise ValueError("JPEG segment overruns the file")
        segments.append((marker, start, end))
        pos = end
        if marker == 0xDA:
            scan_end = pos
            while scan_end + 1 < len(data):
                if data[scan_end] == 0xFF and data[scan_end + 1] not in (0x00, *range(0xD0, 0xD8)):
                    break
                scan_end += 1
            return segments, pos, scan_end
    raise ValueError("JPEG without scan data")


def _jpeg_c2pa_segments(data: bytes) -> list[tuple[int, int]]:
    """APP11 segments ``(start, end)`` of the box instance holding the C2PA store."""
    groups: dict[int, list[tuple[int, int, int]]] = {}
    for marker, start, end in _jpeg_segments(data)[0]:
        if marker == 0xEB and data[start + 4 : start + 6] == b"JP" and end - start >= 20:
            instance, seq = struct.unpack_from(">HI", data, start + 6)
            groups.setdefault(instance, []).append((seq, start, end))
    for parts in groups.values():
        parts.sort()
        first = parts[0][1]
        if data[first + 16 : first + 20] == b"jumb" and _C2PA_UUID in data[first + 20 : first + 60]:
            return [(start, end) for _, start, end in parts]
    raise ValueError("no C2PA APP11 segments in this JPEG")


def _jpeg_store(data: bytes) -> _Store:
    pieces: list[tuple[int, int]] = []
    for index, (start, end) in enumerate(_jpeg_c2pa_segments(data)):
        box = start + 12  # FF EB, Lp, CI, En, Z
        if index:
            (lbox,) = struct.unpack_from(">I", data, box)
            box += 16 if lbox == 1 else 8  # the repeated LBox/TBox(/XLBox)
        pieces.append((box, end - box))
    return _Store(b"".join(data[s : s + n] for s, n in pieces), tuple(pieces))


def _jpeg_pixel(data: bytes) -> bytes:
    _, scan_start, scan_end = _jpeg_segments(data)
    for pos in range((scan_start + scan_end) // 2, scan_end - 1):
        if data[pos] not in (0xFF, 0xFE) and data[pos - 1] != 0xFF:
            return data[:pos] + bytes([data[pos] ^ 0x01]) + data[pos + 1 :]
    raise ValueError("no changeable byte in the JPEG scan data")


def _jpeg_strip(data: bytes) -> bytes:
    out = data
    for start, end in reversed(_jpeg_c2pa_segments(data)):
        out = out[:start] + out[end:]
    return out


# -------------------------------------------------------------------------- PNG


def _png_chunks(data: bytes) -> list[tuple[bytes, int, int, int]]:
    """``(type, chunk_start, data_start, data_end)`` for every chunk."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    chunks = []
    pos = 8
    while pos + 12 <= len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        kind = data[pos + 4 : pos + 8]
        if pos + 12 + length > len(data):
            raise ValueError("PNG chunk overruns the file")
        chunks.append((kind, pos, pos + 8, pos + 8 + length))
        pos += 12 + length
        if kind == b"IEND":
            break
    return chunks


def _png_c2pa_chunk(data: bytes) -> tuple[int, int, int]:
    for kind, start, dstart, dend in _png_chunks(data):
        if kind == b"caBX":
            return start, dstart, dend
    raise ValueError("no caBX chunk in this PNG")


def _png_fix_crc(buf: bytearray, chunk_start: int) -> None:
    (length,) = struct.unpack_from(">I", buf, chunk_start)
    crc = zlib.crc32(bytes(buf[chunk_start + 4 : chunk_start + 8 + length]))
    struct.pack_into(">I", buf, chunk_start + 8 + length, crc)


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _png_pixel(data: bytes) -> bytes:
    chunks = _png_chunks(data)
    idat = [c for c in chunks if c[0] == b"IDAT"]
    if not idat or chunks[0][0] != b"IHDR":
        raise ValueError("PNG without IHDR/IDAT")
    width, height, depth, colour, _, _, interlace = struct.unpack_from(">IIBBBBB", data, chunks[0][2])
    if interlace:
        raise _unsupported("pixel (interlaced)", _PNG)
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(colour)
    if channels is None:
        raise ValueError("unknown PNG colour type")
    stride = 1 + (width * channels * depth + 7) // 8
    raw = bytearray(zlib.decompress(b"".join(data[s:e] for _, _, s, e in idat)))
    if len(raw) < stride * height:
        raise ValueError("PNG image data shorter than its header says")
    row = height // 2
    raw[row * stride + max(1, stride // 2)] ^= 0x01  # never the filter-type byte
    new = _png_chunk(b"IDAT", zlib.compress(bytes(raw), 9))
    first, last = idat[0][1], idat[-1][3] + 4
    return data[:first] + new + data[last:]


def _png_strip(data: bytes) -> bytes:
    out = data
    for kind, start, _, end in reversed(_png_chunks(data)):
        if kind == b"caBX":
            out = out[:start] + out[end + 4 :]
    if out == data:
        raise ValueError("no caBX chunk in this PNG")
    return out


# ------------------------------------------------------------------ RIFF (WebP, WAV)


def _riff_chunks(data: bytes) -> list[tuple[bytes, int, int, int]]:
    """Top-level ``(id, chunk_start, data_start, data_end)`` of a RIFF file."""
    if data[:4] != b"RIFF" or len(data) < 12:
        raise ValueError("not a RIFF file")
    chunks = []
    pos = 12
    while pos + 8 <= len(data):
        kind = data[pos : pos + 4]
        (size,) = struct.unpack_from("<I", data, pos + 4)
        if pos + 8 + size > len(data):
            raise ValueError("RIFF chunk overruns the file")
        chunks.append((kind, pos, pos + 8, pos + 8 + size))
        pos += 8 + size + (size & 1)
    return chunks


def _riff_chunk(data: bytes, *kinds: bytes) -> tuple[int, int, int]:
    for kind, start, dstart, dend in _riff_chunks(data):
        if kind in kinds:
            return start, dstart, dend
    names = "/".join(k.decode("ascii").strip() for k in kinds)
    raise ValueError(f"no {names} chunk in this RIFF file")


def _riff_pixel(data: bytes, media: str) -> bytes:
    kinds = (b"VP8 ", b"VP8L") if media == _WEBP else (b"data",)
    _, start, end = _riff_chunk(data, *kinds)
    if end - start < 64:
        raise ValueError("media chunk too small to change safely")
    pos = start + (end - start) * 3 // 4
    return data[:pos] + bytes([data[pos] ^ 0x01]) + data[pos + 1 :]


def _riff_strip(data: bytes) -> bytes:
    start, _, end = _riff_chunk(data, b"C2PA")
    end += (end - start) & 1
    out = bytearray(data[:start] + data[end:])
    struct.pack_into("<I", out, 4, len(out) - 8)
    return bytes(out)


# ------------------------------------------------------------------------- TIFF


@dataclass(frozen=True)
class _Ifd:
    order: str
    offset: int
    entries: tuple[tuple[int, int, int, int], ...]  # (tag, type, count, entry_offset)


_TIFF_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}


def _tiff_ifd0(data: bytes) -> _Ifd:
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None:
        raise ValueError("not a TIFF file")
    (magic,) = struct.unpack_from(order + "H", data, 2)
    if magic != 42:
        raise _unsupported("BigTIFF", _TIFF)
    (offset,) = struct.unpack_from(order + "I", data, 4)
    if offset + 2 > len(data):
        raise ValueError("TIFF IFD0 outside the file")
    (count,) = struct.unpack_from(order + "H", data, offset)
    if offset + 2 + 12 * count + 4 > len(data):
        raise ValueError("TIFF IFD0 overruns the file")
    entries = []
    for index in range(count):
        at = offset + 2 + 12 * index
        tag, kind, n = struct.unpack_from(order + "HHI", data, at)
        entries.append((tag, kind, n, at))
    return _Ifd(order, offset, tuple(entries))


def _tiff_values(data: bytes, ifd: _Ifd, tag: int) -> list[int]:
    for entry_tag, kind, count, at in ifd.entries:
        if entry_tag != tag:
            continue
        if kind not in (3, 4):
            raise ValueError(f"TIFF tag {tag} has an unexpected type")
        size = _TIFF_SIZES[kind]
        where = at + 8
        if size * count > 4:
            (where,) = struct.unpack_from(ifd.order + "I", data, at + 8)
        fmt = ifd.order + ("H" if kind == 3 else "I") * count
        if where + size * count > len(data):
            raise ValueError(f"TIFF tag {tag} values outside the file")
        return list(struct.unpack_from(fmt, data, where))
    raise ValueError(f"TIFF without tag {tag}")


def _tiff_c2pa(data: bytes) -> tuple[int, int, int]:
    """Entry offset of tag 52545 and the range of its JUMBF bytes."""
    ifd = _tiff_ifd0(data)
    for tag, kind, count, at in ifd.entries:
        if tag == _TIFF_C2PA_TAG:
            size = _TIFF_SIZES.get(kind, 1) * count
            start = at + 8
            if size > 4:
                (start,) = struct.unpack_from(ifd.order + "I", data, at + 8)
            if start + size > len(data):
                raise ValueError("TIFF C2PA tag data outside the file")
            return at, start, start + size
    raise ValueError("no C2PA tag (52545) in TIFF IFD0")


def _tiff_pixel(data: bytes) -> bytes:
    ifd = _tiff_ifd0(data)
    tags = {tag for tag, _, _, _ in ifd.entries}
    offsets_tag, counts_tag = (273, 279) if 273 in tags else (324, 325)
    offsets, counts = _tiff_values(data, ifd, offsets_tag), _tiff_values(data, ifd, counts_tag)
    index = len(offsets) // 2
    if not counts[index] or offsets[index] + counts[index] > len(data):
        raise ValueError("TIFF strip outside the file")
    pos = offsets[index] + counts[index] // 2
    return data[:pos] + bytes([data[pos] ^ 0x01]) + data[pos + 1 :]


def _tiff_strip(data: bytes) -> bytes:
    entry, start, end = _tiff_c2pa(data)
    ifd = _tiff_ifd0(data)
    out = bytearray(data)
    table_end = ifd.offset + 2 + 12 * len(ifd.entries)
    struct.pack_into(ifd.order + "H", out, ifd.offset, len(ifd.entries) - 1)
    # Shift the later entries and the next-IFD offset up by one entry.
    out[entry : table_end + 4 - 12] = data[entry + 12 : table_end + 4]
    out[table_end + 4 - 12 : table_end + 4] = bytes(12)
    if end - start > 4:
        out[start:end] = bytes(end - start)
    return bytes(out)


# -------------------------------------------------------------- ID3 (MP3, FLAC)


@dataclass(frozen=True)
class _Id3Frame:
    tag_end: int
    frame_start: int
    frame_end: int
    data_start: int  # start of the JUMBF inside the GEOB frame
    data_end: int


#: GEOB MIME types of a C2PA manifest store: current c2pa-rs, and older releases (seen with c2pa-python 0.10)
_C2PA_GEOB_TYPES = (b"application/c2pa", b"application/x-c2pa-manifest-store")


def _geob_object(data: bytes, body: int, end: int) -> int:
    """Offset of the encapsulated object in a GEOB frame body."""
    encoding = data[body]
    pos = data.find(b"\x00", body + 1, end) + 1  # MIME type: always Latin-1
    terminator = b"\x00\x00" if encoding in (1, 2) else b"\x00"
    for _ in range(2):  # file name, then content description
        if pos <= 0:
            break
        found = data.find(terminator, pos, end)
        while terminator == b"\x00\x00" and found >= 0 and (found - pos) % 2:
            found = data.find(terminator, found + 1, end)
        pos = found + len(terminator) if found >= 0 else -1
    if pos <= 0 or data[pos + 4 : pos + 8] != b"jumb":
        raise ValueError("C2PA GEOB frame without a JUMBF object")
    return pos


def _syncsafe(raw: bytes) -> int:
    return (raw[0] << 21) | (raw[1] << 14) | (raw[2] << 7) | raw[3]


def _id3_c2pa_frame(data: bytes) -> _Id3Frame:
    if data[:3] != b"ID3" or len(data) < 10:
        raise ValueError("no ID3v2 tag at the start of the file")
    version, flags = data[3], data[5]
    if version not in (3, 4):
        raise _unsupported(f"ID3v2.{version}", "ID3")
    if flags & 0x80:
        raise _unsupported("unsynchronised ID3", "ID3")
    tag_end = 10 + _syncsafe(data[6:10])
    pos = 10
    if flags & 0x40:
        ext = data[10:14]
        pos += _syncsafe(ext) if version == 4 else 4 + int.from_bytes(ext, "big")
    while pos + 10 <= tag_end and data[pos] != 0:
        frame_id = data[pos : pos + 4]
        raw_size = data[pos + 4 : pos + 8]
        size = _syncsafe(raw_size) if version == 4 else int.from_bytes(raw_size, "big")
        body, end = pos + 10, pos + 10 + size
        if end > tag_end:
            raise ValueError("ID3 frame overruns its tag")
        mime_end = data.find(b"\x00", body + 1, end)
        if frame_id == b"GEOB" and data[body + 1 : mime_end] in _C2PA_GEOB_TYPES:
            if data[pos + 9] & (0x0E if version == 4 else 0xC0):
                raise _unsupported("compressed/encrypted GEOB", "ID3")
            skip = 4 if version == 4 and data[pos + 9] & 0x01 else 0  # data length indicator
            start = _geob_object(data, body + skip, end)
            return _Id3Frame(tag_end, pos, end, start, end)
        pos = end
    raise ValueError("no C2PA GEOB frame in the ID3 tag")


def _id3_strip(data: bytes) -> bytes:
    frame = _id3_c2pa_frame(data)
    tag = bytearray(data[: frame.frame_start] + data[frame.frame_end : frame.tag_end])
    size = len(tag) - 10
    if not any(tag[10:]):  # nothing but padding left: drop the whole tag
        return data[frame.tag_end :]
    tag[6:10] = bytes(((size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F))
    return bytes(tag) + data[frame.tag_end :]


_MP3_BITRATES = {
    (3, 1): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (2, 1): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mp3_frame_length(header: bytes) -> int | None:
    """Length of a MPEG Layer III frame from its four header bytes, None if not one."""
    if header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return None
    version, layer = (header[1] >> 3) & 3, (header[1] >> 1) & 3
    bitrate_index, rate_index, padding = header[2] >> 4, (header[2] >> 2) & 3, (header[2] >> 1) & 1
    if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    kbps = _MP3_BITRATES[(3, 1) if version == 3 else (2, 1)][bitrate_index]
    rate = _MP3_RATES[version][rate_index]
    factor = 144 if version == 3 else 72
    return factor * kbps * 1000 // rate + padding


def _mp3_pixel(data: bytes) -> bytes:
    start = 10 + _syncsafe(data[6:10]) if data[:3] == b"ID3" else 0
    pos = start + (len(data) - start) // 2
    while pos + 4 <= len(data):
        length = _mp3_frame_length(data[pos : pos + 4])
        following = pos + (length or 0)
        if length and following + 4 <= len(data) and _mp3_frame_length(data[following : following + 4]):
            target = pos + length * 3 // 4  # past header and side information
            return data[:target] + bytes([data[target] ^ 0x01]) + data[target + 1 :]
        pos += 1
    raise ValueError("no MPEG Layer III frame found")


# ---------------------------------------------------------------- the transforms


def _malformed_is_value_error(fn: TamperFn) -> TamperFn:
    """Keep the module's contract on malformed input: a short header, an ID3 tag that
    overruns the file or a corrupt zlib stream raise ValueError, not struct.error,
    IndexError or zlib.error."""

    @functools.wraps(fn)
    def transform(data: bytes, media_type: str) -> bytes:
        try:
            return fn(data, media_type)
        except (struct.error, IndexError, zlib.error) as exc:
            raise ValueError(f"{fn.__name__} tamper: malformed {media_type}: {exc}") from exc

    return transform


@_malformed_is_value_error
def pixel(data: bytes, media_type: str) -> bytes:
    """Change one byte of the media payload bound by the hard binding."""
    media = _media(media_type)
    if media == _JPEG:
        return _jpeg_pixel(data)
    if media == _PNG:
        return _png_pixel(data)
    if media in (_WEBP, _WAV):
        return _riff_pixel(data, media)
    if media == _TIFF:
        return _tiff_pixel(data)
    if media == _MP3:
        return _mp3_pixel(data)
    raise _unsupported("pixel", media_type)


@_malformed_is_value_error
def assertion(data: bytes, media_type: str) -> bytes:
    """Change one letter inside the CBOR of the active manifest's actions assertion."""
    store = _locate_store(data, media_type, "assertion")
    manifest = _active_manifest(store)
    assertions = _child(manifest, "c2pa.assertions")
    if assertions is None:
        raise ValueError("the active manifest has no assertion store")
    candidates = [a for a in assertions.children if a.label and not a.label.startswith("c2pa.hash") and _content(a, b"cbor")]
    candidates.sort(key=lambda a: not (a.label or "").startswith("c2pa.actions"))
    for target in candidates:
        cbor = _content(target, b"cbor")
        if cbor is None:
            continue
        texts = [(s, e) for m, s, e in _strings(store.data, cbor.payload, cbor.end) if m == 3]
        for start, end in sorted(texts, key=lambda r: r[0] - r[1]):  # longest string first
            middle = (start + end) // 2
            for pos in (*range(middle, end), *range(start, middle)):
                byte = store.data[pos]
                if 0x41 <= byte <= 0x5A or 0x61 <= byte <= 0x7A:
                    return _flip_in_store(data, media_type, store, pos, byte ^ 0x20)
    raise ValueError("no assertion with a changeable text string in the active manifest")


@_malformed_is_value_error
def signature(data: bytes, media_type: str) -> bytes:
    """Change one byte of the COSE signature bytes in the active manifest's c2pa.signature."""
    store = _locate_store(data, media_type, "signature")
    manifest = _active_manifest(store)
    box = _child(manifest, "c2pa.signature")
    cbor = _content(box, b"cbor") if box else None
    if cbor is None:
        raise ValueError("the active manifest has no c2pa.signature box")
    start, end = _cose_signature(store.data, cbor.payload, cbor.end)
    pos = (start + end) // 2
    return _flip_in_store(data, media_type, store, pos, store.data[pos] ^ 0x01)


@_malformed_is_value_error
def strip(data: bytes, media_type: str) -> bytes:
    """Remove the whole embedded manifest store."""
    media = _media(media_type)
    if media == _JPEG:
        return _jpeg_strip(data)
    if media == _PNG:
        return _png_strip(data)
    if media in (_WEBP, _WAV):
        return _riff_strip(data)
    if media == _TIFF:
        return _tiff_strip(data)
    if media in (_MP3, _FLAC):
        return _id3_strip(data)
    raise _unsupported("strip", media_type)


#: name -> (transform, failure codes c2pa-rs 0.91 / c2pa-python 0.38 report in
#: activeManifest, or None when the reader finds no manifest at all).
TAMPERS: dict[str, tuple[TamperFn, tuple[str, ...] | None]] = {
    "pixel": (pixel, ("assertion.dataHash.mismatch",)),
    "assertion": (assertion, ("assertion.hashedURI.mismatch",)),
    "signature": (signature, ("claimSignature.mismatch",)),
    "strip": (strip, None),
}
