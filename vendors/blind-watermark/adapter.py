"""blind-watermark (DWT-DCT-SVD, multi-bit, keyed) behind the adapter kit."""

from __future__ import annotations

import io
from typing import Any

from aiii_kit import Adapter, AdapterError, Asset, Unsupported
from aiii_kit.watermark import bits_string, detect_report, key_seed, payload_list


def _library() -> Any:
    try:
        import blind_watermark
    except RuntimeError as exc:
        # Its pool module calls multiprocessing.set_start_method('fork') at import, which
        # fails when the host process chose a start method first.
        raise AdapterError(f"blind-watermark cannot be imported in this process: {exc}") from exc
    blind_watermark.bw_notes.close()  # it prints a welcome banner on stdout otherwise
    return blind_watermark


def _pixels(asset: Asset) -> Any:
    """The asset as an 8-bit BGR array (the library's OpenCV order)."""
    import numpy as np
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not asset.media_type.startswith("image/"):
        raise Unsupported(f"blind-watermark marks images, not {asset.media_type}")
    try:
        with Image.open(io.BytesIO(asset.data)) as opened:
            rgb = ImageOps.exif_transpose(opened).convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        raise AdapterError(f"not a readable image: {exc}") from exc
    return np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1])


class BlindWatermarkAdapter(Adapter):
    def _keys(self, params: dict[str, Any]) -> tuple[int, int]:
        # Two passwords: one shuffles the image blocks, one the payload bits.
        return key_seed(params["key"] + "/img"), key_seed(params["key"] + "/wm")

    def _bits(self) -> int:
        return int(self.config.get("payload_bits", 32))

    def watermark_embed(self, asset: Asset, params: dict[str, Any]) -> Asset:
        import numpy as np
        from PIL import Image

        bits = payload_list(params, self._bits())
        lib = _library()
        password_img, password_wm = self._keys(params)
        img = _pixels(asset)
        marker = lib.WaterMark(password_img=password_img, password_wm=password_wm)
        marker.read_img(img=img)
        marker.read_wm([bool(b) for b in bits], mode="bit")
        try:
            marked = marker.embed()
        except (AssertionError, ValueError) as exc:  # e.g. an image too small for the payload
            raise AdapterError(f"blind-watermark could not embed {len(bits)} bits: {exc}") from exc
        rgb = np.clip(np.rint(marked), 0, 255).astype(np.uint8)[:, :, ::-1]
        out = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(rgb)).save(out, format="PNG")
        return Asset(out.getvalue(), "image/png")

    def watermark_detect(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        lib = _library()
        n = int(params.get("payload_bits") or self._bits())
        password_img, password_wm = self._keys(params)
        img = _pixels(asset)
        reader = lib.WaterMark(password_img=password_img, password_wm=password_wm)
        try:
            soft = reader.extract(embed_img=img, wm_shape=n, mode="bit")
        except (AssertionError, ValueError, IndexError) as exc:
            raise AdapterError(f"blind-watermark could not extract {n} bits: {exc}") from exc
        return detect_report(bits=bits_string(soft))
