"""Watermark helpers.

Payloads travel as '0'/'1' strings (most significant first); keys as strings.  Libraries
that take integer seeds or passwords get one derived from the key the same way in every
adapter, so a vendor's embedder and detector agree across placements.  The audio helpers
need numpy and soundfile (the kit's ``watermark`` extra), imported when first used;
:class:`BgrImageWatermark` needs numpy and OpenCV (``opencv-python``, which a library
that marks OpenCV's BGR arrays brings along), imported when first used.
"""

from __future__ import annotations

import hashlib
from typing import Any

from aiii_kit._core import Adapter, AdapterError, Asset, Unsupported


def key_seed(key: str, bits: int = 31) -> int:
    """A non-negative integer below ``2**bits`` derived from a watermark key (SHA-256)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % (1 << bits)


def payload_list(params: dict[str, Any], bits: int) -> list[int]:
    """The request's payload as a list of 0/1 ints, checked against the vendor's length."""
    payload = params.get("payload")
    if not isinstance(payload, str) or len(payload) != bits or set(payload) - {"0", "1"}:
        raise AdapterError(f"this vendor embeds exactly {bits} payload bits ('0'/'1'), got {payload!r}")
    return [int(c) for c in payload]


def bits_string(values: Any, threshold: float = 0.5) -> str:
    """Decoded bits (ints, bools or soft values in 0..1) as a '0'/'1' string."""
    return "".join("1" if float(v) >= threshold else "0" for v in values)


def require_key(params: dict[str, Any]) -> str:
    """The request's key (required by the protocol even where a mark is unkeyed)."""
    key = params.get("key")
    if not isinstance(key, str) or not key:
        raise AdapterError(f"key: a non-empty string is required, got {key!r}")
    return key


def read_samples(asset: Asset, min_seconds: float, who: str) -> tuple[Any, int]:
    """An audio asset as float64 samples (frames x channels) and its rate, through
    soundfile (imported here: the kit itself needs only the standard library); a file
    shorter than ``min_seconds`` is refused with a clear error naming ``who``."""
    import io

    import soundfile as sf

    try:
        samples, rate = sf.read(io.BytesIO(asset.data), dtype="float64", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise AdapterError(f"cannot read the {asset.media_type} asset: {exc}") from exc
    if len(samples) < min_seconds * rate:
        raise AdapterError(f"audio too short ({len(samples) / rate:.2f} s): {who} needs at least {min_seconds} s")
    return samples, int(rate)


def mono_mark_wav(samples: Any, mono: Any, marked: Any, rate: int, name: str = "") -> Asset:
    """A mark made on the mono mix, added to every channel of the original ``samples``
    (frames x channels), as 16-bit WAV: the input's rate, channels and length are kept
    (a model that returns a few samples fewer leaves the tail unmarked)."""
    import io

    import numpy as np
    import soundfile as sf

    mark = np.zeros_like(mono)
    n = min(len(mark), len(marked))
    mark[:n] = marked[:n] - mono[:n]
    out = io.BytesIO()
    sf.write(out, np.clip(samples + mark[:, None], -1.0, 32767 / 32768), rate, subtype="PCM_16", format="WAV")
    return Asset(out.getvalue(), "audio/wav", name)


def detect_report(present: bool | None = None, score: float | None = None, bits: str | None = None,
                  notes: list[str] | None = None) -> dict[str, Any]:
    """A watermark.detect answer (a NaN or infinite score becomes null, with a note)."""
    out_notes = list(notes or [])
    if score is not None:
        score = float(score)
        if score != score or score in (float("inf"), float("-inf")):
            out_notes.append(f"the detector's score was {score}: reported as null")
            score = None
    report: dict[str, Any] = {"present": present, "score": score, "bits": bits or None}
    if out_notes:
        report["notes"] = out_notes[:20]
    return report


class BgrImageWatermark(Adapter):
    """A blind multi-bit image watermark whose library marks and reads 8-bit BGR arrays
    (OpenCV's layout): the adapter writes :meth:`embed_bgr` and :meth:`decode_bgr`, this
    class does the rest.

    Embedding takes PNG (8-bit grey, RGB or RGBA; the alpha channel is kept as it was,
    grey comes back as RGB) and gives PNG of the same size; an image under
    ``min_pixels`` is ``unsupported``, and so is any ``strength`` (the blind detector
    could not know it).  Detection takes ``detect_types`` of any size, EXIF orientation
    applied, scaled up to ``min_pixels`` with a note when smaller, and answers the
    decoded bits only (the harness decides from them).  The key is required and unused.
    A RuntimeError or ValueError of the library is an AdapterError naming
    ``library`` and ``method``.
    """

    library = "the library"
    method = ""
    payload_bits = 32
    min_pixels = 0
    detect_types = frozenset({"image/png", "image/jpeg", "image/webp"})

    def embed_bgr(self, bgr: Any, payload: list[int]) -> Any:
        """The marked image (BGR, any numeric type: clipped to 8 bits) of ``bgr`` carrying ``payload``."""
        raise NotImplementedError

    def decode_bgr(self, bgr: Any) -> Any:
        """The ``payload_bits`` bits read from ``bgr`` (ints, bools or soft values in 0..1)."""
        raise NotImplementedError

    def prepare(self) -> None:
        """Called before each health check, embed and detect (a model to load, say)."""

    def _who(self) -> str:
        return f"{self.library} {self.method}".strip()

    def health(self) -> None:
        self.prepare()

    def watermark_embed(self, asset: Asset, params: dict[str, Any]) -> Asset:
        import cv2
        import numpy as np

        self.prepare()
        if asset.media_type != "image/png":
            raise Unsupported(f"embeds into PNG only (lossless in and out), not {asset.media_type}")
        require_key(params)
        if params.get("strength") is not None:
            raise Unsupported("no strength setting: the blind detector reads only the library's default")
        payload = payload_list(params, self.payload_bits)
        image = _decode_image(asset.data, cv2.IMREAD_UNCHANGED)
        if image.dtype != np.uint8:
            raise Unsupported(f"embeds into 8-bit images only, this PNG has {image.dtype} samples")
        height, width = image.shape[:2]
        if height * width < self.min_pixels:
            raise Unsupported(f"image too small ({width}x{height}): {self.library} needs at least {_square(self.min_pixels)} pixels")
        alpha = None
        if image.ndim == 2:
            bgr = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        elif image.shape[2] == 4:
            bgr, alpha = np.ascontiguousarray(image[:, :, :3]), image[:, :, 3]
        else:
            bgr = image
        try:
            marked = self.embed_bgr(bgr, payload)
        except (RuntimeError, ValueError) as exc:
            raise AdapterError(f"{self._who()} could not embed: {exc}") from exc
        marked = np.clip(marked, 0, 255).astype(np.uint8)
        if alpha is not None:
            marked = np.dstack([marked, alpha])
        ok, png = cv2.imencode(".png", marked)
        if not ok:
            raise AdapterError("OpenCV could not encode the marked image as PNG")
        return Asset(png.tobytes(), "image/png", asset.name)

    def watermark_detect(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        import cv2
        import numpy as np

        self.prepare()
        if asset.media_type not in self.detect_types:
            raise Unsupported(f"detects in PNG, JPEG and WebP images, not {asset.media_type}")
        require_key(params)
        bits = params.get("payload_bits", self.payload_bits)
        if bits != self.payload_bits:
            raise AdapterError(f"payload_bits: this vendor embeds exactly {self.payload_bits} bits, asked for {bits!r}")
        bgr = _decode_image(asset.data, cv2.IMREAD_COLOR)  # 8-bit BGR, EXIF orientation applied
        notes = []
        height, width = bgr.shape[:2]
        if height * width < self.min_pixels:
            scale = float(np.sqrt(self.min_pixels / (height * width)))
            size = (int(np.ceil(width * scale)), int(np.ceil(height * scale)))
            bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_CUBIC)
            notes.append(f"scaled up from {width}x{height} to {size[0]}x{size[1]}: the library needs"
                         f" {_square(self.min_pixels)} pixels")
        try:
            decoded = self.decode_bgr(bgr)
        except (RuntimeError, ValueError) as exc:
            raise AdapterError(f"{self._who()} could not decode: {exc}") from exc
        return detect_report(bits=bits_string(decoded), notes=notes)


def _square(pixels: int) -> str:
    import math

    side = math.isqrt(pixels)
    return f"{side}x{side}" if side * side == pixels else f"{pixels}"


def _decode_image(data: bytes, flags: int) -> Any:
    import cv2
    import numpy as np

    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flags)
    if image is None:
        raise AdapterError("OpenCV could not decode the image")
    return image
