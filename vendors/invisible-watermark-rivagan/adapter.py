"""invisible-watermark (``imwatermark``), method rivaGan: a blind, unkeyed 32-bit image watermark.

RivaGAN's attention-based encoder and decoder networks, ONNX models shipped
in the wheel and run with onnxruntime, loaded before each call (once, in fact).

Only the library's calls for this method are here (each sibling vendor has its own, so
a folder stands alone); the rest is the kit's :class:`aiii_kit.watermark.BgrImageWatermark`.
"""

from __future__ import annotations

from typing import Any

from aiii_kit.watermark import BgrImageWatermark
from imwatermark import WatermarkDecoder, WatermarkEncoder


class InvisibleWatermarkAdapter(BgrImageWatermark):
    library = "invisible-watermark"
    method = "rivaGan"
    payload_bits = 32  # rivaGan's only length; the DCT methods use the same for comparability
    min_pixels = 256 * 256  # the library refuses images with fewer pixels

    def prepare(self) -> None:
        WatermarkEncoder.loadModel()  # the ONNX encoder and decoder shipped in the wheel, loaded once

    def embed_bgr(self, bgr: Any, payload: list[int]) -> Any:
        encoder = WatermarkEncoder()
        encoder.set_watermark("bits", payload)
        return encoder.encode(bgr, self.method)

    def decode_bgr(self, bgr: Any) -> Any:
        return WatermarkDecoder("bits", self.payload_bits).decode(bgr, self.method)
