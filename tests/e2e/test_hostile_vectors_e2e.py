"""Hostile folders and vectors: FIFOs, symlinks out of the folder, names that would inject
TOML, truncated files, decompression bombs and sparse files, all made as real files."""

from __future__ import annotations

import os
import shutil
import socket
import tomllib
from pathlib import Path

from helpers import aiii, aiii_peak_rss, cells
from hostile_files import PHOTO, jpeg_bytes, png_bomb

from runner.vectors import load_catalogue, verify_catalogue

GIB_KB = 2**20  # ru_maxrss is in KiB on Linux
#: A run over the user's folder with the metadata vendors that run in-process.
RUN_ARGS = ("--profile", "metadata", "--vendors", "exiftool,exiv2,xmp-reference", "-q")


def sparse_jpeg(path: Path, size: int) -> None:
    """A real JPEG's bytes, extended with a hole to ``size`` bytes (little of it on disk)."""
    path.write_bytes(jpeg_bytes())
    os.truncate(path, size)


# -- the folder: FIFOs, sockets, symlinks -----------------------------------------------


def test_import_and_verify_skip_a_fifo_and_a_socket_and_name_them(tmp_path: Path) -> None:
    media = tmp_path / "m"
    media.mkdir()
    shutil.copy(PHOTO, media / "photo.png")
    os.mkfifo(media / "pipe.png")  # opening it for reading would wait for a writer forever
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(media / "s.sock"))
        proc = aiii(tmp_path / "home", "vectors", "import", str(media), timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert "note: pipe.png: skipped, it is a FIFO, not a regular file" in proc.stdout.splitlines()
        assert "note: s.sock: skipped, it is a socket, not a regular file" in proc.stdout.splitlines()
        doc = tomllib.loads((media / "catalogue.toml").read_text())
        assert [v["file"] for v in doc["vectors"]] == ["photo.png"]
        verified = aiii(tmp_path / "home", "vectors", "verify", str(media), timeout=60)
        assert verified.returncode == 0, verified.stdout + verified.stderr


# -- names in the catalogue -------------------------------------------------------------


def test_names_with_a_newline_or_an_escape_cannot_inject_toml(tmp_path: Path) -> None:
    media = tmp_path / "m"
    media.mkdir()
    shutil.copy(PHOTO, media / "photo\nversion = 2.png")
    shutil.copy(PHOTO, media / "\x1b[31mred.png")
    (media / "x\nevil = 1\n#.dat").write_text("not media\n")  # skipped: named in a comment
    (media / "title\x1b]0;owned\x07.dat").write_text("not media\n")
    proc = aiii(tmp_path / "home", "vectors", "import", str(media), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout  # the terminal is not driven either
    assert "note: x\\nevil = 1\\n#.dat: skipped, not a media type the harness knows" in proc.stdout
    text = (media / "catalogue.toml").read_text()
    assert not any(ch in text for ch in "\x1b\x07")
    assert "# title\\x1b]0;owned\\x07.dat: skipped" in text
    doc = tomllib.loads(text)
    assert set(doc) == {"version", "vectors"} and doc["version"] == 1
    assert sorted(v["file"] for v in doc["vectors"]) == ["\x1b[31mred.png", "photo\nversion = 2.png"]
    cat = load_catalogue(media, tmp_path / "cache")
    assert sorted(v.path.name for v in cat.vectors if not v.derived) == ["\x1b[31mred.png", "photo\nversion = 2.png"]
    assert verify_catalogue(media) == []


# -- decoding: probe and caps -----------------------------------------------------------


# -- runs: the vector is blocked, the vendors are not blamed ----------------------------


def test_a_truncated_jpeg_blocks_its_cells_instead_of_erroring_the_vendors(tmp_path: Path) -> None:
    media = tmp_path / "m"
    media.mkdir()
    shutil.copy(PHOTO, media / "photo.png")
    data = jpeg_bytes()
    (media / "cut.jpg").write_bytes(data[: len(data) // 2])
    home = tmp_path / "home"
    assert aiii(home, "vectors", "import", str(media), timeout=60).returncode == 0
    proc = aiii(home, "run", "--vectors", str(media), *RUN_ARGS, "--out", str(tmp_path / "out"),
                "--store", str(tmp_path / "s.sqlite"), "--fail-on", "never", timeout=600)
    assert proc.returncode == 0, proc.stderr
    results = cells(tmp_path / "s.sqlite").values()
    cut = [c for c in results if c["vector"] == "cut"]
    assert cut and {c["outcome"] for c in cut} == {"blocked"}
    assert all(c["reason"].startswith("input vector cut cannot be decoded: Pillow cannot decode it: OSError: image file is"
                                      " truncated") for c in cut), {c["reason"] for c in cut}
    assert {c["outcome"] for c in results if c["vector"] == "photo"} - {"blocked"}  # the good photo still runs


def test_a_bomb_and_a_sparse_700mb_jpeg_are_blocked_without_large_memory(tmp_path: Path) -> None:
    media = tmp_path / "m"
    media.mkdir()
    png_bomb(media / "bomb.png", 20000, 20000)
    sparse_jpeg(media / "huge.jpg", 700 * 2**20)
    assert (media / "huge.jpg").stat().st_blocks * 512 < 2**20  # sparse: under 1 MiB on disk
    home = tmp_path / "home"
    assert aiii(home, "vectors", "import", str(media), timeout=120).returncode == 0
    proc, peak_kb = aiii_peak_rss(home, "run", "--vectors", str(media), *RUN_ARGS, "--out", str(tmp_path / "out"),
                                  "--store", str(tmp_path / "s.sqlite"), "--fail-on", "never", timeout=600)
    assert proc.returncode == 0, proc.stderr
    results = list(cells(tmp_path / "s.sqlite").values())
    assert {c["vector"] for c in results} == {"bomb", "huge"}
    assert {c["outcome"] for c in results} == {"blocked"}
    reasons = {c["vector"]: c["reason"] for c in results}
    assert reasons["bomb"].startswith("input vector bomb cannot be decoded: decompression bomb")
    assert reasons["huge"] == ("input vector huge cannot be decoded: 734003200 bytes, over the cap of 268435456 bytes"
                               " per vector file (limits.max_file_bytes)")
    assert peak_kb < GIB_KB, f"peak RSS {peak_kb / 1024:.0f} MiB"
    cache = home / "cache" / "blobs"
    assert sum(p.stat().st_size for p in cache.rglob("*") if p.is_file()) < 64 * 2**20  # the 700 MB never cached
