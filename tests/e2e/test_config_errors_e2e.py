"""A malformed vendor.toml, profile or catalogue entry stops with one line naming file and key."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT, json_vector_folder


def test_cli_reports_a_bad_catalogue_entry_in_one_line(tmp_path: Path) -> None:
    media = tmp_path / "media"
    media.mkdir()
    shutil.copy(ROOT / "test_vectors" / "images" / "kodak" / "kodim01.png", media / "a.png")
    (media / "catalogue.toml").write_text(
        'version = 1\n[[vectors]]\nid = "a"\nfile = "a.png"\nmedia_type = "image/png"\n'
        'sha256 = "' + "0" * 64 + '"\nlicence = "test"\ntags = ["photo"]\n'
    )
    proc = subprocess.run(
        [sys.executable, "-m", "runner.cli", "run", "--vectors", str(media), "--out", str(tmp_path / "out"),
         "--store", str(tmp_path / "s.sqlite")],
        capture_output=True, text=True, cwd=ROOT, timeout=300, env={**_env(tmp_path)},
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "catalogue.toml" in lines[0] and "sha256" in lines[0]


def _env(tmp_path: Path) -> dict[str, str]:
    import os

    return {**os.environ, "AIII_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT)}


def test_profile_naming_an_unknown_vector_stops_the_run_in_one_line(tmp_path: Path) -> None:
    profile = tmp_path / "typo.toml"
    profile.write_text('name = "typo"\ndescription = "d"\n[[checks]]\nid = "metadata.roundtrip"\nlevel = "MUST"\n'
                       'vectors = { ids = ["kodim01-jgp"] }\n')
    proc = subprocess.run(
        [sys.executable, "-m", "runner.cli", "run", "--profile", str(profile), "--out", str(tmp_path / "out"),
         "--store", str(tmp_path / "s.sqlite")],
        capture_output=True, text=True, cwd=ROOT, timeout=300, env=_env(tmp_path),
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "typo.toml" in lines[0] and "metadata.roundtrip" in lines[0] and "kodim01-jgp" in lines[0]
    if (tmp_path / "s.sqlite").exists():  # nothing half-runs: no run was even recorded
        import sqlite3

        with sqlite3.connect(tmp_path / "s.sqlite") as db:
            assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 0


def _run_profile(tmp_path: Path, profile_text: str, *extra: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "p.toml"
    profile.write_text(profile_text)
    return subprocess.run(
        [sys.executable, "-m", "runner.cli", "run", "--profile", str(profile), *extra, "--out", str(tmp_path / "out"),
         "--store", str(tmp_path / "s.sqlite")],
        capture_output=True, text=True, cwd=ROOT, timeout=300, env=_env(tmp_path),
    )


def test_unknown_recognition_channel_stops_the_run_naming_profile_and_check(tmp_path: Path) -> None:
    proc = _run_profile(tmp_path, 'name = "p"\ndescription = "d"\n[[checks]]\nid = "recognition.iscc"\n'
                        'level = "SHOULD"\nvectors = { ids = ["kodim01"] }\nparams = { channels = ["jpeg-q05"] }\n',
                        "--vendors", "iscc-core")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "p.toml" in lines[0] and "recognition.iscc" in lines[0] and "jpeg-q05" in lines[0]


@pytest.mark.parametrize(("content", "complaint"), [
    ("{not json", "not readable as JSON"),
    ('{"schemes": {"isrc": {"cases": [{"id": "a", "value": "USRC17607839", "expect": "maybe"}]}}}',
     "schemes.isrc.cases[0]"),
])
def test_malformed_registry_cases_name_the_file(tmp_path: Path, content: str, complaint: str) -> None:
    media = json_vector_folder(tmp_path / "media", content, "registry-cases")
    proc = _run_profile(tmp_path, 'name = "p"\ndescription = "d"\n[[checks]]\nid = "identifiers.registry"\n'
                        'level = "MUST"\nvectors = { tags_all = ["registry-cases"] }\n',
                        "--vectors", str(media), "--vendors", "registry-reference")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "cases.json" in lines[0] and complaint in lines[0] and "identifiers.registry" in lines[0]
