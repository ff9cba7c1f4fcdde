"""imagehash alone: its hashes of the catalogue's photos in the protocol's bit layout, what
a JPEG re-encoding and a different photo do to them, and its own Hamming distance."""

from __future__ import annotations

import io
from typing import Any

import imagehash
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
    manifest = load_manifest(ROOT / "vendors" / "imagehash" / "vendor.toml")
    return load_adapter_class(manifest)(config=dict(manifest.config))


def png(name: str) -> Asset:
    return Asset((KODAK / f"{name}.png").read_bytes(), "image/png", f"{name}.png")


def jpeg(name: str, quality: int) -> Asset:
    out = io.BytesIO()
    with Image.open(KODAK / f"{name}.png") as img:
        img.convert("RGB").save(out, format="JPEG", quality=quality)
    return Asset(out.getvalue(), "image/jpeg", f"{name}.jpg")


def compute(adapter: Adapter, asset: Asset, **params: Any) -> dict[str, Any]:
    answer = adapter.call("fingerprint.compute", asset, params)
    assert isinstance(answer, dict)
    assert first_error("aiii:protocol/v1/fingerprint.compute.result", answer) is None, answer
    return answer


def distance(adapter: Adapter, algorithm: str, a: dict[str, Any], b: dict[str, Any]) -> int:
    params = {"algorithm": algorithm, "a": {k: a[k] for k in ("encoding", "fingerprint_hex")},
              "b": {k: b[k] for k in ("encoding", "fingerprint_hex")}}
    answer = adapter.call("fingerprint.compare", EMPTY, params)
    assert isinstance(answer, dict)
    assert first_error("aiii:protocol/v1/fingerprint.compare.result", answer) is None, answer
    assert answer["distance_kind"] == "hamming" and answer["match"] is None
    return int(answer["distance"])


def test_the_hex_is_what_imagehash_prints(adapter: Adapter) -> None:
    with Image.open(KODAK / "kodim05.png") as img:
        printed = {"phash": str(imagehash.phash(img)), "colorhash": str(imagehash.colorhash(img))}
    got = compute(adapter, png("kodim05"), algorithm="phash")
    assert (got["fingerprint_hex"], got["bits"], got["algorithm_version"]) == (printed["phash"], 64, "4.3.2")
    assert got["fingerprint_hex"] == "d7d39278b09c3c68"  # as found: kodim05's pHash
    colour = compute(adapter, png("kodim05"), algorithm="colorhash")
    assert colour["bits"] == 42 and colour["fingerprint_hex"] == "0" + printed["colorhash"] == "00e640000000"
    # imagehash reads the padded hex back to the same hash
    assert imagehash.hex_to_flathash(colour["fingerprint_hex"], 14) == imagehash.hex_to_flathash(printed["colorhash"], 14)


@pytest.mark.parametrize("algorithm", ["ahash", "phash", "dhash", "whash"])
def test_a_jpeg_stays_near_and_another_photo_is_far(adapter: Adapter, algorithm: str) -> None:
    original = compute(adapter, png("kodim05"), algorithm=algorithm)
    recoded = compute(adapter, jpeg("kodim05", 50), algorithm=algorithm)
    other = compute(adapter, png("kodim12"), algorithm=algorithm)
    assert distance(adapter, algorithm, original, recoded) <= 4  # as found: 0 bits of 64 for each
    assert distance(adapter, algorithm, original, other) >= 20  # as found: 24 (pHash) to 36 bits


def test_hash_size_sets_the_grid(adapter: Adapter) -> None:
    assert compute(adapter, png("kodim01"), algorithm="phash", hash_size=16)["bits"] == 256
    small = compute(adapter, png("kodim01"), algorithm="dhash", hash_size=3)
    assert small["bits"] == 9 and len(small["fingerprint_hex"]) == 4
    with pytest.raises(Unsupported, match="power of 2"):
        compute(adapter, png("kodim01"), algorithm="whash", hash_size=6)


def test_refusals_are_clean(adapter: Adapter) -> None:
    with pytest.raises(AdapterError, match="cannot decode"):
        compute(adapter, Asset(b"not an image", "image/png"), algorithm="phash")
    with pytest.raises(Unsupported, match="no pdq"):
        compute(adapter, png("kodim01"), algorithm="pdq")
    with pytest.raises(AdapterError, match="3 bytes is not the length"):
        distance(adapter, "phash", {"encoding": "bits", "fingerprint_hex": "ffffff"},
                 {"encoding": "bits", "fingerprint_hex": "ffffff"})
    with pytest.raises(AdapterError, match="same shape"):
        distance(adapter, "phash", {"encoding": "bits", "fingerprint_hex": "ff" * 8},
                 {"encoding": "bits", "fingerprint_hex": "ff" * 32})
