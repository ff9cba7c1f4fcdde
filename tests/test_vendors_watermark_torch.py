"""The torch-based watermark reference vendors through the real process placement.

invisible-watermark (dwtDct, dwtDctSvd, rivaGan), resemble-perth and aware share one
virtual environment, built from PyPI on first use (about 90 s with a fast mirror, 5.4 GB)
and kept in the harness's state folder like a user's run keeps it, so a second session
reuses it.  Each vendor's adapter is served from that environment over a unix socket,
exactly as ``aiii run`` serves it.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from math import comb
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from aiii_kit import AdapterError, Asset, Unsupported
from helpers import ROOT
from PIL import Image
from scipy.signal import resample_poly

from runner.paths import state_dir
from runner.transports import Transport, make_transport
from runner.transports.process import _run, venv_python
from runner.vendors import load_vendors

#: Every test here runs the torch process environment (built on first use, minutes).
pytestmark = [pytest.mark.torch, pytest.mark.slow]
KODAK = ROOT / "test_vectors" / "images" / "kodak"
AUDIO = ROOT / "test_vectors" / "audio"
TORCH_VENDORS = ("invisible-watermark-dwtdct", "invisible-watermark-dwtdctsvd", "invisible-watermark-rivagan",
                 "resemble-perth", "aware")
IMAGE_VENDORS = TORCH_VENDORS[:3]
PAYLOAD_32 = "10110010111000011010010110001101"
PAYLOAD_20 = "10110010111000011010"


def min_correct(n: int, fpr: float = 1e-3) -> int:
    """Fewest right bits out of n that chance reaches with probability at most ``fpr``."""
    k = n
    while k > 0 and sum(comb(n, i) for i in range(k - 1, n + 1)) / 2**n <= fpr:
        k -= 1
    return k


def correct(bits: str | None, payload: str) -> int:
    assert bits is not None and len(bits) == len(payload)
    return sum(a == b for a, b in zip(bits, payload, strict=True))


@pytest.fixture(scope="module")
def vendors() -> Iterator[dict[str, Transport]]:
    manifests = load_vendors(ROOT / "vendors")
    started: dict[str, Transport] = {}
    log_dir = state_dir() / "logs" / "tests-watermark-torch"
    try:
        for vid in TORCH_VENDORS:
            transport = make_transport(manifests[vid], None, log_dir)
            transport.start()
            started[vid] = transport
        yield started
    finally:
        for transport in started.values():
            transport.close()


def png_asset(name: str) -> Asset:
    return Asset((KODAK / f"{name}.png").read_bytes(), "image/png", f"{name}.png")


def image_of(asset: Asset) -> Image.Image:
    return Image.open(io.BytesIO(asset.data))


def wav_asset(name: str, rate: int, seconds: float, channels: int = 1) -> Asset:
    """An excerpt of an OGG vector as WAV PCM16 at ``rate`` (the vectors are 22050 Hz mono)."""
    samples, native = sf.read(AUDIO / f"{name}.ogg", dtype="float64")
    samples = samples[: int(native * seconds)]
    if rate != native:
        samples = resample_poly(samples, rate, native)
    if channels == 2:
        samples = np.stack([samples, 0.5 * samples], axis=1)
    out = io.BytesIO()
    sf.write(out, samples, rate, subtype="PCM_16", format="WAV")
    return Asset(out.getvalue(), "audio/wav", f"{name}.wav")


def resampled(asset: Asset, rate: int) -> Asset:
    samples, native = sf.read(io.BytesIO(asset.data), dtype="float64")
    out = io.BytesIO()
    sf.write(out, resample_poly(samples, rate, native), rate, subtype="PCM_16", format="WAV")
    return Asset(out.getvalue(), "audio/wav")


def test_the_torch_vendors_share_one_environment_and_the_default_install_stays_light() -> None:
    manifests = load_vendors(ROOT / "vendors")
    envs = {(tuple(sorted(manifests[v].process["requirements"])), tuple(manifests[v].process.get("no_deps", [])))
            for v in TORCH_VENDORS}
    assert len(envs) == 1, "the torch vendors' [process] requirements differ: each would build its own 5 GB environment"
    assert all(manifests[v].placement == "process" and not manifests[v].default for v in TORCH_VENDORS)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    everything = " ".join(project["dependencies"] + [d for ds in project["optional-dependencies"].values() for d in ds])
    assert not any(name in everything for name in ("torch", "onnxruntime", "invisible-watermark", "perth", "aware"))


def test_a_build_steps_output_reaches_the_user_line_by_line() -> None:
    shown = io.StringIO()
    _run([sys.executable, "-c", "print('Collecting torch'); print('Downloading torch (530 MB)')"], "pip install", shown)
    assert shown.getvalue().splitlines() == ["  | Collecting torch", "  | Downloading torch (530 MB)"]
    with pytest.raises(Exception, match=r"pip install failed: .*No matching distribution"):
        _run([sys.executable, "-c", "import sys; print('ERROR: No matching distribution'); sys.exit(1)"], "pip install")


@pytest.mark.parametrize("vid", IMAGE_VENDORS)
def test_image_vendor_embeds_a_payload_its_detector_recovers(vendors: dict[str, Transport], vid: str) -> None:
    transport = vendors[vid]
    clean = png_asset("kodim03")  # dwtDct decodes at chance on some photos even unchanged (README); not on this one
    marked = transport.call("watermark.embed", clean, {"key": "k1", "payload": PAYLOAD_32}, 120)
    assert isinstance(marked, Asset) and marked.media_type == "image/png"
    assert image_of(marked).size == image_of(clean).size and image_of(marked).mode == "RGB"
    need = min_correct(32)  # 26 of 32: a false-positive rate of 1e-3
    found = transport.call("watermark.detect", marked, {"key": "k1", "payload_bits": 32}, 120)
    assert isinstance(found, dict) and found["present"] is None and found["score"] is None
    assert correct(found["bits"], PAYLOAD_32) >= need
    unmarked = transport.call("watermark.detect", clean, {"key": "k1", "payload_bits": 32}, 120)
    assert isinstance(unmarked, dict) and 8 <= correct(unmarked["bits"], PAYLOAD_32) < need  # near chance (16)
    # what a channel delivers: a JPEG at half the size decodes to 32 bits without an error
    small = io.BytesIO()
    image_of(marked).resize((384, 256)).save(small, "JPEG", quality=90)
    answer = transport.call("watermark.detect", Asset(small.getvalue(), "image/jpeg"), {"key": "k1", "payload_bits": 32}, 120)
    assert isinstance(answer, dict) and len(answer["bits"]) == 32


@pytest.mark.parametrize("vid", IMAGE_VENDORS[1:])
def test_dwtdctsvd_and_rivagan_marks_survive_jpeg_50(vendors: dict[str, Transport], vid: str) -> None:
    marked = vendors[vid].call("watermark.embed", png_asset("kodim05"), {"key": "k", "payload": PAYLOAD_32}, 120)
    assert isinstance(marked, Asset)
    jpeg = io.BytesIO()
    image_of(marked).convert("RGB").save(jpeg, "JPEG", quality=50)
    found = vendors[vid].call("watermark.detect", Asset(jpeg.getvalue(), "image/jpeg"), {"key": "k", "payload_bits": 32}, 120)
    assert isinstance(found, dict) and correct(found["bits"], PAYLOAD_32) >= min_correct(32)


def test_image_embedding_keeps_alpha_and_refuses_what_it_cannot_do(vendors: dict[str, Transport]) -> None:
    transport = vendors["invisible-watermark-dwtdctsvd"]
    rgba = image_of(png_asset("kodim12")).convert("RGBA")
    rgba.putalpha(200)
    data = io.BytesIO()
    rgba.save(data, "PNG")
    marked = transport.call("watermark.embed", Asset(data.getvalue(), "image/png"), {"key": "k", "payload": PAYLOAD_32}, 60)
    assert isinstance(marked, Asset)
    out = image_of(marked)
    assert out.mode == "RGBA" and out.size == rgba.size and out.getchannel("A").getextrema() == (200, 200)
    tiny = io.BytesIO()
    rgba.resize((200, 150)).save(tiny, "PNG")
    with pytest.raises(Unsupported, match="too small"):
        transport.call("watermark.embed", Asset(tiny.getvalue(), "image/png"), {"key": "k", "payload": PAYLOAD_32}, 60)
    answer = transport.call("watermark.detect", Asset(tiny.getvalue(), "image/png"), {"key": "k", "payload_bits": 32}, 60)
    assert isinstance(answer, dict) and "scaled up from 200x150" in answer["notes"][0]
    with pytest.raises(Unsupported, match="strength"):
        transport.call("watermark.embed", png_asset("kodim12"), {"key": "k", "payload": PAYLOAD_32, "strength": 50}, 60)
    with pytest.raises(Unsupported, match="PNG only"):
        transport.call("watermark.embed", Asset(tiny.getvalue(), "image/jpeg"), {"key": "k", "payload": PAYLOAD_32}, 60)


@pytest.mark.parametrize("vid", IMAGE_VENDORS)
def test_image_vendor_names_bad_keys_and_payloads(vendors: dict[str, Transport], vid: str) -> None:
    transport, clean = vendors[vid], png_asset("kodim12")
    with pytest.raises(AdapterError, match="exactly 32 payload bits"):
        transport.call("watermark.embed", clean, {"key": "k", "payload": "1011"}, 60)
    with pytest.raises(AdapterError, match="key: a non-empty string"):
        transport.call("watermark.embed", clean, {"key": "", "payload": PAYLOAD_32}, 60)
    with pytest.raises(AdapterError, match="payload_bits"):
        transport.call("watermark.detect", clean, {"key": "k", "payload_bits": 48}, 60)


def test_perth_marks_speech_its_detector_finds_keeping_rate_and_channels(vendors: dict[str, Transport]) -> None:
    transport = vendors["resemble-perth"]
    for rate, channels in ((32000, 1), (44100, 2)):
        clean = wav_asset("librispeech-198-209-0000", rate, 10, channels)
        marked = transport.call("watermark.embed", clean, {"key": "k"}, 120)
        assert isinstance(marked, Asset) and marked.media_type == "audio/wav"
        before, after = sf.info(io.BytesIO(clean.data)), sf.info(io.BytesIO(marked.data))
        assert (after.samplerate, after.channels, after.frames, after.subtype) == (rate, channels, before.frames, "PCM_16")
        found = transport.call("watermark.detect", marked, {"key": "k"}, 120)
        assert isinstance(found, dict) and found["present"] is True and found["score"] > 0.9 and found["bits"] is None
        unmarked = transport.call("watermark.detect", clean, {"key": "k"}, 120)
        assert isinstance(unmarked, dict) and unmarked["present"] is False and unmarked["score"] < 0.1
    # speech survives MP3 128k (a channel's output), read by the detector as it comes
    samples, rate = sf.read(io.BytesIO(marked.data))
    mp3 = io.BytesIO()
    sf.write(mp3, samples, rate, format="MP3", bitrate_mode="CONSTANT", compression_level=0.65)
    found = transport.call("watermark.detect", Asset(mp3.getvalue(), "audio/mpeg"), {"key": "k"}, 120)
    assert isinstance(found, dict) and found["score"] > 0.5
    with pytest.raises(AdapterError, match="zero-bit"):
        transport.call("watermark.embed", clean, {"key": "k", "payload": "1010"}, 60)
    with pytest.raises(AdapterError, match="key: a non-empty string"):
        transport.call("watermark.detect", clean, {"key": ""}, 60)
    with pytest.raises(AdapterError, match="too short"):
        transport.call("watermark.embed", wav_asset("librispeech-198-209-0000", 32000, 0.2), {"key": "k"}, 60)
    with pytest.raises(Unsupported, match="WAV, FLAC, OGG and MP3"):
        transport.call("watermark.detect", png_asset("kodim12"), {"key": "k"}, 60)


def test_perth_says_so_when_its_watermarker_did_not_load(vendors: dict[str, Transport], tmp_path: Path) -> None:
    # The package hides a failed import of its model behind None; here pkg_resources (from
    # setuptools<81) is made to fail in the real environment, and the adapter must name it.
    manifest = load_vendors(ROOT / "vendors")["resemble-perth"]
    python = venv_python(list(manifest.process["requirements"]), None, list(manifest.process["no_deps"]))
    blocker = tmp_path / "blocker" / "pkg_resources"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('pkg_resources blocked by the test')\n")
    script = ("from pathlib import Path\nfrom aiii_kit.server import load_adapter\n"
              "cls = load_adapter('adapter.py:PerthAdapter', Path(__import__('sys').argv[1]))\n"
              "try:\n    cls().health()\nexcept Exception as exc:\n    print(type(exc).__name__, exc)\n")
    proc = subprocess.run([python, "-c", script, str(manifest.folder)], capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(tmp_path / "blocker"), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("AdapterError resemble-perth loaded without its neural watermarker")
    assert "pkg_resources blocked by the test" in proc.stdout and "setuptools<81" in proc.stdout


def test_aware_recovers_its_20_bits_at_16k_and_after_resampling(vendors: dict[str, Transport]) -> None:
    transport = vendors["aware"]
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


def test_aware_names_what_it_refuses(vendors: dict[str, Transport]) -> None:
    transport = vendors["aware"]
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
