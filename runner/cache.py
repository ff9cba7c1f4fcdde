"""The content-addressed artifact store and the step cache.

Blobs live in ``<dir>/blobs/<sha256>``; a small SQLite index maps a step key
(vendor, vendor version, operation, input sha256, params hash) to what the step gave,
so a re-run repeats no adapter call whose inputs have not changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from runner import gate
from runner.model import ErrorKind, StepResult


def step_key(who: str, version: str, operation: str, input_sha256: str, params_sha256: str) -> str:
    raw = "\x1f".join((who, version, operation, input_sha256, params_sha256))
    return hashlib.sha256(raw.encode()).hexdigest()


class ArtifactStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.blobs = directory / "blobs"
        self.blobs.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(directory / "steps.sqlite", check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        # No fsync per step (a cold default run remembers ~3,800 steps: 3.5 s of commits under
        # the lock).  In WAL mode a crash of the process loses nothing; a power cut may lose the
        # last steps, which only costs computing them again, as a pruned blob does.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS steps_v2 (key TEXT PRIMARY KEY, asset_sha256 TEXT, media_type TEXT,"
            " report TEXT, duration_s REAL, error TEXT, error_kind TEXT)"
        )
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(steps_v2)")}
        if "notes" not in columns:  # added for the gate's notes (#11); older caches gain it
            self._db.execute("ALTER TABLE steps_v2 ADD COLUMN notes TEXT")
        self._db.commit()

    def put(self, data: bytes) -> str:
        """Store bytes, returning their sha256 (atomic, idempotent)."""
        sha = hashlib.sha256(data).hexdigest()
        path = self.blobs / sha
        if not path.exists():
            fd, tmp = tempfile.mkstemp(dir=self.blobs, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        return sha

    def put_file(self, path: Path) -> str:
        return self.put(path.read_bytes())

    def path(self, sha256: str) -> Path:
        return self.blobs / sha256

    def get(self, sha256: str) -> bytes:
        return (self.blobs / sha256).read_bytes()

    def has(self, sha256: str) -> bool:
        return (self.blobs / sha256).exists()

    def lookup(self, key: str) -> StepResult | None:
        with self._lock:
            row = self._db.execute(
                "SELECT asset_sha256, media_type, report, duration_s, error, error_kind, notes FROM steps_v2 WHERE key = ?",
                (key,),
            ).fetchone()
        if row is None:
            return None
        sha, media_type, report, duration, error, error_kind, notes = row
        if sha is not None and not self.has(sha):
            return None  # the blob was pruned: recompute
        return StepResult(
            ok=error_kind is None,
            error=error,
            error_kind=ErrorKind(error_kind) if error_kind is not None else None,
            asset_sha256=sha,
            media_type=media_type,
            report=json.loads(report) if report is not None else None,
            duration_s=duration,
            cached=True,
            notes=json.loads(notes) if notes else [],
        )

    def remember(self, key: str, result: StepResult) -> None:
        """Cache a step's answer: a result, or the vendor's own clean refusal.

        Crashes, timeouts and protocol violations are never cached: a retry may succeed.
        """
        if not result.ok and result.error_kind not in (ErrorKind.CLEAN, ErrorKind.UNSUPPORTED):
            return
        report: Any = gate.dumps(result.report) if result.report is not None else None
        row = (key, result.asset_sha256, result.media_type, report, result.duration_s,
               gate.scrub(result.error) if not result.ok else None, result.error_kind.value if not result.ok and result.error_kind else None,
               gate.dumps(result.notes) if result.notes else None)
        try:
            with self._lock:
                self._db.execute("INSERT OR REPLACE INTO steps_v2 VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
                self._db.commit()
        except sqlite3.Error as exc:  # a cache that cannot keep a step only costs a recomputation
            print(f"aiii: the step cache could not keep a step ({exc}); it will be computed again next time",
                  file=sys.stderr)

    def close(self) -> None:
        with self._lock:
            self._db.close()
