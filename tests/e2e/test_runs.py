"""Whole runs through the real CLI: misbehaving adapters, SIGKILL and resume, reports."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from helpers import ROOT, TESTS, aiii, cells


def test_misbehaving_adapters_become_errors_and_lose_nothing(home: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    proc = aiii(home, "run", "--profile", str(TESTS / "profiles" / "doubles.toml"), "--vendor-dir", str(TESTS / "doubles"),
                "--timeout", "3", "--out", str(tmp_path / "out"), "--store", str(tmp_path / "s.sqlite"), "-q")
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    results = cells(tmp_path / "s.sqlite")
    by_consumer = {(c["producer"], c["consumer"]): c for c in results.values()}
    crash = by_consumer[("exiftool", "crasher")]
    assert crash["outcome"] == "error" and "RuntimeError" in crash["reason"] and "crasher" in crash["reason"]
    hang = by_consumer[("exiftool", "hanger")]
    assert hang["outcome"] == "error" and "timed out after 3 s" in hang["reason"]
    lie = by_consumer[("exiftool", "liar")]
    assert lie["outcome"] == "error" and "schema" in lie["reason"] and "fields.title" in lie["reason"]
    flood = by_consumer[("exiftool", "flooder")]
    assert flood["outcome"] == "error" and "violates the protocol" in flood["reason"]
    assert "limit" in flood["reason"] and "/fields/title" in flood["reason"], "the gate names the bound and the path"
    # the honest pairs still ran and kept their results
    assert by_consumer[("exiftool", "exiv2")]["outcome"] == "pass"
    assert by_consumer[("exiftool", "exiftool")]["outcome"] == "pass"
    assert elapsed < 120, "a hung adapter must cost one timeout, not the run"
    bundle = json.loads((tmp_path / "out" / "results.json").read_text())
    assert bundle["summary"]["cells"] == len(results)


def _outcomes(store: Path) -> dict[str, tuple[str, str]]:
    return {cid: (c["outcome"], c["reason"]) for cid, c in cells(store).items()}


def test_sigkill_mid_run_then_resume_matches_an_uninterrupted_run(home: Path, tmp_path: Path) -> None:
    profile = str(TESTS / "profiles" / "resume.toml")
    common = ["--profile", profile, "--vendor-dir", str(TESTS / "doubles"), "--jobs", "1", "-q"]
    store = tmp_path / "killed.sqlite"
    env = {**os.environ, "AIII_HOME": str(home), "PYTHONPATH": str(ROOT)}
    killed = subprocess.Popen([sys.executable, "-m", "runner.cli", "run", *common, "--out", str(tmp_path / "k"),
                               "--store", str(store)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    done_before = 0
    while time.monotonic() < deadline:
        time.sleep(0.2)
        if store.exists():
            try:
                done_before = len(cells(store))
            except sqlite3.Error:
                continue
            if done_before >= 10:
                break
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=30)
    assert killed.returncode == -signal.SIGKILL
    before = cells(store)
    assert len(before) >= 10
    with sqlite3.connect(store) as db:
        (run_id, status), = db.execute("SELECT id, status FROM runs").fetchall()
    assert status == "running"

    proc = aiii(home, "run", "--resume", run_id, "--store", str(store), "-q")
    assert proc.returncode == 0, proc.stderr
    after = cells(store)
    assert len(before) < len(after), "the kill must land mid-run"

    # the same profile, uninterrupted, into another store
    reference = tmp_path / "reference.sqlite"
    proc = aiii(home, "run", *common, "--out", str(tmp_path / "ref"), "--store", str(reference))
    assert proc.returncode == 0, proc.stderr
    expected = _outcomes(reference)
    assert len(expected) >= 40
    # nothing finished before the kill was redone, nothing was lost, nothing differs
    for cid, rec in before.items():
        assert after[cid]["finished"] == rec["finished"]
    assert _outcomes(store) == expected
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT status FROM runs").fetchone()[0] == "complete"


def test_every_command_has_help(home: Path) -> None:
    for args in (["--help"], ["run", "--help"], ["report", "--help"], ["runs", "--help"], ["vendors", "--help"],
                 ["vectors", "--help"], ["profiles", "--help"]):
        proc = aiii(home, *args)
        assert proc.returncode == 0 and "usage: aiii" in proc.stdout, args


def test_vendors_list_shows_versions_and_runnability(home: Path) -> None:
    proc = aiii(home, "vendors", "list")
    assert proc.returncode == 0, proc.stderr
    lines = {line.split()[0]: line for line in proc.stdout.splitlines()}
    assert "c2pa-python" in lines and "0.38.1" in lines["c2pa-python"] and "[ok]" in lines["c2pa-python"]
    assert "mutagen" in lines and "1.48.1" in lines["mutagen"]


def test_vendor_that_cannot_run_says_why(home: Path, tmp_path: Path) -> None:
    vendor = tmp_path / "vendors" / "ghost"
    vendor.mkdir(parents=True)
    (vendor / "vendor.toml").write_text(
        'id = "ghost"\nname = "Ghost"\norganisation = "t"\nplacement = "inproc"\ndefault = false\n'
        '[adapter]\nentry = "adapter.py:Ghost"\nrequires = ["no_such_module_xyz"]\n[version]\nadapter = true\n'
        '[[capabilities]]\noperation = "metadata.read"\nmedia_types = ["image/png"]\n'
    )
    proc = aiii(home, "vendors", "list", "--vendor-dir", str(tmp_path / "vendors"))
    ghost = next(line for line in proc.stdout.splitlines() if line.startswith("ghost"))
    assert "cannot run" in ghost and "no_such_module_xyz" in ghost


def test_own_media_folder_imports_and_runs_a_profile(home: Path, tmp_path: Path) -> None:
    media = tmp_path / "my media"
    (media / "photos" / "Holiday").mkdir(parents=True)
    (media / "scans").mkdir()
    src = ROOT / "test_vectors" / "images" / "kodak"
    (media / "photos" / "Holiday" / "beach.png").write_bytes((src / "kodim12.png").read_bytes())
    (media / "scans" / "misnamed.jpg").write_bytes((src / "kodim03.png").read_bytes())  # a PNG in disguise
    (media / "report.bin").write_bytes(b"\x00\x01 not media")
    proc = aiii(home, "vectors", "import", str(media))
    assert proc.returncode == 0, proc.stderr
    assert "report.bin: skipped" in proc.stdout
    listed = aiii(home, "vectors", "list", str(media))
    sources = {line.split()[0]: line.split()[1] for line in listed.stdout.splitlines()[:-1] if "(from " not in line}
    assert sources == {"photos-holiday-beach": "image/png", "scans-misnamed": "image/png"}  # the bytes, not the name
    assert "photos,holiday" in listed.stdout and "(from scans-misnamed)" in listed.stdout  # and its derived formats
    proc = aiii(home, "run", "--vectors", str(media), "--profile", "metadata", "--vendors", "exiftool,exiv2,xmp-reference",
                "--out", str(tmp_path / "out"), "--store", str(tmp_path / "s.sqlite"), "-q")
    assert proc.returncode == 0, proc.stderr
    results = cells(tmp_path / "s.sqlite")
    vectors = {c["vector"] for c in results.values()}
    assert set(sources) < vectors  # the files and some of their derived formats
    assert all(any(v == s or v.startswith(f"{s}-") for s in sources) for v in vectors), vectors
    roundtrips = [c for c in results.values() if c["check"] == "metadata.roundtrip" and c["producer"] == "exiv2"]
    assert roundtrips and all(c["outcome"] == "pass" for c in roundtrips if c["variant"] == "ascii")
