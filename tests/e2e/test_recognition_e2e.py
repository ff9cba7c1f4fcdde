"""The recognition family end to end: every reference vendor (imagehash, python-libphash,
pdqhash, fpcalc, the Rust adapter, iscc-core, iscc-lib) through tests/profiles/recognition.toml,
asserting what a reader of the scorecard would notice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import TESTS, aiii

#: fpcalc is Debian's; the Rust adapter is built with cargo on first use; a whole profile.
pytestmark = [pytest.mark.debian, pytest.mark.slow]


@pytest.fixture(scope="module")
def run(home: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("recognition")
    proc = aiii(home, "run", "--profile", str(TESTS / "profiles" / "recognition.toml"), "--out", str(out / "out"),
                "--store", str(out / "s.sqlite"), "-q")
    assert proc.returncode == 0, proc.stderr
    bundle = json.loads((out / "out" / "results.json").read_text())
    bundle["site"] = out / "out" / "site"
    return bundle


def _cells(run: dict[str, Any], check: str) -> list[dict[str, Any]]:
    return [c for c in run["cells"] if c["check"] == f"recognition.{check}"]


def test_phash_of_imagehash_and_libphash_agree_or_show_the_distance(run: dict[str, Any]) -> None:
    phash = [c for c in _cells(run, "agreement") if c["variant"] == "phash"]
    assert {c["vector"] for c in phash} >= {"kodim01", "kodim05", "kodim05-jpg", "kodim12"}
    for c in phash:
        assert c["outcome"] in ("pass", "fail"), c["reason"]
        if c["outcome"] == "fail":
            assert "bits differ" in c["reason"] and c["measurements"]["distance"]["value"] > 0
            assert set(c["measurements"]["fingerprints"]) == {"imagehash", "python-libphash"}


def test_cross_implementation_pdq_matches_survive_jpeg_q50(run: dict[str, Any]) -> None:
    pdq = [c for c in _cells(run, "cross") if c["variant"] == "pdq/jpeg-q50"]
    assert {(c["producer"], c["consumer"]) for c in pdq} == {("pdqhash", "rust-recognition"), ("rust-recognition", "pdqhash")}
    assert all(c["outcome"] == "pass" and c["measurements"]["distance"]["value"] <= 31 for c in pdq), \
        [c["reason"] for c in pdq]


def test_chromaprint_of_fpcalc_and_rust_is_compared_by_aligned_bit_error_rate(run: dict[str, Any]) -> None:
    chroma = [c for c in _cells(run, "agreement") if c["variant"] == "chromaprint"]
    assert len(chroma) == 2
    for c in chroma:
        assert c["outcome"] in ("pass", "fail")
        assert c["measurements"]["distance"]["kind"] == "bit-error-rate"
        assert c["measurements"]["distance"]["value"] < 0.05, c["reason"]


def test_robustness_gives_rates_with_intervals_and_the_scorecard_its_figures(run: dict[str, Any]) -> None:
    robust = _cells(run, "robustness")
    rows = {c["measurements"]["recognition"]["row"] for c in robust if "recognition" in c["measurements"]}
    assert {"pdqhash pdq", "pdqhash->rust-recognition pdq", "imagehash phash"} <= rows
    for c in robust:
        rec = c["measurements"]["recognition"]
        assert len(rec["tpr_ci95"]) == 2 and rec["threshold"]["target_fpr"] == 0.1
        # six photos give 15 pairs of different works: too few to show 0.1
        assert c["outcome"] == "inconclusive" or rec["tpr"] < 0.75, c["reason"]
    ids = {f["id"] for f in run["figures"]}
    assert "recognition-robustness-image" in ids and "recognition-roc-pdqhash-to-rust-recognition-pdq" in ids
    assert (run["site"] / "figures" / "recognition-robustness-image.png").stat().st_size > 10_000


def test_the_pdq_quality_gate_is_held_on_each_declared_scale(run: dict[str, Any]) -> None:
    (cell,) = _cells(run, "quality")
    q = cell["measurements"]["quality"]
    assert q["scales"]["pdqhash"] == [0, 100] and q["scales"]["rust-recognition"] == [0, 1]
    assert q["same_scale"] is False and q["rated"] == 9 and cell["outcome"] in ("pass", "fail")


def test_differential_search_shrinks_a_disagreement_to_a_small_input(run: dict[str, Any]) -> None:
    diff = {c["variant"]: c for c in _cells(run, "differential")}
    ahash = diff["ahash"]
    assert ahash["outcome"] == "fail" and "minimal counterexample" in ahash["reason"]
    example = ahash["measurements"]["counterexample"]
    assert example["width"] * example["height"] <= 16


def test_each_vendors_own_comparison_gives_the_planted_distances(run: dict[str, Any]) -> None:
    compare = _cells(run, "compare")
    assert {c["consumer"] for c in compare} == {"imagehash", "python-libphash", "pdqhash", "rust-recognition"}
    hamming = [c for c in compare if not c["variant"].startswith("chromaprint/")]
    assert all(c["outcome"] == "pass" for c in hamming), [(c["consumer"], c["variant"], c["reason"]) for c in hamming]
    # rusty-chromaprint's own segment matching finds the planted shift of 12 sub-fingerprints
    shifted = next(c for c in compare if c["variant"] == "chromaprint/shifted-12")
    assert shifted["outcome"] == "pass" and shifted["measurements"]["vendor_offset"] == 12, shifted["reason"]
    unrelated = next(c for c in compare if c["variant"] == "chromaprint/unrelated")
    assert unrelated["measurements"]["vendor_match"] is False, unrelated["reason"]
