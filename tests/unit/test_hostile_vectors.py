"""Hostile folders and vectors: FIFOs, symlinks out of the folder, names that would inject
TOML, truncated files, decompression bombs and sparse files, all made as real files."""

from __future__ import annotations

import os
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from helpers import ROOT
from hostile_files import PHOTO, jpeg_bytes, png_bomb

from runner.errors import ConfigError
from runner.model import Limits
from runner.profiles import load_profile
from runner.vector_import import import_directory
from runner.vectors import CatalogueError, decode_problem, load_catalogue


def entry(vid: str, file: str, sha256: str, media_type: str = "image/png") -> str:
    return (f'[[vectors]]\nid = "{vid}"\nfile = "{file}"\nmedia_type = "{media_type}"\n'
            f'sha256 = "{sha256}"\nlicence = "test"\n')


def sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- the folder: FIFOs, sockets, symlinks -----------------------------------------------


def test_load_refuses_a_catalogue_entry_that_is_a_fifo(tmp_path: Path) -> None:
    media = tmp_path / "m"
    media.mkdir()
    os.mkfifo(media / "pipe.png")
    (media / "catalogue.toml").write_text("version = 1\n" + entry("pipe", "pipe.png", "0" * 64))
    with pytest.raises(CatalogueError) as err:
        load_catalogue(media, tmp_path / "cache")
    assert str(err.value).endswith("catalogue.toml: vectors[0] (pipe): file pipe.png is a FIFO, not a regular file")


def test_symlinks_out_of_the_folder_are_refused_at_import_and_at_load(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(PHOTO, outside / "secret.png")
    media = tmp_path / "m"
    media.mkdir()
    shutil.copy(PHOTO, media / "photo.png")
    (media / "out.png").symlink_to(outside / "secret.png")
    (media / "alias.png").symlink_to("photo.png")  # stays inside: a vector like any other
    notes: list[str] = []
    import_directory(media, notes=notes)
    assert f"out.png: skipped, it resolves outside the vectors folder (to {outside.resolve() / 'secret.png'})" in notes
    doc = tomllib.loads((media / "catalogue.toml").read_text())
    assert sorted(v["file"] for v in doc["vectors"]) == ["alias.png", "photo.png"]

    # A hand-written entry through the file symlink, or through a folder symlink, is refused.
    (media / "sub").symlink_to(outside, target_is_directory=True)
    digest = sha(PHOTO)
    for i, (vid, file) in enumerate((("out", "out.png"), ("sub-secret", "sub/secret.png"))):
        (media / "catalogue.toml").write_text("version = 1\n" + entry("photo", "photo.png", digest) + entry(vid, file, digest))
        with pytest.raises(CatalogueError) as err:
            load_catalogue(media, tmp_path / "cache", derive=False)
        message = str(err.value)
        assert "\n" not in message, i
        assert f"vectors[1] ({vid}): file {file} resolves outside the vectors folder" in message


# -- names in the catalogue -------------------------------------------------------------


def test_a_name_the_catalogue_cannot_hold_is_skipped_with_a_note(tmp_path: Path) -> None:
    media = tmp_path / "m"
    media.mkdir()
    shutil.copy(PHOTO, media / "photo.png")
    shutil.copy(PHOTO, media / "back\\slash.png")
    notes: list[str] = []
    import_directory(media, notes=notes)
    assert "back\\\\slash.png: skipped, a catalogue path cannot hold a backslash" in notes
    assert [v.id for v in load_catalogue(media, tmp_path / "cache", derive=False)] == ["photo"]


def test_a_failed_import_leaves_the_previous_catalogue_byte_identical(tmp_path: Path) -> None:
    media = tmp_path / "m"
    media.mkdir()
    shutil.copy(PHOTO, media / "photo.png")
    import_directory(media)
    before = (media / "catalogue.toml").read_bytes()
    shutil.copy(PHOTO, media / "second.png")
    with pytest.raises(CatalogueError, match=r"vectors\[1\]\.licence"):
        import_directory(media, licence="")  # an empty licence note: the schema says no
    assert (media / "catalogue.toml").read_bytes() == before
    assert sorted(p.name for p in media.iterdir()) == ["catalogue.toml", "photo.png", "second.png"]  # no temp file


# -- decoding: probe and caps -----------------------------------------------------------


def test_decode_problem_finds_truncation_bombs_and_caps(tmp_path: Path) -> None:
    cat = load_catalogue(ROOT / "test_vectors", tmp_path / "cache", derive=False)
    ok = [v for v in cat.vectors if "hostile" not in v.tags]
    assert [v.id for v in ok if decode_problem(v, Limits())] == []
    assert decode_problem(cat.get("kodim01"), Limits(max_pixels=1000)) == (
        "768x512 = 393216 pixels, over the cap of 1000 (limits.max_pixels)")
    clip = cat.get("sorohan-solo-trumpet")
    assert "samples, over the cap of 1000 (limits.max_samples)" in str(decode_problem(clip, Limits(max_samples=1000)))
    assert "over the cap of 100 bytes per vector file" in str(decode_problem(clip, Limits(max_file_bytes=100)))

    media = tmp_path / "m"
    media.mkdir()
    data = jpeg_bytes()
    (media / "cut.jpg").write_bytes(data[: len(data) // 2])
    png = PHOTO.read_bytes()
    (media / "cut.png").write_bytes(png[: len(png) // 2])
    tone = (0.3 * np.sin(np.arange(22050 * 3) / 10)).astype("float32")
    sf.write(str(media / "tone.flac"), tone, 22050)
    flac = (media / "tone.flac").read_bytes()
    (media / "tone.flac").write_bytes(flac[: len(flac) // 2])
    png_bomb(media / "bomb.png", 20000, 20000)
    import_directory(media)
    failures: list[str] = []  # nothing can be derived from these: each says so, and loading goes on
    loaded = load_catalogue(media, tmp_path / "cache", derive_failures=failures)
    assert {f.split(": ")[1] for f in failures} == {"cut", "cut-png", "tone", "bomb"}
    found = {v.path.name: decode_problem(v, Limits()) for v in loaded if not v.derived}
    for name in ("cut.jpg", "cut.png"):
        assert str(found[name]).startswith("Pillow cannot decode it: OSError: image file is truncated"), name
    assert "libsndfile cannot decode it" in str(found["tone.flac"])
    assert "decompression bomb" in str(found["bomb.png"]) and "400000000 pixels" in str(found["bomb.png"])


def test_profile_limits_default_override_and_include(tmp_path: Path) -> None:
    known = {"metadata.roundtrip"}
    check = '[[checks]]\nid = "metadata.roundtrip"\nlevel = "MUST"\n'
    (tmp_path / "base.toml").write_text(f'name = "base"\ndescription = "d"\n[limits]\nmax_pixels = 1000\n{check}')
    (tmp_path / "top.toml").write_text(f'name = "top"\ndescription = "d"\ninclude = ["base"]\n[limits]\nmax_samples = 5\n{check}')
    (tmp_path / "bad.toml").write_text(f'name = "bad"\ndescription = "d"\n[limits]\nmax_pixels = 0\n{check}')
    assert load_profile(ROOT / "profiles", "default", {*known, *_all_checks()}).limits == Limits()
    assert Limits() == Limits(max_pixels=64_000_000, max_samples=172_800_000, max_file_bytes=256 * 2**20)
    assert load_profile(tmp_path, "top", known).limits == Limits(max_pixels=1000, max_samples=5)
    with pytest.raises(ConfigError, match="limits.max_pixels"):
        load_profile(tmp_path, "bad", known)


def _all_checks() -> set[str]:
    from conformance.discovery import discover

    return set(discover().checks)


# -- runs: the vector is blocked, the vendors are not blamed ----------------------------
