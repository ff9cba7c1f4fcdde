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

The manifest store is located by parsing the container, never by searching for bytes
(in TIFF, tag 52545 in IFD0, where c2pa-rs 0.91 writes it, or in an IFD of its own after
the last page, where c2pa-rs 0.90 / c2patool 0.27 writes it; such an IFD is unlinked by
``strip``).
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

The parsing behind the transforms: the media types (``tamper_media``), the manifest
store's JUMBF, CBOR and COSE (``tamper_jumbf``), JPEG, PNG, RIFF and TIFF
(``tamper_images``), ID3 and MP3 frames (``tamper_id3``).
"""

from __future__ import annotations

import functools
import struct
import zlib

from conformance.tamper_id3 import _id3_c2pa_frame, _id3_strip, _mp3_pixel
from conformance.tamper_images import (
    _jpeg_pixel,
    _jpeg_store,
    _jpeg_strip,
    _png_c2pa_chunk,
    _png_fix_crc,
    _png_pixel,
    _png_strip,
    _riff_chunk,
    _riff_pixel,
    _riff_strip,
    _tiff_c2pa,
    _tiff_pixel,
    _tiff_strip,
)
from conformance.tamper_jumbf import _active_manifest, _child, _content, _cose_signature, _Store, _strings
from conformance.tamper_media import (
    _FLAC,
    _JPEG,
    _MP3,
    _PNG,
    _TIFF,
    _WAV,
    _WEBP,
    TamperFn,
    TamperUnsupported,
    _media,
    _unsupported,
)

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
        start, end = _tiff_c2pa(data)[2:]
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

__all__ = ["TAMPERS", "TamperFn", "TamperUnsupported", "assertion", "pixel", "signature", "strip"]
