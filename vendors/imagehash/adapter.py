"""imagehash 4.3.2, the Python perceptual hash family, behind the adapter kit.

Images are opened with Pillow and handed to imagehash as they are, the way its users
call it (``imagehash.phash(Image.open(path))``): no EXIF orientation, alpha dropped by
its own grey conversion.  A hash's bits are its array flattened row by row, first cell
first: the hex imagehash prints (``str(hash)``), zero-padded at the front to whole bytes.
"""

from __future__ import annotations

import io
import math
from typing import Any

import imagehash
import numpy
from aiii_kit import Adapter, AdapterError, Asset, Unsupported
from aiii_kit.recognition import bits_to_hex, hex_to_bits
from PIL import Image, UnidentifiedImageError

GRID = {"ahash": imagehash.average_hash, "phash": imagehash.phash, "dhash": imagehash.dhash, "whash": imagehash.whash}
ALGORITHMS = (*GRID, "colorhash")


class ImagehashAdapter(Adapter):
    @property
    def _binbits(self) -> int:
        return int(self.config.get("colorhash_binbits", 3))

    def fingerprint_compute(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        algorithm = _algorithm(params)
        if not asset.media_type.startswith("image/"):
            raise Unsupported(f"imagehash hashes images, not {asset.media_type}")
        notes: list[str] = []
        try:
            with Image.open(io.BytesIO(asset.data)) as img:
                img.load()
                if algorithm == "colorhash":
                    if "hash_size" in params:
                        notes.append(f"colorhash has no grid: hash_size {params['hash_size']} ignored, binbits {self._binbits}")
                    found = imagehash.colorhash(img, binbits=self._binbits)
                else:
                    size = int(params.get("hash_size", 8))
                    found = GRID[algorithm](img, hash_size=size)
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
            raise AdapterError(f"cannot decode the {asset.media_type} asset: {exc}") from exc
        except (AssertionError, ValueError) as exc:  # whash: hash_size a power of 2, no larger than the image
            raise Unsupported(f"imagehash {algorithm} refuses these parameters: {exc or 'assertion failed'}") from exc
        flat = [bool(b) for b in found.hash.flatten()]
        return {"algorithm": algorithm, "algorithm_version": imagehash.__version__, "encoding": "bits",
                "fingerprint_hex": bits_to_hex(flat), "bits": len(flat), "notes": notes}

    def fingerprint_compare(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        """imagehash's own distance: ``hash_a - hash_b``, the Hamming distance of two hashes
        of one shape (it makes no match decision)."""
        algorithm = _algorithm(params)
        a, b = (self._hash(algorithm, params[side]) for side in ("a", "b"))
        try:
            distance = a - b
        except TypeError as exc:  # imagehash: "ImageHashes must be of the same shape."
            raise AdapterError(f"imagehash cannot compare these two {algorithm} hashes: {exc}") from exc
        return {"algorithm": algorithm, "distance": int(distance), "distance_kind": "hamming", "score": None,
                "offset": None, "match": None}

    def _hash(self, algorithm: str, fingerprint: dict[str, Any]) -> imagehash.ImageHash:
        """An ``ImageHash`` of the shape ``algorithm`` makes from a ``bits`` fingerprint."""
        if fingerprint["encoding"] != "bits":
            raise AdapterError(f"imagehash hashes are bit strings, not {fingerprint['encoding']}")
        nbytes = len(fingerprint["fingerprint_hex"]) // 2
        if algorithm == "colorhash":
            bits = 14 * self._binbits
            if (bits + 7) // 8 != nbytes:
                raise AdapterError(f"a colorhash of binbits {self._binbits} has {bits} bits, not {nbytes} bytes")
            return imagehash.ImageHash(numpy.array([c == "1" for c in hex_to_bits(fingerprint["fingerprint_hex"], bits)]))
        # The largest square grid the bytes hold (9 and 16 bits both fill 2 bytes: the
        # padding is zero either way, so the distance is the same).
        side = math.isqrt(nbytes * 8)
        if side < 2 or (side * side + 7) // 8 != nbytes:
            raise AdapterError(f"{nbytes} bytes is not the length of any {algorithm} hash (a square grid of bits)")
        text = hex_to_bits(fingerprint["fingerprint_hex"], side * side)
        return imagehash.ImageHash(numpy.array([c == "1" for c in text]).reshape(side, side))


def _algorithm(params: dict[str, Any]) -> str:
    algorithm = str(params["algorithm"])
    if algorithm not in ALGORITHMS:
        raise Unsupported(f"imagehash has no {algorithm}")
    return algorithm
