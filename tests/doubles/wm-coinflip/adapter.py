"""Test double: a watermark vendor that marks nothing and answers at random.

Its embedder returns the input unchanged; its detector draws the bits (multi-bit) or a
score (zero-bit, config ``mode``) from the operating system's random source.  A harness
that judged detections by any "bits came back" or "score is positive" rule would let it
pass; the derived thresholds must put it at chance level.
"""

from __future__ import annotations

import os
from typing import Any

from runner.adapter import Adapter, Asset, detect_report, payload_list


class Double(Adapter):
    def watermark_embed(self, asset: Asset, params: dict[str, Any]) -> Asset:
        if self.config.get("mode", "multi-bit") == "multi-bit":
            payload_list(params, int(self.config.get("payload_bits", 32)))
        return asset

    def watermark_detect(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        if self.config.get("mode", "multi-bit") == "multi-bit":
            n = int(params.get("payload_bits") or self.config.get("payload_bits", 32))
            noise = os.urandom(n)
            return detect_report(bits="".join(str(b & 1) for b in noise))
        return detect_report(score=int.from_bytes(os.urandom(4), "big") / 2**32)
