"""Where JPEG, PNG, RIFF (WebP and WAV) and TIFF keep the manifest store and the media
payload: each container parsed to find, flip or strip them."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from conformance.tamper_jumbf import _C2PA_UUID, _Store
from conformance.tamper_media import _PNG, _TIFF, _WEBP, _unsupported

_TIFF_C2PA_TAG = 52545


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


#: IFDs followed at most (a multi-page TIFF, then a C2PA IFD of its own).
_MAX_IFDS = 64
_TIFF_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}


def _tiff_ifd0(data: bytes) -> _Ifd:
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None:
        raise ValueError("not a TIFF file")
    (magic,) = struct.unpack_from(order + "H", data, 2)
    if magic != 42:
        raise _unsupported("BigTIFF", _TIFF)
    (offset,) = struct.unpack_from(order + "I", data, 4)
    return _tiff_ifd(data, order, offset, "IFD0")


def _tiff_ifd(data: bytes, order: str, offset: int, name: str) -> _Ifd:
    if offset + 2 > len(data):
        raise ValueError(f"TIFF {name} outside the file")
    (count,) = struct.unpack_from(order + "H", data, offset)
    if offset + 2 + 12 * count + 4 > len(data):
        raise ValueError(f"TIFF {name} overruns the file")
    entries = []
    for index in range(count):
        at = offset + 2 + 12 * index
        tag, kind, n = struct.unpack_from(order + "HHI", data, at)
        entries.append((tag, kind, n, at))
    return _Ifd(order, offset, tuple(entries))


def _tiff_next(data: bytes, ifd: _Ifd) -> tuple[int, int]:
    """Where an IFD's next-IFD offset is stored, and its value (0: the last IFD)."""
    at = ifd.offset + 2 + 12 * len(ifd.entries)
    return at, struct.unpack_from(ifd.order + "I", data, at)[0]


def _tiff_chain(data: bytes) -> list[_Ifd]:
    """IFD0 and the IFDs linked after it (pages, or a C2PA IFD of its own), loops cut."""
    chain = [_tiff_ifd0(data)]
    seen = {chain[0].offset}
    while len(chain) < _MAX_IFDS:
        _, offset = _tiff_next(data, chain[-1])
        if not offset or offset in seen:
            break
        seen.add(offset)
        chain.append(_tiff_ifd(data, chain[0].order, offset, f"IFD{len(chain)}"))
    return chain


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


def _tiff_c2pa(data: bytes) -> tuple[_Ifd, int, int, int]:
    """The IFD holding tag 52545, the tag's entry offset and the range of its JUMBF bytes.

    Looked for where c2pa-rs reads it: an IFD of its own after the last page (c2pa-rs
    0.90, c2patool 0.27, writes it there), else IFD0 (c2pa-rs 0.91 writes it there)."""
    chain = _tiff_chain(data)
    for ifd in dict.fromkeys((chain[-1], chain[0])):
        for tag, kind, count, at in ifd.entries:
            if tag == _TIFF_C2PA_TAG:
                size = _TIFF_SIZES.get(kind, 1) * count
                start = at + 8
                if size > 4:
                    (start,) = struct.unpack_from(ifd.order + "I", data, at + 8)
                if start + size > len(data):
                    raise ValueError("TIFF C2PA tag data outside the file")
                return ifd, at, start, start + size
    raise ValueError("no C2PA tag (52545) in TIFF IFD0 or the last IFD")


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
    ifd, entry, start, end = _tiff_c2pa(data)
    out = bytearray(data)
    chain = _tiff_chain(data)
    if len(ifd.entries) == 1 and ifd != chain[0]:
        # an IFD holding nothing but the manifest store: unlink it from the chain
        before = chain[chain.index(ifd) - 1]
        struct.pack_into(ifd.order + "I", out, _tiff_next(data, before)[0], _tiff_next(data, ifd)[1])
    else:
        table_end = ifd.offset + 2 + 12 * len(ifd.entries)
        struct.pack_into(ifd.order + "H", out, ifd.offset, len(ifd.entries) - 1)
        # Shift the later entries and the next-IFD offset up by one entry.
        out[entry : table_end + 4 - 12] = data[entry + 12 : table_end + 4]
        out[table_end + 4 - 12 : table_end + 4] = bytes(12)
    if end - start > 4:
        out[start:end] = bytes(end - start)
    return bytes(out)
