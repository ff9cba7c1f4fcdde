"""Content recognition helpers: fingerprints as the protocol carries them, and distances.

Two encodings (``fingerprint.compute``'s ``encoding``):

- ``bits``: one fixed-length bit string, most significant bit first, as the hex of the
  big-endian integer it spells, zero-padded at the front to whole bytes.  A 64-bit hash is
  the 16 hex digits imagehash prints; a 42-bit colour hash is imagehash's 11 digits with
  one ``0`` in front (imagehash's ``hex_to_flathash`` reads both).  The ``bits`` field of
  the answer says how many of the trailing bits count.
- ``uint32be``: a sequence of 32-bit sub-fingerprints (Chromaprint's raw fingerprint),
  each big-endian; signed values (``fpcalc -signed``) are taken modulo 2**32.

The distances here are the harness's own references, and adapters whose implementation
has none may use them: :func:`hamming_distance` for bit strings,
:func:`aligned_bit_error_rate` for sub-fingerprint sequences.  Standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from aiii_kit._core import AdapterError

__all__ = [
    "Alignment",
    "aligned_bit_error_rate",
    "bits_to_hex",
    "hamming_distance",
    "hex_bytes",
    "hex_to_bits",
    "hex_to_uint32",
    "uint32_to_hex",
]

_HEX = re.compile(r"^(?:[0-9a-f]{2})*$")


def hex_bytes(fingerprint_hex: str) -> bytes:
    """The bytes of a fingerprint's hex (lower case, whole bytes, as the protocol has it);
    anything else is an :class:`AdapterError` naming what is wrong."""
    if not isinstance(fingerprint_hex, str) or not _HEX.match(fingerprint_hex):
        raise AdapterError(f"fingerprint_hex: lower-case hex of whole bytes expected, got {str(fingerprint_hex)[:40]!r}")
    return bytes.fromhex(fingerprint_hex)


def bits_to_hex(bits: Iterable[int | bool] | str) -> str:
    """A bit string (most significant first: ``'0'``/``'1'`` characters, or ints or bools)
    as ``bits`` hex: the big-endian integer, zero-padded at the front to whole bytes."""
    text = bits if isinstance(bits, str) else "".join("1" if b else "0" for b in bits)
    if set(text) - {"0", "1"}:
        raise ValueError(f"not a bit string: {text[:40]!r}")
    if not text:
        return ""
    return int(text, 2).to_bytes((len(text) + 7) // 8, "big").hex()


def hex_to_bits(fingerprint_hex: str, bits: int | None = None) -> str:
    """The ``'0'``/``'1'`` string of ``bits`` hex: its last ``bits`` bits (all of them when
    ``bits`` is None).  Set bits in the front padding are an :class:`AdapterError`."""
    data = hex_bytes(fingerprint_hex)
    text = "".join(f"{b:08b}" for b in data)
    if bits is None:
        return text
    if bits < 0 or bits > len(text) or (len(text) - bits) >= 8:
        raise AdapterError(f"{len(data)} bytes do not hold a {bits}-bit fingerprint")
    if "1" in text[: len(text) - bits]:
        raise AdapterError(f"a {bits}-bit fingerprint has set bits in its front padding")
    return text[len(text) - bits:]


def uint32_to_hex(values: Iterable[int]) -> str:
    """Sub-fingerprints (signed or unsigned 32-bit integers) as ``uint32be`` hex."""
    return b"".join((int(v) & 0xFFFFFFFF).to_bytes(4, "big") for v in values).hex()


def hex_to_uint32(fingerprint_hex: str) -> list[int]:
    """``uint32be`` hex as unsigned 32-bit sub-fingerprints."""
    data = hex_bytes(fingerprint_hex)
    if len(data) % 4:
        raise AdapterError(f"uint32be fingerprint: {len(data)} bytes is not a whole number of 32-bit words")
    return [int.from_bytes(data[i:i + 4], "big") for i in range(0, len(data), 4)]


def hamming_distance(a_hex: str, b_hex: str) -> int:
    """Bits that differ between two fingerprints of the same length (any encoding)."""
    a, b = hex_bytes(a_hex), hex_bytes(b_hex)
    if len(a) != len(b):
        raise AdapterError(f"fingerprints of different lengths ({len(a)} and {len(b)} bytes) have no Hamming distance")
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()


@dataclass(frozen=True)
class Alignment:
    """The best alignment of two sub-fingerprint sequences.

    ``offset`` k pairs ``b[j]`` with ``a[j + k]``; ``overlap`` is the number of pairs,
    ``differing_bits`` the bits that differ in them, ``bit_error_rate`` their share of the
    ``32 * overlap`` bits compared.
    """

    bit_error_rate: float
    offset: int
    overlap: int
    differing_bits: int


def aligned_bit_error_rate(a: Sequence[int], b: Sequence[int], max_offset: int = 80,
                           min_overlap: int | None = None) -> Alignment:
    """The plain bit error rate of two uint32 sequences at their best offset.

    Every offset within ``max_offset`` sub-fingerprints (Chromaprint makes about 8 a
    second: 80 is about 10 s) that leaves at least ``min_overlap`` pairs (default: half
    the shorter sequence, at least 1) is tried; the lowest rate wins, ties going to the
    offset nearest 0 and then to the negative one.  No masking, no per-segment scoring:
    this is the harness's reference, not Chromaprint's matcher.
    """
    ua = [int(v) & 0xFFFFFFFF for v in a]
    ub = [int(v) & 0xFFFFFFFF for v in b]
    if not ua or not ub:
        raise AdapterError("an empty sub-fingerprint sequence has no bit error rate")
    need = max(1, min(len(ua), len(ub)) // 2) if min_overlap is None else max(1, min_overlap)
    best: Alignment | None = None
    for offset in sorted(range(-max_offset, max_offset + 1), key=lambda k: (abs(k), k)):
        start = max(0, -offset)
        stop = min(len(ub), len(ua) - offset)
        overlap = stop - start
        if overlap < need:
            continue
        differing = sum((ua[j + offset] ^ ub[j]).bit_count() for j in range(start, stop))
        rate = differing / (32 * overlap)
        if best is None or rate < best.bit_error_rate:
            best = Alignment(rate, offset, overlap, differing)
    if best is None:
        raise AdapterError(f"no offset within {max_offset} leaves {need} overlapping sub-fingerprints "
                           f"({len(ua)} and {len(ub)} given)")
    return best
