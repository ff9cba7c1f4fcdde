"""The torch-based watermark reference vendors through the real process placement: the one
environment they share, and invisible-watermark's three image methods.

resemble-perth's and aware's own tests are beside them, in vendors/resemble-perth/tests and
vendors/aware/tests; what all of them share is tests/torch_vendors.py.
"""

from __future__ import annotations

import io
import sys
import tomllib
from collections.abc import Iterator

import pytest
from aiii_kit import AdapterError, Asset, Unsupported
from helpers import ROOT
from torch_vendors import PAYLOAD_32, correct, image_of, min_correct, png_asset, served

from runner.builds import run_step as _run
from runner.transports import Transport
from runner.vendors import load_vendors

TORCH_VENDORS = ("invisible-watermark-dwtdct", "invisible-watermark-dwtdctsvd", "invisible-watermark-rivagan",
                 "resemble-perth", "aware")
IMAGE_VENDORS = TORCH_VENDORS[:3]


@pytest.fixture(scope="module")
def vendors() -> Iterator[dict[str, Transport]]:
    """The image vendors (invisible-watermark's three methods), served from the torch environment."""
    with served(*IMAGE_VENDORS) as started:
        yield started


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


@pytest.mark.torch
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


@pytest.mark.torch
@pytest.mark.parametrize("vid", IMAGE_VENDORS[1:])
def test_dwtdctsvd_and_rivagan_marks_survive_jpeg_50(vendors: dict[str, Transport], vid: str) -> None:
    marked = vendors[vid].call("watermark.embed", png_asset("kodim05"), {"key": "k", "payload": PAYLOAD_32}, 120)
    assert isinstance(marked, Asset)
    jpeg = io.BytesIO()
    image_of(marked).convert("RGB").save(jpeg, "JPEG", quality=50)
    found = vendors[vid].call("watermark.detect", Asset(jpeg.getvalue(), "image/jpeg"), {"key": "k", "payload_bits": 32}, 120)
    assert isinstance(found, dict) and correct(found["bits"], PAYLOAD_32) >= min_correct(32)


@pytest.mark.torch
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


@pytest.mark.torch
@pytest.mark.parametrize("vid", IMAGE_VENDORS)
def test_image_vendor_names_bad_keys_and_payloads(vendors: dict[str, Transport], vid: str) -> None:
    transport, clean = vendors[vid], png_asset("kodim12")
    with pytest.raises(AdapterError, match="exactly 32 payload bits"):
        transport.call("watermark.embed", clean, {"key": "k", "payload": "1011"}, 60)
    with pytest.raises(AdapterError, match="key: a non-empty string"):
        transport.call("watermark.embed", clean, {"key": "", "payload": PAYLOAD_32}, 60)
    with pytest.raises(AdapterError, match="payload_bits"):
        transport.call("watermark.detect", clean, {"key": "k", "payload_bits": 48}, 60)
