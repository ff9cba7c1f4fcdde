"""python-libphash alone, and against imagehash on the catalogue's photos: which of the
shared algorithms give the same bits once mapped to imagehash's layout, and which only
come near."""

from __future__ import annotations

from typing import Any

import pytest
from aiii_kit import Adapter, AdapterError, Asset, Unsupported
from helpers import ROOT

from runner.schema import first_error
from runner.transports.inproc import load_adapter_class
from runner.vendors import load_manifest

KODAK = ROOT / "test_vectors" / "images" / "kodak"
EMPTY = Asset(b"", "application/octet-stream")


def make(vendor: str) -> Adapter:
    manifest = load_manifest(ROOT / "vendors" / vendor / "vendor.toml")
    return load_adapter_class(manifest)(config=dict(manifest.config))


@pytest.fixture(scope="module")
def libphash() -> Adapter:
    return make("python-libphash")


@pytest.fixture(scope="module")
def reference() -> Adapter:
    return make("imagehash")


def png(name: str) -> Asset:
    return Asset((KODAK / f"{name}.png").read_bytes(), "image/png", f"{name}.png")


def compute(adapter: Adapter, asset: Asset, **params: Any) -> dict[str, Any]:
    answer = adapter.call("fingerprint.compute", asset, params)
    assert isinstance(answer, dict)
    assert first_error("aiii:protocol/v1/fingerprint.compute.result", answer) is None, answer
    return answer


def distance(adapter: Adapter, algorithm: str, a: str, b: str) -> int:
    params = {"algorithm": algorithm, "a": {"encoding": "bits", "fingerprint_hex": a},
              "b": {"encoding": "bits", "fingerprint_hex": b}}
    answer = adapter.call("fingerprint.compare", EMPTY, params)
    assert isinstance(answer, dict)
    assert first_error("aiii:protocol/v1/fingerprint.compare.result", answer) is None, answer
    return int(answer["distance"])


def both(libphash: Adapter, reference: Adapter, name: str, algorithm: str, **params: Any) -> tuple[str, str]:
    return (compute(libphash, png(name), algorithm=algorithm, **params)["fingerprint_hex"],
            compute(reference, png(name), algorithm=algorithm, **params)["fingerprint_hex"])


@pytest.mark.parametrize("name", [p.stem for p in sorted(KODAK.glob("*.png"))])
def test_whash_is_bit_identical_to_imagehash(libphash: Adapter, reference: Adapter, name: str) -> None:
    ours, theirs = both(libphash, reference, name, "whash")
    assert ours == theirs


def test_phash_is_near_imagehash_once_its_bits_are_reversed(libphash: Adapter, reference: Adapter) -> None:
    answer = compute(libphash, png("kodim05"), algorithm="phash")
    assert answer["notes"] and "reversed" in answer["notes"][0]
    ours, theirs = both(libphash, reference, "kodim05", "phash")
    assert (ours, theirs) == ("d7d39378b09c3c48", "d7d39278b09c3c68")  # as found: 2 bits of 64
    assert distance(libphash, "phash", ours, theirs) == distance(reference, "phash", ours, theirs) == 2
    # the raw value libphash returns, in its own order, is far from imagehash's
    raw = int(f"{int(ours, 16):064b}"[::-1], 2)
    assert (raw ^ int(theirs, 16)).bit_count() == 40
    # smaller grids match too (DCT at 4x the side, as imagehash's)
    small, small_ref = both(libphash, reference, "kodim05", "phash", hash_size=5)
    assert len(small) == 8 and distance(reference, "phash", small, small_ref) <= 2


def test_ahash_and_dhash_only_come_near_imagehash(libphash: Adapter, reference: Adapter) -> None:
    """Reduced straight to 8x8 (9x8) pixels, the two libraries' resampling decides bits."""
    found = {alg: distance(reference, alg, *both(libphash, reference, "kodim02", alg)) for alg in ("ahash", "dhash")}
    assert found == {"ahash": 10, "dhash": 11}  # as found: the largest gaps of the 12 photos


def test_what_libphash_does_not_offer(libphash: Adapter) -> None:
    with pytest.raises(Unsupported, match="histogram"):
        compute(libphash, png("kodim01"), algorithm="colorhash")
    with pytest.raises(Unsupported, match="hash_size 8"):
        compute(libphash, png("kodim01"), algorithm="dhash", hash_size=16)
    with pytest.raises(Unsupported, match="not image/tiff"):
        compute(libphash, Asset(b"II*\x00", "image/tiff"), algorithm="phash")
    with pytest.raises(AdapterError, match="cannot decode"):
        compute(libphash, Asset(b"not an image", "image/png"), algorithm="phash")
    with pytest.raises(AdapterError, match="not the length"):
        distance(libphash, "phash", "ffffff", "ffffff")
