"""pdqhash 0.2.8, Meta's PDQ reference C++ bound for Python, behind the adapter kit.

Pillow decodes the image to 8-bit RGB (no EXIF orientation, alpha dropped, as Meta's own
hasher reads files); pdqhash makes the luma and the 256-bit hash of the whole image.  Its
bit vector comes most significant bit first, so its hex is Meta's: the 16 16-bit words,
the last first (``Hash256::format``).
"""

from __future__ import annotations

import io
from typing import Any

import numpy
import pdqhash
from aiii_kit import Adapter, AdapterError, Asset, Unsupported
from aiii_kit.recognition import bits_to_hex, hamming_distance
from PIL import Image, UnidentifiedImageError

BITS = 256


class PdqhashAdapter(Adapter):
    def fingerprint_compute(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        _algorithm(params)
        if not asset.media_type.startswith("image/"):
            raise Unsupported(f"PDQ hashes images, not {asset.media_type}")
        try:
            with Image.open(io.BytesIO(asset.data)) as img:
                pixels = numpy.asarray(img.convert("RGB"), dtype=numpy.uint8)
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
            raise AdapterError(f"cannot decode the {asset.media_type} asset: {exc}") from exc
        vector, quality = pdqhash.compute(numpy.ascontiguousarray(pixels))
        notes = ["hash_size does not apply: PDQ is 256 bits"] if "hash_size" in params else []
        return {"algorithm": "pdq", "algorithm_version": f"pdqhash {pdqhash.__version__}", "encoding": "bits",
                "fingerprint_hex": bits_to_hex(int(b) for b in vector), "bits": BITS,
                "quality": int(quality), "quality_scale": {"min": 0, "max": 100}, "notes": notes}

    def fingerprint_compare(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        """pdqhash has no comparison: the Hamming distance of the 256 bits (the kit's), and
        no match decision (Meta's threshold is the user's choice)."""
        _algorithm(params)
        a, b = params["a"], params["b"]
        for side in (a, b):
            if side["encoding"] != "bits" or len(side["fingerprint_hex"]) != BITS // 4:
                raise AdapterError(f"a PDQ hash is {BITS} bits ({BITS // 4} hex digits), "
                                   f"not {side['encoding']} of {len(side['fingerprint_hex'])} digits")
        return {"algorithm": "pdq", "distance": hamming_distance(a["fingerprint_hex"], b["fingerprint_hex"]),
                "distance_kind": "hamming", "score": None, "offset": None, "match": None,
                "notes": ["pdqhash has no comparison function: the distance is the adapter kit's Hamming distance"]}


def _algorithm(params: dict[str, Any]) -> None:
    if params["algorithm"] != "pdq":
        raise Unsupported(f"pdqhash makes PDQ hashes, not {params['algorithm']}")
