"""Peak memory of a run over decompression bombs and sparse files, next to ordinary media.

    python benchmarks/hostile_memory.py [--profile metadata] [--vendors exiftool,exiv2,xmp-reference] [--root DIR]

Builds two folders in a temporary directory, the same bytes every time: one of hostile
vectors (1-bit PNGs of zeros claiming 400 and 100 megapixels, 40 minutes of FLAC
silence, a JPEG and a WAV extended by holes to 700 and 300 MiB, all a few hundred KB on
disk) and one of ordinary media copied from test_vectors/ (two photos, two clips).  Each
folder is imported and run with ``aiii run --vectors DIR`` in a fresh process with a
private AIII_HOME; a parent process of its own measures that one run's peak resident set
size (``getrusage(RUSAGE_CHILDREN).ru_maxrss``), so nothing else counts.  Printed: per
folder the files, their apparent and on-disk size, cells and outcomes, wall time and
peak RSS; the ratio hostile/ordinary; and whether the hostile run stayed under 1 GB.
``--root`` runs another checkout of the harness (to measure before a change).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT_BYTES = 2**30
ORDINARY = ("images/kodak/kodim01.png", "images/kodak/kodim03.png", "audio/sorohan-solo-trumpet.ogg",
            "audio/brahms-hungarian-dance-5.ogg")
#: Runs its arguments as a child and prints the child's peak RSS (KiB) as its last line.
PEAK_RSS = ("import resource, subprocess, sys\n"
            "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
            "sys.exit(code)\n")


def png_bomb(path: Path, width: int, height: int) -> None:
    """A 1-bit greyscale PNG of zeros: tens of KB that decode to width x height pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    comp = zlib.compressobj(9)
    row = b"\0" * (1 + (width + 7) // 8)
    idat = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def flac_silence(path: Path, minutes: int) -> None:
    """Stereo 48 kHz silence: a few hundred KB of FLAC over the 30-minute sample cap."""
    import numpy as np
    import soundfile as sf

    minute = np.zeros((48000 * 60, 2), dtype="int16")
    with sf.SoundFile(str(path), "w", 48000, 2, "PCM_16", format="FLAC") as out:
        for _ in range(minutes):
            out.write(minute)


def sparse(path: Path, head: bytes, size: int) -> None:
    """``head`` followed by a hole up to ``size`` bytes (almost nothing on disk)."""
    path.write_bytes(head)
    os.truncate(path, size)


def build_hostile(folder: Path) -> None:
    from PIL import Image

    folder.mkdir(parents=True)
    png_bomb(folder / "bomb-400mp.png", 20000, 20000)  # Pillow itself refuses it (over 2 x its limit)
    png_bomb(folder / "bomb-100mp.png", 10000, 10000)  # under Pillow's refusal, over the 64 MP cap
    flac_silence(folder / "silence-40min.flac", 40)
    buf = io.BytesIO()
    with Image.open(ROOT / "test_vectors" / ORDINARY[0]) as im:
        im.save(buf, "JPEG", quality=90)
    sparse(folder / "sparse-700mb.jpg", buf.getvalue(), 700 * 2**20)
    wav_header = b"RIFF" + struct.pack("<I", 300 * 2**20 - 8) + b"WAVEfmt " + struct.pack(
        "<IHHIIHH", 16, 1, 2, 48000, 48000 * 4, 4, 16) + b"data" + struct.pack("<I", 300 * 2**20 - 44)
    sparse(folder / "sparse-300mb.wav", wav_header, 300 * 2**20)


def build_ordinary(folder: Path) -> None:
    folder.mkdir(parents=True)
    for rel in ORDINARY:
        shutil.copy(ROOT / "test_vectors" / rel, folder / Path(rel).name)


def run(root: Path, home: Path, folder: Path, args: argparse.Namespace) -> dict[str, object]:
    env = {**os.environ, "AIII_HOME": str(home), "PYTHONPATH": str(root)}
    cli = [sys.executable, "-m", "runner.cli"]
    subprocess.run([*cli, "vectors", "import", str(folder)], check=True, cwd=root, env=env, timeout=600,
                   stdout=subprocess.DEVNULL)
    store = home / "results.sqlite"
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", PEAK_RSS, *cli, "run", "--vectors", str(folder), "--profile", args.profile,
                           "--vendors", args.vendors, "--out", str(home / "out"), "--store", str(store), "-q",
                           "--fail-on", "never"],
                          cwd=root, env=env, timeout=3600, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"run over {folder.name} failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    with sqlite3.connect(store) as db:
        outcomes = Counter(json.loads(rec)["outcome"] for (rec,) in db.execute("SELECT record FROM cells"))
    files = [p for p in folder.iterdir() if p.name != "catalogue.toml"]
    return {
        "folder": folder.name, "files": len(files),
        "apparent_mib": sum(p.stat().st_size for p in files) / 2**20,
        "disk_mib": sum(p.stat().st_blocks * 512 for p in files) / 2**20,
        "cells": sum(outcomes.values()), "outcomes": ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items())),
        "wall_s": wall, "peak_mib": int(proc.stdout.strip().splitlines()[-1]) / 1024,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="metadata")
    parser.add_argument("--vendors", default="exiftool,exiv2,xmp-reference")
    parser.add_argument("--root", type=Path, default=ROOT, help="the harness checkout to run (default: this one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aiii-hostile-") as tmp:
        base = Path(tmp)
        build_hostile(base / "hostile")
        build_ordinary(base / "ordinary")
        rows = [run(args.root.resolve(), base / f"home-{name}", base / name, args) for name in ("ordinary", "hostile")]
    print(f"harness: {args.root.resolve()}; profile {args.profile}; vendors {args.vendors}")
    print(f"{'folder':<9} {'files':>5} {'apparent MiB':>12} {'disk MiB':>9} {'cells':>6} {'wall s':>7} {'peak RSS MiB':>13}  outcomes")
    for r in rows:
        print(f"{r['folder']:<9} {r['files']:>5} {r['apparent_mib']:>12.1f} {r['disk_mib']:>9.2f} {r['cells']:>6} "
              f"{r['wall_s']:>7.1f} {r['peak_mib']:>13.0f}  {r['outcomes']}")
    ordinary, hostile = (float(str(r["peak_mib"])) for r in rows)
    print(f"peak RSS ratio hostile/ordinary: {hostile / ordinary:.2f}")
    under = hostile * 2**20 < LIMIT_BYTES
    print(f"hostile run under 1 GB: {'yes' if under else 'NO'} ({hostile:.0f} MiB)")
    return 0 if under else 1


if __name__ == "__main__":
    sys.exit(main())
