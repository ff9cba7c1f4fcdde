"""A user's own folder (`aiii vectors import DIR`, then `aiii run --vectors DIR`): derived
formats made for imported media, text files imported, checks that read the catalogue's own
data skipped with one note, files no cell reads named with why, and a broken file that
cannot be derived noted, never stopping the plan.  Whole runs of every profile on such a
folder are in tests/e2e/test_user_corpus_e2e.py."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from foreign_media import FILES, make_foreign_folder
from hostile_files import PHOTO

from conformance.discovery import discover
from runner.run import Run, RunOptions
from runner.vector_import import import_directory
from runner.vectors import load_catalogue


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    made = make_foreign_folder(tmp_path_factory.mktemp("own") / "media")
    import_directory(made)
    return made


def _plan(folder: Path, profile: str) -> Run:
    return Run(RunOptions(profile=profile, vectors_dir=str(folder)), discover())


def test_import_finds_every_type_and_derives_the_catalogues_formats(folder: Path) -> None:
    doc = tomllib.loads((folder / "catalogue.toml").read_text())
    by_file = {e["file"]: e for e in doc["vectors"]}
    assert {f: e["media_type"] for f, e in by_file.items()} == FILES
    assert by_file["sound/ferry.ogg"]["derive"] == ["audio/wav", "audio/flac", "audio/mpeg"]
    # the folder's own PNG, WebP and TIFF are those formats of the photo: not derived again from the JPEG
    assert by_file["photos/harbour.jpg"]["derive"] == []
    assert "derive" not in by_file["notes/field-notes.txt"]
    assert "photos/harbour.jpg: not derived as image/png, image/webp, image/tiff" in doc_comments(folder)


def doc_comments(folder: Path) -> str:
    return "\n".join(line for line in (folder / "catalogue.toml").read_text().splitlines() if line.startswith("#"))


def test_a_txt_file_that_is_not_utf8_text_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "ok.txt").write_text("plain words\n", encoding="utf-8")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9\n".encode("latin-1"))
    (tmp_path / "nul.txt").write_bytes(b"a\0b")
    notes: list[str] = []
    import_directory(tmp_path, notes=notes)
    doc = tomllib.loads((tmp_path / "catalogue.toml").read_text())
    assert [(e["file"], e["media_type"]) for e in doc["vectors"]] == [("ok.txt", "text/plain")]
    assert "latin1.txt: skipped, not a media type the harness knows" in notes


def test_a_run_of_the_identifiers_profile_skips_conformance_checks_with_one_note(aiii_home: Path, folder: Path) -> None:
    run = _plan(folder, "identifiers")
    skipped = [n for n in run.notes if "read the catalogue's own data" in n]
    assert len(skipped) == 1 and "identifiers.iscc_conformance (the ISO 24138 conformance data)" in skipped[0]
    assert {c.check for c in run.cells} >= {"identifiers.iscc_agreement", "identifiers.in_metadata"}
    assert not {c.check for c in run.cells} & {"identifiers.iscc_conformance", "identifiers.registry"}
    # the Ogg clip is read in its own format and in the formats derived from it
    ogg = {v.id for v in run.catalogue.vectors if v.path.name == "ferry.ogg"}
    derived = {v.id: v.media_type for v in run.catalogue.vectors if v.source in ogg}
    assert sorted(derived.values()) == ["audio/flac", "audio/mpeg", "audio/wav"]
    assert {c.vector for c in run.cells} & set(derived)
    assert "no cell reads notes/field-notes.txt (text/plain): no check of profile identifiers selects text/plain" in run.notes


def test_the_metadata_profile_reads_the_ogg_clip_through_its_derived_formats(aiii_home: Path, folder: Path) -> None:
    run = _plan(folder, "metadata")
    ogg = next(v for v in run.catalogue.vectors if v.path.name == "ferry.ogg")
    read = {c.vector for c in run.cells}
    assert ogg.id not in read  # no metadata writer declares Ogg Vorbis ...
    assert {f"{ogg.id}-wav", f"{ogg.id}-mp3", f"{ogg.id}-flac"} <= read  # ... but its WAV, MP3 and FLAC are written
    assert not [n for n in run.notes if "ferry.ogg" in n]  # read, so not named


def test_a_file_that_cannot_be_derived_is_noted_and_the_rest_plans(aiii_home: Path, tmp_path: Path) -> None:
    (tmp_path / "good.png").write_bytes(PHOTO.read_bytes())
    (tmp_path / "cut.png").write_bytes(PHOTO.read_bytes()[:300])  # a PNG signature, then nothing decodable
    import_directory(tmp_path)
    failures: list[str] = []
    catalogue = load_catalogue(tmp_path, aiii_home / "cache", derive_failures=failures)
    assert {v.id for v in catalogue.vectors} >= {"good", "good-jpg", "cut"}
    assert len(failures) == 3 and all(": cut: deriving image/" in f and "\n" not in f for f in failures)
    run = _plan(tmp_path, "metadata")
    assert any(": cut: deriving image/jpeg failed" in n for n in run.notes) and run.cells
