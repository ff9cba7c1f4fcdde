"""voicesign (keyed zero-bit spread spectrum in the 2-6 kHz band) behind the adapter kit.

Powered by VoiceSign -- part of the Oravys Operating System (https://oravys.com); the
library is source-available under BUSL-1.1 (its NOTICE asks for this attribution).
"""

from __future__ import annotations

import io
from typing import Any

from aiii_kit import Adapter, AdapterError, Asset, Unsupported
from aiii_kit.watermark import detect_report

#: The salt half of voicesign's legacy seed (identity + salt); the key is the identity.
SALT = "aiii-interop"


def _wav(asset: Asset) -> tuple[bytes, int, int]:
    """The asset as 16-bit WAV bytes (voicesign reads WAV only without ffmpeg), its
    sample rate and its channel count."""
    import soundfile as sf

    if not asset.media_type.startswith("audio/"):
        raise Unsupported(f"voicesign marks audio, not {asset.media_type}")
    try:
        samples, rate = sf.read(io.BytesIO(asset.data), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise AdapterError(f"not readable audio: {exc}") from exc
    out = io.BytesIO()
    sf.write(out, samples, rate, format="WAV", subtype="PCM_16")
    return out.getvalue(), int(rate), int(samples.shape[1])


class VoicesignAdapter(Adapter):
    def watermark_embed(self, asset: Asset, params: dict[str, Any]) -> Asset:
        import voicesign

        data, _rate, channels = _wav(asset)
        if channels != 1:
            raise Unsupported(f"voicesign writes mono WAV; this asset has {channels} channels")
        try:
            return Asset(voicesign.sign(data, identity=params["key"], salt=SALT), "audio/wav")
        except ValueError as exc:  # too short, sample rate too low, too large
            raise AdapterError(f"voicesign refused the audio: {exc}") from exc

    def watermark_detect(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        import voicesign

        data, _rate, _channels = _wav(asset)
        try:
            found = voicesign.verify(data, identity=params["key"], salt=SALT)
        except ValueError as exc:
            raise AdapterError(f"voicesign could not verify: {exc}") from exc
        notes = [f"confidence {found.get('confidence')}, sync_aligned {found.get('sync_aligned')}"]
        return detect_report(present=bool(found["detected"]), score=float(found["correlation"]), notes=notes)
