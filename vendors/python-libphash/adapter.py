"""python-libphash 2.0.2.0 (the libphash C library) behind the adapter kit.

An independent implementation of the imagehash family: the file's bytes go to libphash,
which decodes them itself (libjpeg-turbo, libpng, libwebp linked into the wheel) and
applies the EXIF orientation by default.  Its 64-bit hashes are mapped to imagehash's
bit layout (first grid cell first): aHash and dHash already have it; pHash and wHash
come with the first cell in the least significant bit, so their bits are reversed.  Its
``color_hash`` is a 108-byte HSV histogram compared by histogram intersection, not
imagehash's 42-bit colour hash: it is not offered as ``colorhash``.
"""

from __future__ import annotations

from typing import Any

import libphash
from aiii_kit import Adapter, AdapterError, Asset, Unsupported
from aiii_kit.recognition import bits_to_hex, hex_to_bits

ALGORITHMS = ("ahash", "phash", "dhash", "whash")
#: The algorithms whose 64-bit value has the first grid cell in bit 0.
LSB_FIRST = frozenset({"phash", "whash"})
MEDIA_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
COLOUR_HASH = ("libphash 2.0.2's color_hash is a 108-byte HSV histogram compared by histogram intersection, "
               "not imagehash's 42-bit colour hash (python-libphash 1.x documented a packed imagehash-compatible one)")


class LibphashAdapter(Adapter):
    def fingerprint_compute(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        algorithm = _algorithm(params)
        if asset.media_type not in MEDIA_TYPES:
            raise Unsupported(f"libphash decodes JPEG, PNG and WebP, not {asset.media_type}")
        size = int(params.get("hash_size", 8))
        if size != 8 and not (algorithm == "phash" and 4 <= size <= 8):
            raise Unsupported(f"libphash's {algorithm} has 64 bits (hash_size 8) only" if algorithm != "phash"
                              else f"libphash's pHash takes hash_size 4 to 8, not {size}")
        # pHash: imagehash's DCT is of the image at 4x the hash's side (highfreq_factor 4).
        config = libphash.Config(phash_reduction_size=size, phash_dct_size=4 * size,
                                 whash_mode=self.config.get("whash_mode", "full"),
                                 whash_remove_max_haar_ll=bool(self.config.get("whash_remove_max_haar_ll", True)))
        try:
            value = libphash.hash(asset.data, algorithm, config=config)
        except libphash.DecodeError as exc:
            raise AdapterError(f"libphash cannot decode the {asset.media_type} asset: {exc}") from exc
        except libphash.PhashError as exc:
            raise AdapterError(f"libphash {algorithm} failed: {exc}") from exc
        bits = size * size
        text = f"{value:0{bits}b}"
        notes = []
        if algorithm in LSB_FIRST:
            text = text[::-1]
            notes.append(f"libphash gives {algorithm} with the first grid cell in the least significant bit: "
                         "bits reversed to imagehash's order")
        return {"algorithm": algorithm, "algorithm_version": f"libphash {libphash.libphash_version()}",
                "encoding": "bits", "fingerprint_hex": bits_to_hex(text), "bits": bits, "notes": notes}

    def fingerprint_compare(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        """libphash's own ``hamming_distance`` of two hashes of equal length (it makes no
        match decision)."""
        algorithm = _algorithm(params)
        a, b = (_value(params[side]) for side in ("a", "b"))
        if a[1] != b[1]:
            raise AdapterError(f"hashes of {a[1]} and {b[1]} bits have no Hamming distance")
        try:
            distance = libphash.hamming_distance(a[0], b[0])
        except libphash.PhashError as exc:
            raise AdapterError(f"libphash refuses to compare them: {exc}") from exc
        return {"algorithm": algorithm, "distance": distance, "distance_kind": "hamming", "score": None,
                "offset": None, "match": None}


def _algorithm(params: dict[str, Any]) -> str:
    algorithm = str(params["algorithm"])
    if algorithm == "colorhash":
        raise Unsupported(COLOUR_HASH)
    if algorithm not in ALGORITHMS:
        raise Unsupported(f"libphash has no {algorithm}")
    return algorithm


def _value(fingerprint: dict[str, Any]) -> tuple[int, int]:
    """A ``bits`` fingerprint as the integer libphash compares, and its length in bits.

    libphash compares 64-bit integers; a pHash of hash_size 4 to 7 (16 to 49 bits) fits in
    one.  The bit order does not change a Hamming distance, so none is undone here.
    """
    if fingerprint["encoding"] != "bits":
        raise AdapterError(f"libphash hashes are bit strings, not {fingerprint['encoding']}")
    nbytes = len(fingerprint["fingerprint_hex"]) // 2
    sizes = [n * n for n in range(4, 9) if (n * n + 7) // 8 == nbytes]
    if not sizes:
        raise AdapterError(f"{nbytes} bytes is not the length of a libphash hash (16 to 64 bits, a square)")
    return int(hex_to_bits(fingerprint["fingerprint_hex"], sizes[-1]), 2), sizes[-1]
