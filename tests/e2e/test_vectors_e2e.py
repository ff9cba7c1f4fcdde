"""The vector catalogue: real files, checksums, derivation and importing a user's folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from helpers import ROOT

from runner import derive as deriver
from runner.vector_import import import_directory
from runner.vectors import (
    Catalogue,
    load_catalogue,
)

VECTORS = ROOT / "test_vectors"


# -- the catalogue as shipped -------------------------------------------------------


# -- errors a user sees -------------------------------------------------------------


# -- derivation ---------------------------------------------------------------------


def test_derivation_is_byte_identical_across_caches_and_processes(catalogue: Catalogue, tmp_path: Path) -> None:
    cache_b = tmp_path / "cache-b"
    script = "import sys; from pathlib import Path; from runner.vectors import load_catalogue; load_catalogue(Path(sys.argv[1]), Path(sys.argv[2]))"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", script, str(VECTORS), str(cache_b)], check=True, env=env, cwd=ROOT)
    other = load_catalogue(VECTORS, cache_b)
    derived = [v for v in catalogue.vectors if v.derived]
    assert {v.media_type for v in derived} == {*deriver.IMAGE_TARGETS, *deriver.AUDIO_TARGETS} - {"image/png"}
    for vector in derived:
        twin = other.get(vector.id)
        assert twin.path != vector.path
        assert twin.path.read_bytes() == vector.path.read_bytes(), vector.id
    assert other.sha256 == catalogue.sha256


def test_cache_is_reused_and_safe_for_concurrent_processes(tmp_path: Path) -> None:
    folder = tmp_path / "small"
    (folder / "p").mkdir(parents=True)
    shutil.copy(VECTORS / "images/kodak/kodim12.png", folder / "p/kodim12.png")
    shutil.copy(VECTORS / "audio/sorohan-solo-trumpet.ogg", folder / "p/trumpet.ogg")
    import_directory(folder)  # lists the derived formats: images to JPEG, WebP, TIFF; audio to WAV, MP3, FLAC
    cache = tmp_path / "cache"
    script = "import sys; from pathlib import Path; from runner.vectors import load_catalogue; load_catalogue(Path(sys.argv[1]), Path(sys.argv[2]), workers=1)"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", script, str(folder), str(cache)], env=env) for _ in range(3)]
    assert [p.wait() for p in procs] == [0, 0, 0]
    made = sorted(p.name for p in (cache / "vectors").iterdir())
    assert len(made) == 6 and not any(name.startswith(".") for name in made), made  # no temp files left
    before = {p: p.stat().st_mtime_ns for p in (cache / "vectors").iterdir()}
    cat = load_catalogue(folder, cache)
    assert {p: p.stat().st_mtime_ns for p in (cache / "vectors").iterdir()} == before
    assert {v.id for v in cat.vectors if v.derived} == {"p-kodim12-jpg", "p-kodim12-webp", "p-kodim12-tif",
                                                        "p-trumpet-mp3", "p-trumpet-wav", "p-trumpet-flac"}


# -- importing a user's folder ------------------------------------------------------


# -- attack strings -----------------------------------------------------------------
