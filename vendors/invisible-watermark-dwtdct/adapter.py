"""invisible-watermark (``imwatermark``): blind 32-bit image watermarks, three algorithms.

One adapter serves three vendors: ``[adapter.config] algorithm`` picks the library's
method (``dwtDct``, ``dwtDctSvd`` or ``rivaGan``), and the manifests of
``invisible-watermark-dwtdctsvd`` and ``invisible-watermark-rivagan`` point their entry
at this file.  None of the algorithms takes a key, and none says "watermark present":
detection answers the decoded bits and the harness decides from them.

Images go in and out through OpenCV (the library works on BGR arrays): PNG in, PNG out
of the same size, an alpha channel kept as it was.  Detection takes PNG, JPEG or WebP of
any size; the library needs at least 256x256 pixels in all, so a smaller image is scaled
up for detection (with a note) and refused for embedding.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from aiii_kit import Adapter, AdapterError, Asset, Unsupported
from aiii_kit.watermark import bits_string, detect_report, payload_list
from imwatermark import WatermarkDecoder, WatermarkEncoder

ALGORITHMS = ("dwtDct", "dwtDctSvd", "rivaGan")
PAYLOAD_BITS = 32  # rivaGan's only length; the DCT methods use the same for comparability
MIN_PIXELS = 256 * 256  # the library refuses images with fewer pixels
DETECT_TYPES = frozenset({"image/png", "image/jpeg", "image/webp"})


class InvisibleWatermarkAdapter(Adapter):
    def health(self) -> None:
        self._algorithm()

    def _algorithm(self) -> str:
        name = self.config.get("algorithm")
        if name not in ALGORITHMS:
            raise AdapterError(f"[adapter.config] algorithm must be one of {', '.join(ALGORITHMS)}, got {name!r}")
        if name == "rivaGan":
            WatermarkEncoder.loadModel()  # the ONNX encoder and decoder shipped in the wheel, loaded once
        return str(name)

    def watermark_embed(self, asset: Asset, params: dict[str, Any]) -> Asset:
        algorithm = self._algorithm()
        if asset.media_type != "image/png":
            raise Unsupported(f"embeds into PNG only (lossless in and out), not {asset.media_type}")
        _key(params)
        if params.get("strength") is not None:
            # The DCT methods' strength is a quantisation step the blind detector must know;
            # the protocol's detect carries no strength, so only the library default is offered.
            raise Unsupported("no strength setting: the blind detector reads only the library's default")
        payload = payload_list(params, PAYLOAD_BITS)
        image = _decode(asset.data, cv2.IMREAD_UNCHANGED)
        if image.dtype != np.uint8:
            raise Unsupported(f"embeds into 8-bit images only, this PNG has {image.dtype} samples")
        height, width = image.shape[:2]
        if height * width < MIN_PIXELS:
            raise Unsupported(f"image too small ({width}x{height}): invisible-watermark needs at least 256x256 pixels")
        alpha = None
        if image.ndim == 2:
            bgr = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        elif image.shape[2] == 4:
            bgr, alpha = np.ascontiguousarray(image[:, :, :3]), image[:, :, 3]
        else:
            bgr = image
        encoder = WatermarkEncoder()
        encoder.set_watermark("bits", payload)
        try:
            marked = encoder.encode(bgr, algorithm)
        except (RuntimeError, ValueError) as exc:
            raise AdapterError(f"invisible-watermark {algorithm} could not embed: {exc}") from exc
        marked = np.clip(marked, 0, 255).astype(np.uint8)
        if alpha is not None:
            marked = np.dstack([marked, alpha])
        ok, png = cv2.imencode(".png", marked)
        if not ok:
            raise AdapterError("OpenCV could not encode the marked image as PNG")
        return Asset(png.tobytes(), "image/png", asset.name)

    def watermark_detect(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        algorithm = self._algorithm()
        if asset.media_type not in DETECT_TYPES:
            raise Unsupported(f"detects in PNG, JPEG and WebP images, not {asset.media_type}")
        _key(params)
        bits = params.get("payload_bits", PAYLOAD_BITS)
        if bits != PAYLOAD_BITS:
            raise AdapterError(f"payload_bits: this vendor embeds exactly {PAYLOAD_BITS} bits, asked for {bits!r}")
        bgr = _decode(asset.data, cv2.IMREAD_COLOR)  # 8-bit BGR, EXIF orientation applied
        notes = []
        height, width = bgr.shape[:2]
        if height * width < MIN_PIXELS:
            scale = float(np.sqrt(MIN_PIXELS / (height * width)))
            size = (int(np.ceil(width * scale)), int(np.ceil(height * scale)))
            bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_CUBIC)
            notes.append(f"scaled up from {width}x{height} to {size[0]}x{size[1]}: the library needs 256x256 pixels")
        try:
            decoded = WatermarkDecoder("bits", PAYLOAD_BITS).decode(bgr, algorithm)
        except (RuntimeError, ValueError) as exc:
            raise AdapterError(f"invisible-watermark {algorithm} could not decode: {exc}") from exc
        return detect_report(bits=bits_string(decoded), notes=notes)


def _key(params: dict[str, Any]) -> None:
    # Unkeyed algorithms: the key is required by the protocol and checked, then unused.
    key = params.get("key")
    if not isinstance(key, str) or not key:
        raise AdapterError(f"key: a non-empty string is required, got {key!r}")


def _decode(data: bytes, flags: int) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flags)
    if image is None:
        raise AdapterError("OpenCV could not decode the image")
    return image
