"""Every profile on a user's own folder of foreign media (tests/foreign_media.py: a photo in
every image format the catalogue knows, a clip in every audio format with Ogg Vorbis among
them, a text file), as a new user runs it: `aiii vectors import DIR`, then `aiii run
--profile P --vectors DIR`.  Each run completes; the checks that read the catalogue's own
data are skipped in one note; every file is read by some cell, or named with why not; and
what the run said is on the scorecard.  The watermark profiles' "-full" variants run with
their fast in-process markers only (their neural ones take hours on any folder)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from foreign_media import FILES, make_foreign_folder
from helpers import ROOT, aiii

pytestmark = [pytest.mark.debian, pytest.mark.slow]  # fpcalc and the Rust adapter (recognition); whole profiles

PROFILES = sorted(p.stem for p in (ROOT / "profiles").glob("*.toml"))
FAST_MARKERS = {"watermark-image-full": "blind-watermark,invisible-watermark-dwtdct,exiftool,exiv2,c2pa-python",
                "watermark-audio-full": "voicesign,exiftool,mutagen,c2pa-python"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, home: Path) -> Path:
    made = make_foreign_folder(tmp_path_factory.mktemp("own") / "media")
    proc = aiii(home, "vectors", "import", str(made))
    assert proc.returncode == 0, proc.stderr
    return made


def _ids(bundle: dict[str, Any], folder: Path) -> dict[str, str]:
    """Each of the folder's files -> its vector id (sources only)."""
    by_sha = {v["sha256"]: v["id"] for v in bundle["vectors"] if not v.get("source")}
    return {f: by_sha[hashlib.sha256((folder / f).read_bytes()).hexdigest()] for f in FILES}


@pytest.mark.parametrize("profile", PROFILES)
def test_every_profile_runs_on_a_users_folder_and_accounts_for_each_file(
        profile: str, folder: Path, home: Path, tmp_path: Path) -> None:
    args = ["run", "--profile", profile, "--vectors", str(folder), "--out", str(tmp_path / "out"),
            "--store", str(tmp_path / "s.sqlite"), "-q", "--fail-on", "never"]
    if profile in FAST_MARKERS:
        args += ["--vendors", FAST_MARKERS[profile]]
    proc = aiii(home, *args, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    bundle = json.loads((tmp_path / "out" / "results.json").read_text())
    notes = bundle["run"].get("notes", [])
    printed = [line.removeprefix("note: ") for line in proc.stderr.splitlines() if line.startswith("note: ")]
    assert printed == notes  # said once on the terminal, kept in the bundle
    skipped = [n for n in notes if "read the catalogue's own data" in n]
    assert len(skipped) <= 1
    if profile in ("identifiers", "optout", "default"):
        assert skipped and ("identifiers.iscc_conformance" in skipped[0] or "optout.precedence" in skipped[0])
    # no check read a photo as its conformance data: nothing errs for want of the catalogue's data
    assert not [c for c in bundle["cells"] if c["outcome"] == "error" and "JSON" in c["reason"]]
    ids = _ids(bundle, folder)
    read = {c["vector"] for c in bundle["cells"]}
    corpora = any(v.startswith("corpus:") for v in read)
    for file, vid in ids.items():
        named = [n for n in notes if f"no cell reads {file} " in n]
        direct = bool(read & {vid, *(v["id"] for v in bundle["vectors"] if v.get("source") == vid)})
        assert direct or named or corpora, f"{profile}: {file} is neither read nor named"
        assert not (direct and named), f"{profile}: {file} is read and named as unread"
        if named:
            assert "no check of profile" in named[0] or "no vendor of this run takes" in named[0] or "planned no cell" in named[0]
    if profile == "metadata":  # no metadata writer declares Ogg Vorbis: the clip is read as WAV, MP3 and FLAC
        derived = {v["id"]: v["media_type"] for v in bundle["vectors"] if v.get("source") == ids["sound/ferry.ogg"]}
        assert sorted(derived.values()) == ["audio/flac", "audio/mpeg", "audio/wav"]
        assert any(c["outcome"] == "pass" for c in bundle["cells"] if c["vector"] in derived)
        assert ("no cell reads notes/field-notes.txt (text/plain): no check of profile metadata selects text/plain"
                in notes)
    if notes:  # the scorecard says it too, first thing under the date
        page = (tmp_path / "out" / "site" / "index.html").read_text()
        assert 'id="notes"' in page and "Your files" in page

