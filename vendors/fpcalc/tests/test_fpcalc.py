"""fpcalc alone: Chromaprint's raw fingerprint of the catalogue's clips in the protocol's
uint32be encoding, fpcalc's exit status 3 at the end of a file, and how far an MP3 or a
different recording lands by the kit's aligned bit error rate."""

from __future__ import annotations

import io
import json
import subprocess
from typing import Any

import pytest
import soundfile as sf
from aiii_kit import Adapter, AdapterError, Asset, Unsupported
from aiii_kit.recognition import aligned_bit_error_rate, hex_to_uint32
from helpers import ROOT

from runner.derive import derive_bytes
from runner.schema import first_error
from runner.transports.inproc import load_adapter_class
from runner.vendors import load_manifest

pytestmark = pytest.mark.debian  # Debian's fpcalc (libchromaprint-tools)

AUDIO = ROOT / "test_vectors" / "audio"
CLIP = "brahms-hungarian-dance-5"


@pytest.fixture(scope="module")
def adapter() -> Adapter:
    manifest = load_manifest(ROOT / "vendors" / "fpcalc" / "vendor.toml")
    found = load_adapter_class(manifest)(config=dict(manifest.config))
    found.health()
    return found


def clip(name: str, media_type: str) -> Asset:
    source = AUDIO / f"{name}.ogg"
    data = source.read_bytes() if media_type == "audio/ogg" else derive_bytes(source, "audio/ogg", media_type)
    return Asset(data, media_type)


def compute(adapter: Adapter, asset: Asset) -> dict[str, Any]:
    answer = adapter.call("fingerprint.compute", asset, {"algorithm": "chromaprint"})
    assert isinstance(answer, dict)
    assert first_error("aiii:protocol/v1/fingerprint.compute.result", answer) is None, answer
    return answer


def test_a_wav_gives_the_raw_fingerprint_and_its_duration(adapter: Adapter) -> None:
    wav = clip(CLIP, "audio/wav")
    got = compute(adapter, wav)
    seconds = sf.info(io.BytesIO(wav.data)).duration
    assert (got["encoding"], got["algorithm_version"]) == ("uint32be", "2")
    assert got["duration_s"] == pytest.approx(seconds, abs=0.05)  # 45.84 s
    words = hex_to_uint32(got["fingerprint_hex"])
    assert got["bits"] == 32 * len(words) and len(words) == pytest.approx(seconds * 7.8, rel=0.1)  # as found: 349
    # exit status 3 at the end of the WAV, reported, not an error
    assert any("exited 3" in note for note in got["notes"]), got["notes"]
    # the words are fpcalc's own, unsigned and big-endian
    assert adapter.implementation_version() == "1.5.1"
    direct = subprocess.run(["fpcalc", "-raw", "-json", "-length", "0", "-"], input=wav.data, capture_output=True,
                            timeout=60, check=False)
    assert words == json.loads(direct.stdout)["fingerprint"]


def test_copies_align_near_and_another_recording_is_far(adapter: Adapter) -> None:
    reference = hex_to_uint32(compute(adapter, clip(CLIP, "audio/wav"))["fingerprint_hex"])
    flac = aligned_bit_error_rate(reference, hex_to_uint32(compute(adapter, clip(CLIP, "audio/flac"))["fingerprint_hex"]))
    assert (flac.bit_error_rate, flac.offset) == (0.0, 0)  # lossless: the same words
    mp3 = aligned_bit_error_rate(reference, hex_to_uint32(compute(adapter, clip(CLIP, "audio/mpeg"))["fingerprint_hex"]))
    assert mp3.offset == 0 and mp3.bit_error_rate < 0.05, mp3  # as found: 0.9 % at 128k
    other = hex_to_uint32(compute(adapter, clip("macleod-vibe-ace", "audio/ogg"))["fingerprint_hex"])
    assert aligned_bit_error_rate(reference, other).bit_error_rate > 0.35  # as found: 0.48


def test_refusals_are_clean(adapter: Adapter) -> None:
    with pytest.raises(Unsupported, match="not phash"):
        adapter.call("fingerprint.compute", clip(CLIP, "audio/ogg"), {"algorithm": "phash"})
    with pytest.raises(Unsupported, match="not image/png"):
        adapter.call("fingerprint.compute", Asset(b"\x89PNG", "image/png"), {"algorithm": "chromaprint"})
    with pytest.raises(AdapterError, match="without a fingerprint"):
        compute(adapter, Asset(b"RIFF junk that is not a wave file" * 4, "audio/wav"))
