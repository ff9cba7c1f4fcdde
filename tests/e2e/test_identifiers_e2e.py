"""Identifiers: the ISCC implementations through the harness, the harness's own ISCC
decoding, the channels, and the soft-binding chain with iscc-sdk and the C2PA signers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import ROOT, TESTS, aiii, cells

#: The iscc profile's audio content codes come from fpcalc (Debian's libchromaprint-tools).
pytestmark = pytest.mark.debian


@pytest.fixture(scope="module")
def iscc_run(home: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    out = tmp_path_factory.mktemp("iscc")
    proc = aiii(home, "run", "--profile", str(TESTS / "profiles" / "iscc.toml"), "--out", str(out / "out"),
                "--store", str(out / "s.sqlite"), "-q")
    assert proc.returncode == 0, proc.stderr
    return cells(out / "s.sqlite")


def test_both_implementations_pass_every_generator_conformance_test(iscc_run: dict[str, dict]) -> None:
    data = json.loads((ROOT / "test_vectors/identifiers/iscc-core-1.5.0-data.json").read_text())
    gen_tests = sum(len(t) for f, t in data.items() if f.startswith("gen_"))
    for vendor in ("iscc-core", "iscc-lib"):
        mine = {c["variant"]: c for c in iscc_run.values()
                if c["check"] == "identifiers.iscc_conformance" and c["consumer"] == vendor}
        gen = [c for v, c in mine.items() if v.startswith("gen_")]
        assert len(gen) == gen_tests
        assert all(c["outcome"] == "pass" for c in gen), [c["reason"] for c in gen if c["outcome"] != "pass"]
    # iscc-lib has no sequence functions: unsupported, with the reason, not failed
    seq = [c for c in iscc_run.values() if c["check"] == "identifiers.iscc_conformance"
           and c["consumer"] == "iscc-lib" and c["variant"].split(".")[0] in ("encode_seq", "decode_seq")]
    assert seq and all(c["outcome"] == "unsupported" and f"no {c['variant'].split('.')[0]}" in c["reason"] for c in seq)
    core_seq = [c for c in iscc_run.values() if c["check"] == "identifiers.iscc_conformance"
                and c["consumer"] == "iscc-core" and c["variant"].startswith(("encode_seq", "decode_seq"))]
    assert core_seq and all(c["outcome"] == "pass" for c in core_seq)


def test_the_implementations_agree_on_media_and_say_which_units(iscc_run: dict[str, dict]) -> None:
    agree = [c for c in iscc_run.values() if c["check"] == "identifiers.iscc_agreement"]
    assert len(agree) == 6
    for c in agree:
        assert c["outcome"] == "pass", c["reason"]
        assert set(c["measurements"]["compared"]) == {"meta", "content", "data", "instance", "iscc_code"}


def test_recognition_reports_distances_and_applies_the_threshold(iscc_run: dict[str, dict]) -> None:
    rec = {(c["vector"], c["consumer"], c["variant"]): c for c in iscc_run.values() if c["check"] == "recognition.iscc"}
    # the audio survives both channels within 8 bits
    for channel in ("mp3-128k", "resample-16k"):
        cell = rec[("librispeech-198-209-0000", "iscc-core", channel)]
        assert cell["outcome"] == "pass" and cell["measurements"]["distance_bits"] <= 8
    # with a 0-bit threshold, kodim05 after JPEG q50 (a distance of a few bits) is not recognised
    cell = rec[("kodim05", "iscc-lib", "jpeg-q50")]
    assert cell["measurements"]["distance_bits"] > 0
    assert cell["outcome"] == "fail" and "not recognised" in cell["reason"]
    # different works are told apart, and the distance is there to read
    apart = [c for c in rec.values() if c["variant"].startswith("vs-")]
    assert apart and all(c["outcome"] == "pass" and c["measurements"]["distance_bits"] > 8 for c in apart)


def test_compare_matches_the_harness_distance(iscc_run: dict[str, dict]) -> None:
    comp = [c for c in iscc_run.values() if c["check"] == "identifiers.compare"]
    assert len(comp) >= 10 and {c["consumer"] for c in comp} == {"iscc-core"}
    assert all(c["outcome"] == "pass" for c in comp), [c["reason"] for c in comp if c["outcome"] != "pass"]
    assert any(c["measurements"].get("harness_distance", 0) > 0 for c in comp)


def test_iscc_soft_binding_survives_signing_and_stripping(home: Path, tmp_path: Path) -> None:
    # iscc-sdk runs in its own environment (built from PyPI on first use)
    proc = aiii(home, "run", "--profile", str(TESTS / "profiles" / "softbinding.toml"), "--out", str(tmp_path / "out"),
                "--store", str(tmp_path / "s.sqlite"), "-q", timeout=1800)
    assert proc.returncode == 0, proc.stderr
    got = {(c["vector"], c["consumer"]): c for c in cells(tmp_path / "s.sqlite").values() if c["check"] == "identifiers.soft_binding"}
    assert len(got) == 6
    for (vector, consumer), cell in got.items():
        m = cell["measurements"]
        # the binding made it into the manifest as signed, whatever the recovery gave
        assert m["alg"] == "io.iscc.v0" and m["manifest_values"], (vector, consumer, cell["reason"])
        assert any(u.startswith("ISCC:EE") for u in m["binding_units"])  # a 256-bit image Content-Code
        assert m["recomputed_content"].startswith("ISCC:EE")
        if cell["outcome"] == "fail":
            assert "differs from the binding's" in cell["reason"] and m["distance_bits"] > 0
        else:
            assert cell["outcome"] == "pass", cell["reason"]
    # the builder recovers its own binding from the stripped asset
    assert all(got[(v, "iscc-sdk")]["outcome"] == "pass" for v in ("kodim01", "kodim05-jpg"))
    # iscc-sdk normalises images its own way: where its content code differs from the
    # plain ISO 24138 pipeline, the agreement check names the unit and the distance
    agree = [c for c in cells(tmp_path / "s.sqlite").values() if c["check"] == "identifiers.iscc_agreement"]
    assert agree and all(c["outcome"] in ("pass", "fail") for c in agree)
    for c in agree:
        if c["outcome"] == "fail":
            assert "content" in c["measurements"]["differ"] and c["measurements"]["differ"]["content"]["distance_bits"] > 0
