"""pdqhash alone: Meta's PDQ on the catalogue's photos, its quality on the declared scale,
and what re-encoding, resizing and a different photo do to the 256 bits."""

from __future__ import annotations

import io
from typing import Any

import pytest
from aiii_kit import Adapter, AdapterError, Asset, Unsupported
from helpers import ROOT
from PIL import Image

from runner.schema import first_error
from runner.transports.inproc import load_adapter_class
from runner.vendors import load_manifest

KODAK = ROOT / "test_vectors" / "images" / "kodak"
EMPTY = Asset(b"", "application/octet-stream")


@pytest.fixture(scope="module")
def adapter() -> Adapter:
    manifest = load_manifest(ROOT / "vendors" / "pdqhash" / "vendor.toml")
    return load_adapter_class(manifest)(config=dict(manifest.config))


def encoded(name: str, fmt: str, scale: float = 1.0, **save: Any) -> Asset:
    out = io.BytesIO()
    with Image.open(KODAK / f"{name}.png") as img:
        rgb = img.convert("RGB")
        if scale != 1.0:
            rgb = rgb.resize((int(rgb.width * scale), int(rgb.height * scale)), Image.Resampling.BICUBIC)
        rgb.save(out, format=fmt, **save)
    return Asset(out.getvalue(), f"image/{fmt.lower()}", f"{name}.{fmt.lower()}")


def compute(adapter: Adapter, asset: Asset) -> dict[str, Any]:
    answer = adapter.call("fingerprint.compute", asset, {"algorithm": "pdq"})
    assert isinstance(answer, dict)
    assert first_error("aiii:protocol/v1/fingerprint.compute.result", answer) is None, answer
    return answer


def distance(adapter: Adapter, a: dict[str, Any], b: dict[str, Any]) -> int:
    params = {"algorithm": "pdq", "a": {"encoding": "bits", "fingerprint_hex": a["fingerprint_hex"]},
              "b": {"encoding": "bits", "fingerprint_hex": b["fingerprint_hex"]}}
    answer = adapter.call("fingerprint.compare", EMPTY, params)
    assert isinstance(answer, dict)
    assert first_error("aiii:protocol/v1/fingerprint.compare.result", answer) is None, answer
    assert answer["distance_kind"] == "hamming" and answer["match"] is None
    return int(answer["distance"])


def test_a_photo_has_256_bits_and_full_quality(adapter: Adapter) -> None:
    got = compute(adapter, encoded("kodim05", "PNG"))
    assert (got["bits"], got["encoding"], got["algorithm_version"]) == (256, "bits", "pdqhash 0.2.8")
    assert got["fingerprint_hex"] == "3ec37efb7f316350c7e34b8b8b18cb1cc3d8968b369e3b9c2406c42f70640875"  # as found
    assert got["quality_scale"] == {"min": 0, "max": 100} and got["quality"] == 100


def test_a_flat_image_has_quality_zero(adapter: Adapter) -> None:
    """PDQ's quality says when a hash means nothing: a uniform grey image scores 0."""
    out = io.BytesIO()
    Image.new("RGB", (256, 256), (128, 128, 128)).save(out, format="PNG")
    got = compute(adapter, Asset(out.getvalue(), "image/png"))
    assert got["quality"] == 0 and got["quality_scale"]["min"] <= got["quality"] <= got["quality_scale"]["max"]


def test_copies_stay_near_and_another_photo_is_far(adapter: Adapter) -> None:
    original = compute(adapter, encoded("kodim05", "PNG"))
    assert distance(adapter, original, compute(adapter, encoded("kodim05", "JPEG", quality=50))) <= 4  # as found: 2
    assert distance(adapter, original, compute(adapter, encoded("kodim05", "PNG", scale=0.5))) <= 16  # as found: 10
    other = distance(adapter, original, compute(adapter, encoded("kodim12", "PNG")))
    assert 96 <= other <= 160, other  # unrelated photos: about half of 256


def test_refusals_are_clean(adapter: Adapter) -> None:
    with pytest.raises(Unsupported, match="not phash"):
        adapter.call("fingerprint.compute", encoded("kodim01", "PNG"), {"algorithm": "phash"})
    with pytest.raises(AdapterError, match="cannot decode"):
        compute(adapter, Asset(b"not an image", "image/png"))
    with pytest.raises(AdapterError, match="256 bits"):
        distance(adapter, {"fingerprint_hex": "ffffff"}, {"fingerprint_hex": "ffffff"})
