"""resemble-perth's zero-bit speech watermark, served from the torch environment like ``aiii run`` serves it."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import soundfile as sf
from aiii_kit import AdapterError, Asset, Unsupported
from helpers import ROOT
from torch_vendors import png_asset, served, wav_asset

from runner.transports import Transport
from runner.transports.process import venv_python
from runner.vendors import load_vendors

pytestmark = pytest.mark.torch  # served from the torch process environment (built on first use, minutes)


@pytest.fixture(scope="module")
def perth() -> Iterator[Transport]:
    with served("resemble-perth") as started:
        yield started["resemble-perth"]


def test_perth_marks_speech_its_detector_finds_keeping_rate_and_channels(perth: Transport) -> None:
    transport = perth
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


def test_perth_says_so_when_its_watermarker_did_not_load(perth: Transport, tmp_path: Path) -> None:
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
