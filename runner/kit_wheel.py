"""The adapter kit (``kit/``, distribution ``aiii-adapter-kit``) as a wheel for the
environments the harness makes: process placements' virtual environments and docker
images install this wheel, never a copy of the kit's source files.

The wheel is built once per content of the kit's folder (``pip wheel`` with build
isolation: building it needs setuptools, which the harness itself does not) and kept
under the state folder by that hash.  The same hash keys the environments and images
that hold the kit, so a kit change rebuilds them.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from runner.errors import HarnessError
from runner.paths import ROOT, state_dir

KIT_DIR = ROOT / "kit"
KIT_DISTRIBUTION = "aiii-adapter-kit"
BUILD_TIMEOUT_S = 600


class KitError(HarnessError):
    """The adapter kit's wheel could not be built."""


def kit_sources(folder: Path = KIT_DIR) -> list[Path]:
    """The files the kit's wheel is built from (no caches, no build leftovers)."""
    skip = {"__pycache__", "build", "dist"}
    return sorted(p for p in folder.rglob("*") if p.is_file() and not skip & set(p.relative_to(folder).parts)
                  and not p.name.endswith((".pyc", ".pyo")) and ".egg-info" not in str(p.relative_to(folder)))


def kit_hash(folder: Path = KIT_DIR) -> str:
    """A hash of the kit folder's files, names and contents."""
    digest = hashlib.sha256()
    for path in kit_sources(folder):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def kit_wheel(folder: Path = KIT_DIR) -> Path:
    """The kit's wheel, built from ``folder`` on first use and cached by :func:`kit_hash`."""
    target = state_dir() / "kit-wheels" / kit_hash(folder)[:16]
    found = sorted(target.glob("*.whl"))
    if found:
        return found[0]
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f"{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder across processes
        found = sorted(target.glob("*.whl"))
        if found:
            return found[0]
        with tempfile.TemporaryDirectory(prefix=".kit-build-", dir=target.parent) as tmp:
            source = Path(tmp) / "src"  # a clean copy: the build writes into its source tree
            shutil.copytree(folder, source, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "build", "dist",
                                                                          "*.egg-info"))
            out = Path(tmp) / "wheel"
            cmd = [sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps",
                   "--wheel-dir", str(out), str(source)]
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                raise KitError(f"building the adapter kit's wheel did not finish within {BUILD_TIMEOUT_S} s") from None
            wheels = sorted(out.glob("*.whl"))
            if proc.returncode != 0 or len(wheels) != 1:
                tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
                raise KitError(f"building the adapter kit's wheel failed (exit {proc.returncode}): {tail}")
            staged = Path(tmp) / "done"
            staged.mkdir()
            shutil.copyfile(wheels[0], staged / wheels[0].name)
            staged.rename(target)
    return sorted(target.glob("*.whl"))[0]
