"""Checks made before a run starts, so a run never fails at its end for a reason known at
its start: every folder it writes to must take a file, every folder it reads must exist.

Each problem is one :class:`~runner.errors.HarnessError` line naming the folder and the
option or variable that chose it.  The loaders (vendor manifests, profiles, the results
store) make their own checks of what they read.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from runner.errors import ConfigError, HarnessError


def writable_folder(folder: Path, what: str) -> None:
    """Create ``folder`` if needed and write (then remove) a probe file in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".aiii-probe-", dir=folder)
        try:
            os.write(fd, b"probe")
        finally:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(probe)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise HarnessError(f"{what} {folder}: cannot write there ({reason})") from None


def vendor_folders(folders: Iterable[Path]) -> None:
    """Every ``--vendor-dir`` must be an existing folder (a typo must not drop vendors silently)."""
    for folder in folders:
        if not folder.exists():
            raise ConfigError(f"--vendor-dir {folder}: no such folder")
        if not folder.is_dir():
            raise ConfigError(f"--vendor-dir {folder}: not a folder")


def store_file(store: Path, what: str) -> None:
    """The results store's folder takes files, and the store, if there, is a file."""
    if store.exists() and not store.is_file():
        raise HarnessError(f"{what} {store}: not a file")
    writable_folder(store.parent, f"{what} {store}: its folder")


def preflight(state: Path, out: Path, store: Path, vendor_dirs: Iterable[Path], state_from: str = "AIII_HOME",
              store_from: str = "--store") -> None:
    """Every check :func:`runner.run.execute_run` makes before it opens the store."""
    vendor_folders(vendor_dirs)
    writable_folder(state, f"{state_from} (the state folder)")
    store_file(store, store_from)
    writable_folder(out, "--out")
