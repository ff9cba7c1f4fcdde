"""The synthetic vendors that size the nightly (benchmarks/nightly.py) are real adapters:
each family's passes ``aiii adapter check`` in the ``process`` placement."""

from __future__ import annotations

from pathlib import Path

from helpers import ROOT, aiii

from benchmarks.synthetic_vendor import make_vendors


def test_a_synthetic_vendor_of_every_family_keeps_the_protocol(tmp_path: Path) -> None:
    made = make_vendors(tmp_path / "vendors", 6, ROOT / "vendors")
    assert sorted(vid.split("-")[1] for vid in made) == ["identifiers", "metadata", "optout", "provenance", "recognition", "watermark"]
    for vid in made:
        proc = aiii(tmp_path / "home", "adapter", "check", vid, "--vendor-dir", str(tmp_path / "vendors"), "--timeout", "20")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert " 0 failed" in proc.stdout
