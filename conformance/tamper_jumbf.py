"""The manifest store inside a file: JUMBF boxes, the active manifest, CBOR strings and
the COSE signature, found by parsing, never by searching for bytes."""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

_C2PA_UUID = b"c2pa" + bytes.fromhex("00110010800000aa00389b71")
_MAX_DEPTH = 64


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
