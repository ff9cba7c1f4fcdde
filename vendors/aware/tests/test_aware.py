"""aware's 20-bit speech watermark at 16 kHz, served from the torch environment like ``aiii run`` serves it."""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import pytest
import soundfile as sf
from aiii_kit import AdapterError, Asset, Unsupported
from torch_vendors import PAYLOAD_20, PAYLOAD_32, correct, min_correct, png_asset, resampled, served, wav_asset

from runner.transports import Transport

pytestmark = pytest.mark.torch  # served from the torch process environment (built on first use, minutes)


@pytest.fixture(scope="module")
def aware() -> Iterator[Transport]:
    with served("aware") as started:
        yield started["aware"]


def test_aware_recovers_its_20_bits_at_16k_and_after_resampling(aware: Transport) -> None:
    transport = aware
    clean = wav_asset("librispeech-198-209-0000", 16000, 5)  # embedding: about 3-6 s per second of audio
    marked = transport.call("watermark.embed", clean, {"key": "k", "payload": PAYLOAD_20}, 600)
    assert isinstance(marked, Asset)
    before, after = sf.info(io.BytesIO(clean.data)), sf.info(io.BytesIO(marked.data))
    assert (after.samplerate, after.channels, after.frames, after.subtype) == (16000, 1, before.frames, "PCM_16")
    need = min_correct(20)  # 18 of 20
    found = transport.call("watermark.detect", marked, {"key": "k", "payload_bits": 20}, 120)
    assert isinstance(found, dict) and correct(found["bits"], PAYLOAD_20) >= need and found["score"] > 0.5
    unmarked = transport.call("watermark.detect", clean, {"key": "k", "payload_bits": 20}, 120)
    assert isinstance(unmarked, dict) and correct(unmarked["bits"], PAYLOAD_20) < need
    # another rate: the detector resamples to 16 kHz itself and says so
    found = transport.call("watermark.detect", resampled(marked, 22050), {"key": "k", "payload_bits": 20}, 120)
    assert isinstance(found, dict) and correct(found["bits"], PAYLOAD_20) >= need
    assert found["notes"] == ["resampled from 22050 Hz to 16000 Hz for the detector"]


def test_aware_names_what_it_refuses(aware: Transport) -> None:
    transport = aware
    speech = wav_asset("librispeech-198-209-0000", 16000, 2)
    with pytest.raises(AdapterError, match="exactly 20 payload bits"):
        transport.call("watermark.embed", speech, {"key": "k", "payload": PAYLOAD_32}, 60)
    with pytest.raises(AdapterError, match="key: a non-empty string"):
        transport.call("watermark.embed", speech, {"key": "", "payload": PAYLOAD_20}, 60)
    with pytest.raises(Unsupported, match="16000 Hz only"):
        transport.call("watermark.embed", wav_asset("librispeech-198-209-0000", 22050, 2), {"key": "k", "payload": PAYLOAD_20}, 60)
    silence = io.BytesIO()
    sf.write(silence, np.zeros(32000), 16000, subtype="PCM_16", format="WAV")
    with pytest.raises(AdapterError, match="speach|speech"):
        transport.call("watermark.embed", Asset(silence.getvalue(), "audio/wav"), {"key": "k", "payload": PAYLOAD_20}, 60)
    with pytest.raises(AdapterError, match="payload_bits"):
        transport.call("watermark.detect", speech, {"key": "k", "payload_bits": 32}, 60)
    with pytest.raises(Unsupported, match="WAV only"):
        transport.call("watermark.embed", png_asset("kodim12"), {"key": "k", "payload": PAYLOAD_20}, 60)
