"""The results store: one SQLite row per cell, written as soon as the cell is known.

A run that is killed mid-way keeps every finished cell; ``aiii run --resume RUN_ID``
re-plans the same run and executes only the cells that have no row yet.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import sys
import threading
from pathlib import Path
from typing import Any

from runner import gate
from runner.errors import HarnessError
from runner.model import CellResult

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    profile TEXT NOT NULL,
    options TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT,
    status TEXT NOT NULL,
    info TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS cells (
    run_id TEXT NOT NULL REFERENCES runs(id),
    cell_id TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (run_id, cell_id)
);
"""


#: Characters of a cell's reason kept in its record.
REASON_CHARS = 4000
#: Characters of one string of a cell's measurements (which may quote what a vendor
#: answered): a big answer within the gate's limits must not be copied whole into every
#: report; the full answer stays in the cell's artifact.
MEASUREMENT_CHARS = 16 * 1024


def _loaded(text: str) -> dict[str, Any]:
    """A stored record, made safe again: a store written before the gate may hold NaN."""
    return gate.scrub(json.loads(text), gate.WRITE_CHARS)  # type: ignore[no-any-return]


class ResultsStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        #: ids of cells that could not be written at all (reported at the end of a run)
        self.unsaved: list[str] = []
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HarnessError(f"{path}: cannot make its folder ({exc.strerror or type(exc).__name__})") from None
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
            # Damaged pages are found here, not as a traceback half-way through a run.
            problem = self._db.execute("PRAGMA quick_check(1)").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise HarnessError(f"{path}: not a usable results store: {exc}") from None
        if problem != "ok":
            self._db.close()
            problem = " ".join(str(problem).split())
            raise HarnessError(f"{path}: the results store is damaged ({problem[:300]}); restore it from a copy "
                               "or move it away to start a new one")

    def create_run(self, run_id: str, profile: str, options: dict[str, Any], started: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO runs (id, profile, options, started, status) VALUES (?, ?, ?, ?, 'running')",
                (run_id, profile, gate.dumps(options), started),
            )
            self._db.commit()

    def run(self, run_id: str) -> dict[str, Any]:
        with self._lock:
            row = self._db.execute(
                "SELECT id, profile, options, started, finished, status, info FROM runs WHERE id = ?", (run_id,)
            ).fetchone()
        if row is None:
            raise HarnessError(f"{self.path}: no run {run_id!r} (see `aiii runs`)")
        keys = ("id", "profile", "options", "started", "finished", "status", "info")
        out = dict(zip(keys, row, strict=True))
        out["options"] = gate.scrub(json.loads(out["options"]), gate.WRITE_CHARS)
        out["info"] = gate.scrub(json.loads(out["info"]), gate.WRITE_CHARS)
        return out

    def runs(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT r.id, r.profile, r.started, r.finished, r.status, COUNT(c.cell_id)"
                " FROM runs r LEFT JOIN cells c ON c.run_id = r.id GROUP BY r.id ORDER BY r.started"
            ).fetchall()
        keys = ("id", "profile", "started", "finished", "status", "cells")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def set_info(self, run_id: str, info: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute("UPDATE runs SET info = ? WHERE id = ?", (gate.dumps(info), run_id))
            self._db.commit()

    def finish_run(self, run_id: str, finished: str, status: str) -> None:
        with self._lock:
            self._db.execute("UPDATE runs SET finished = ?, status = ? WHERE id = ?", (finished, status, run_id))
            self._db.commit()

    def done_cells(self, run_id: str) -> set[str]:
        with self._lock:
            rows = self._db.execute("SELECT cell_id FROM cells WHERE run_id = ?", (run_id,)).fetchall()
        return {r[0] for r in rows}

    def record(self, run_id: str, result: CellResult) -> None:
        """Write one finished cell and commit at once (durable across SIGKILL).

        Whatever a cell carries, its record is written: text is made valid and bounded
        (:func:`runner.gate.dumps`), and a record the store still refuses is replaced by
        an ``error`` record saying why.  A store that cannot write at all is reported
        on stderr; the run goes on.
        """
        cell = result.cell
        record = {
            "id": cell.id,
            "check": cell.check,
            "level": cell.level.value,
            "producer": cell.producer,
            "consumer": cell.consumer,
            "vector": cell.vector,
            "channel": cell.channel,
            "variant": cell.variant,
            "outcome": result.outcome.value,
            "reason": gate.scrub(result.reason, REASON_CHARS),
            "measurements": gate.scrub(result.measurements, MEASUREMENT_CHARS),
            "artifacts": result.artifacts,
            "expectation": result.expectation,
            "duration_s": round(result.duration_s, 4),
            "finished": result.finished,
            **({"origin": result.origin} if result.origin else {}),
            **({"attempts": result.attempts, "attempt_log": [
                {"outcome": a["outcome"], "reason": gate.scrub(a["reason"], REASON_CHARS),
                 "duration_s": round(a["duration_s"], 4)} for a in result.attempt_log]} if result.attempts > 1 else {}),
        }
        try:
            self._write(run_id, cell.id, gate.dumps(record))
            return
        except Exception as exc:  # noqa: BLE001 - the fallback below keeps the cell
            problem = gate.message(f"the results store could not keep this cell's record: {exc!r}")
        fallback = {**record, "outcome": "error", "reason": problem, "measurements": {}, "artifacts": {}}
        try:
            self._write(run_id, cell.id, gate.dumps(gate.scrub(fallback)))
        except Exception as exc:  # noqa: BLE001 - a store failure must not stop the run
            self.unsaved.append(cell.id)
            print(f"aiii: {self.path}: cell {gate.message(cell.id)} could not be stored: {gate.message(repr(exc))}",
                  file=sys.stderr)

    def _write(self, run_id: str, cell_id: str, text: str) -> None:
        with self._lock:
            try:
                self._db.execute("INSERT OR REPLACE INTO cells (run_id, cell_id, record) VALUES (?, ?, ?)",
                                 (run_id, cell_id, text))
                self._db.commit()
            except Exception:
                with contextlib.suppress(sqlite3.Error):
                    self._db.rollback()
                raise

    def cells(self, run_id: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT record FROM cells WHERE run_id = ? ORDER BY cell_id", (run_id,)
            ).fetchall()
        return [_loaded(r[0]) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
