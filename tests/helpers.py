"""Helpers the end-to-end tests share: the real CLI in a subprocess, and a store's cells."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent


def aiii(home: Path, *args: str, timeout: float = 900, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``aiii ARGS`` with a private state folder, as a user would (``env``: more variables)."""
    env = {**os.environ, **(env or {}), "AIII_HOME": str(home), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "runner.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=timeout)


def cells(store: Path) -> dict[str, dict[str, Any]]:
    """Every cell record in a results store, by cell id."""
    with sqlite3.connect(store) as db:
        return {cid: json.loads(rec) for cid, rec in db.execute("SELECT cell_id, record FROM cells")}


#: Runs its arguments as a child and prints the child's peak RSS (KiB) as its last line.
_PEAK_RSS = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:]).returncode\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    "sys.exit(code)\n"
)


def aiii_peak_rss(home: Path, *args: str, timeout: float = 900) -> tuple[subprocess.CompletedProcess[str], int]:
    """:func:`aiii`, and the peak resident set size of that one process in KiB (measured
    by a fresh parent, so no earlier child of the caller counts)."""
    env = {**os.environ, "AIII_HOME": str(home), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", _PEAK_RSS, sys.executable, "-m", "runner.cli", *args],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=timeout)
    out, _, peak = proc.stdout.rstrip("\n").rpartition("\n")
    proc.stdout = out
    return proc, int(peak)
