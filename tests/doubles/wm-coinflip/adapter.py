"""Test double: a watermark vendor that marks nothing and answers at random.

Its embedder returns the input unchanged; its detector's bits (multi-bit) or score
(zero-bit, config ``mode``) come from SHA-256 of the file and the key: unrelated to any
mark, yet the same answer for the same question, so the tests do not flake.  A harness
that judged detections by any "bits came back" or "score is positive" rule would let it
pass; the derived thresholds must put it at chance level.
"""

from __future__ import annotations

import hashlib
from typing import Any

from aiii_kit import Adapter, Asset
from aiii_kit.watermark import detect_report, payload_list


class Double(Adapter):
    def watermark_embed(self, asset: Asset, params: dict[str, Any]) -> Asset:
        if self.config.get("mode", "multi-bit") == "multi-bit":
            payload_list(params, int(self.config.get("payload_bits", 32)))
        return asset

    def watermark_detect(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        if self.config.get("mode", "multi-bit") == "multi-bit":
            n = int(params.get("payload_bits") or self.config.get("payload_bits", 32))
            return detect_report(bits="".join(str(b & 1) for b in _noise(asset, params, n)))
        return detect_report(score=int.from_bytes(_noise(asset, params, 4), "big") / 2**32)


def _noise(asset: Asset, params: dict[str, Any], n: int) -> bytes:
    out = b""
    while len(out) < n:
        out += hashlib.sha256(asset.data + params["key"].encode() + len(out).to_bytes(4, "big")).digest()
    return out[:n]
