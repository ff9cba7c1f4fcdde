"""What is wrong before a run starts stops it at once, as one line naming the file or
folder (and the key or option): never a traceback, never at the end of a long run."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest
from helpers import SAMPLE_VENDOR, aiii

from runner.errors import HarnessError
from runner.store import ResultsStore

PROFILE = """name = "tiny"
description = "{description}"
vendors = ["exiftool"]
fail_on = "never"

[[checks]]
id = "metadata.roundtrip"
level = "MUST"
vectors = {{ ids = ["kodim01-jpg"] }}
params = {{ value_sets = ["ascii"] }}
"""


def one_line_error(proc: subprocess.CompletedProcess[str], *names: str) -> str:
    """The run stopped with status 2 and one line on stderr naming every one of ``names``."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("aiii: error: "), proc.stderr
    for name in names:
        assert name in lines[0], (name, lines[0])
    return lines[0]


def tiny_profile(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(PROFILE.format(description="ExifTool with itself."))
    return path


def runs_in(store: Path) -> list[tuple[str]]:
    if not store.exists():
        return []
    with sqlite3.connect(store) as db:
        return db.execute("SELECT id FROM runs").fetchall()


def run(home: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``aiii run`` of a tiny profile; ``args`` are option/value pairs that override the defaults."""
    options = {"--profile": str(tiny_profile(tmp_path)), "--out": str(tmp_path / "out"), "--store": str(tmp_path / "s.sqlite")}
    options.update(zip(args[::2], args[1::2], strict=True))
    return aiii(home, "run", *[x for pair in options.items() for x in pair], "-q", timeout=300)


def test_a_vendor_manifest_that_is_not_utf8(tmp_path: Path) -> None:
    folder = tmp_path / "vendors" / "latin"
    folder.mkdir(parents=True)
    (folder / "vendor.toml").write_bytes(SAMPLE_VENDOR.format(id="latin", name="Caf\xe9").encode("latin-1"))
    proc = run(tmp_path / "home", tmp_path, "--vendor-dir", str(tmp_path / "vendors"))
    one_line_error(proc, str(folder / "vendor.toml"), "not UTF-8", "line 2")
    assert runs_in(tmp_path / "s.sqlite") == []


def test_a_vendor_manifest_that_is_a_folder(tmp_path: Path) -> None:
    manifest = tmp_path / "vendors" / "hollow" / "vendor.toml"
    manifest.mkdir(parents=True)
    proc = aiii(tmp_path / "home", "vendors", "list", "--vendor-dir", str(tmp_path / "vendors"))
    one_line_error(proc, str(manifest), "a folder, not a file")


def test_a_profile_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.toml"
    path.write_bytes(PROFILE.format(description="Caf\xe9").encode("latin-1"))
    proc = run(tmp_path / "home", tmp_path, "--profile", str(path))
    one_line_error(proc, str(path), "not UTF-8", "line 2")
    assert runs_in(tmp_path / "s.sqlite") == []


def test_a_missing_vendor_dir(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-vendors"
    proc = run(tmp_path / "home", tmp_path, "--vendor-dir", str(missing))
    one_line_error(proc, "--vendor-dir", str(missing), "no such folder")
    assert runs_in(tmp_path / "s.sqlite") == []
    one_line_error(aiii(tmp_path / "home", "vendors", "list", "--vendor-dir", str(missing)), str(missing))


def test_an_out_folder_that_cannot_be_written(tmp_path: Path) -> None:
    """Found at the start, not after the whole run (a file stands where a folder must go:
    permissions would not do, the tests may run as root)."""
    blocker = tmp_path / "results.json"
    blocker.write_text("{}")
    proc = run(tmp_path / "home", tmp_path, "--out", str(blocker / "out"))
    one_line_error(proc, "--out", str(blocker / "out"), "cannot write there")
    assert runs_in(tmp_path / "s.sqlite") == []


def test_a_state_folder_that_cannot_be_written(tmp_path: Path) -> None:
    home = tmp_path / "home-is-a-file"
    home.write_text("")
    proc = run(home, tmp_path)
    one_line_error(proc, "AIII_HOME", str(home), "cannot write there")
    assert runs_in(tmp_path / "s.sqlite") == []


def _damaged_store(tmp_path: Path) -> Path:
    """A real store with a run and enough cells for many pages, then pages overwritten."""
    path = tmp_path / "damaged.sqlite"
    store = ResultsStore(path)
    store.create_run("r1", "tiny", {}, "2026-01-01T00:00:00Z")
    db = sqlite3.connect(path)
    with db:
        db.executemany("INSERT INTO cells (run_id, cell_id, record) VALUES ('r1', ?, ?)",
                       ((f"cell-{i:05d}", '{"reason": "' + "x" * 500 + '"}') for i in range(400)))
    db.close()
    store.close()  # the last connection checkpoints the WAL into the file
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 10 * page
    for offset in range(3 * page, len(data) - page, 2 * page):  # every other page after the schema's
        data[offset:offset + page] = b"\xde\xad" * (page // 2)
    path.write_bytes(bytes(data))
    return path


def test_a_results_store_with_damaged_pages(tmp_path: Path) -> None:
    path = _damaged_store(tmp_path)
    with pytest.raises(HarnessError, match="damaged") as info:
        ResultsStore(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    one_line_error(run(tmp_path / "home", tmp_path, "--store", str(path)), str(path), "damaged")
    one_line_error(aiii(tmp_path / "home", "runs", "--store", str(path)), str(path), "damaged")
