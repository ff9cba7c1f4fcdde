"""The history store: every published run, its cells, vendors' versions, plan digests
and origins, on SQLAlchemy Core (SQLite by default, any SQLAlchemy URL for a hosted hub).

It fills from result bundles (whole runs or merged ones, never shards) through
runner/ingest.py, idempotently: a run is keyed by its bundle's sha256 and by its run id,
so the same bundle twice changes nothing.  Each run keeps its labels (profile, times,
harness and methodology versions, plan digest and its parts, signer and keyid), its
scores by the method of reports/score.py, and the whole bundle (zlib-compressed JSON,
with its signature envelope when it had one), so the site, the diffs and the API can be
rebuilt from the history alone (runner/publish.py).

Flakes (:func:`flaky_cells`): a cell is flaky when, in the last K runs of its profile
that hold it under the same plan digest and the same versions of the vendors it
involves as its latest run, its result flipped both ways: from working (``pass``,
``xpass``) to not working (``fail``, ``error``, ``xfail``) and back.  Other outcomes
(``unsupported``, ``blocked``, ``inconclusive``) are skipped, not flips.  Its flip rate
is flips / transitions over that sequence.  A change that came with a new vendor
version or a new plan is not a flake: it starts a new sequence.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.engine import Connection

from reports.score import METHOD, NOT_WORKING, WORKING, families, family_scores, pair_scores, producers_of, vendor_scores

#: The layout of the tables; bump when it changes (kept in the ``meta`` table).
SCHEMA = "aiii-history/1"
#: Bundles are kept compressed: about 10x smaller, and fast to inflate.
_LEVEL = 3
_CHUNK = 5000

metadata = MetaData()
meta = Table("meta", metadata, Column("key", String(64), primary_key=True), Column("value", Text, nullable=False))
runs = Table(
    "runs", metadata,
    Column("run_id", String(128), primary_key=True),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("profile", Text, nullable=False, index=True),
    Column("started", String(40), nullable=False, index=True),  # UTC, sortable (normalised)
    Column("finished", String(40)),
    Column("status", String(20), nullable=False),
    Column("harness_version", Text, nullable=False),
    Column("methodology_version", Text, nullable=False),
    Column("plan_digest", String(64), nullable=False, index=True),
    Column("plan_components", Text, nullable=False),  # JSON: part -> sha256
    Column("signer", Text, nullable=False),  # a vendor id, hub, or "unsigned"
    Column("keyid", String(128)),
    Column("merged", Boolean, nullable=False),
    Column("cells", Integer, nullable=False),
    Column("score_method", String(40), nullable=False),
    Column("scores", Text, nullable=False),  # JSON: families, vendors, pairs (Score.as_dict each)
)
bundles = Table(
    "bundles", metadata,
    Column("sha256", String(64), primary_key=True),
    Column("run_id", String(128), nullable=False, unique=True),
    Column("size", Integer, nullable=False),
    Column("content", LargeBinary, nullable=False),  # zlib of the bundle's bytes, as received
    Column("envelope", LargeBinary),  # zlib of its results.dsse.json, when signed
)
vendors = Table(
    "run_vendors", metadata,
    Column("run_id", String(128), primary_key=True),
    Column("vendor_id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("version", Text),
    Column("transport", Text, nullable=False),
    Column("runnable", Boolean, nullable=False),
)
cells = Table(
    "cells", metadata,
    Column("run_id", String(128), primary_key=True),
    Column("cell_id", String(512), primary_key=True),
    Column("check_id", Text, nullable=False),
    Column("family", String(64), nullable=False),
    Column("level", String(8), nullable=False),
    Column("producer", Text),
    Column("consumer", String(64)),
    Column("outcome", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("versions", Text, nullable=False),  # "a=1.0 b=2.1": the versions of the vendors it involves
    Column("expectation", Text),  # JSON, the declared known issue that matched
)
origins = Table(
    "origins", metadata,
    Column("run_id", String(128), primary_key=True),
    Column("cell_id", String(512), primary_key=True),
    Column("role", String(64), primary_key=True),
    Column("participant", Text, nullable=False),
    Column("origin_run", Text),
    Column("placement", Text, nullable=False),
    Column("keyid", String(128)),
    Column("verified", Boolean, nullable=False),
)
TABLES = (meta, runs, bundles, vendors, cells, origins)


def utc(stamp: str | None) -> str | None:
    """An ISO 8601 time as sortable UTC text (``2026-11-03T10:05:00.000000Z``)."""
    if stamp is None:
        return None
    when = datetime.fromisoformat(stamp)
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class RunRecord:
    """One stored run's labels and scores."""

    run_id: str
    sha256: str
    profile: str
    started: str
    finished: str | None
    status: str
    harness_version: str
    methodology_version: str
    plan_digest: str
    plan_components: dict[str, str]
    signer: str
    keyid: str | None
    merged: bool
    cells: int
    score_method: str
    scores: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """The API's form (api/runs.json)."""
        return {"run_id": self.run_id, "sha256": self.sha256, "profile": self.profile, "started": self.started,
                "finished": self.finished, "status": self.status, "harness_version": self.harness_version,
                "methodology_version": self.methodology_version, "plan_digest": self.plan_digest,
                "signer": self.signer, "keyid": self.keyid, "merged": self.merged, "cells": self.cells,
                "score_method": self.score_method, "family_scores": self.scores["families"]}


def _record(row: Any) -> RunRecord:
    m = row._mapping
    return RunRecord(m["run_id"], m["sha256"], m["profile"], m["started"], m["finished"], m["status"],
                     m["harness_version"], m["methodology_version"], m["plan_digest"], json.loads(m["plan_components"]),
                     m["signer"], m["keyid"], bool(m["merged"]), m["cells"], m["score_method"], json.loads(m["scores"]))


def scores_of(bundle: Mapping[str, Any]) -> dict[str, Any]:
    """A run's scores by :data:`reports.score.METHOD`: per family, per vendor and family,
    per (producer, consumer) pair and family."""
    return {
        "method": METHOD,
        "families": {f: s.as_dict() for f, s in sorted(family_scores(bundle).items())},
        "vendors": {v: {f: s.as_dict() for f, s in sorted(fs.items())} for v, fs in sorted(vendor_scores(bundle).items())},
        "pairs": {f: [[p, c, s.as_dict()] for (p, c), s in sorted(ps.items())] for f, ps in sorted(pair_scores(bundle).items())},
    }


def cell_vendors(cell: Mapping[str, Any]) -> list[str]:
    """The vendors a cell involves: its producer's (a chain gives each) and its consumer."""
    return sorted({*producers_of(cell), cell.get("consumer") or "—"} - {"—"})


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers (the hub's site) do not block an ingest
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class History:
    """The history store at ``target``: a file path (SQLite) or any SQLAlchemy URL."""

    def __init__(self, target: str | Path) -> None:
        text = str(target)
        if "://" in text:
            self.url = text
        else:
            Path(text).parent.mkdir(parents=True, exist_ok=True)
            self.url = f"sqlite:///{Path(text).resolve()}"
        from sqlalchemy.exc import SQLAlchemyError

        from runner.errors import HarnessError

        try:
            self.engine: Engine = create_engine(self.url)
            if self.engine.dialect.name == "sqlite":
                event.listen(self.engine, "connect", _sqlite_pragmas)
            metadata.create_all(self.engine)
        except SQLAlchemyError as exc:
            raise HarnessError(f"history {target}: cannot be opened ({str(exc).splitlines()[0][:200]})") from None
        with self.engine.begin() as conn:
            found = conn.execute(select(meta.c.value).where(meta.c.key == "schema")).scalar()
            if found is None:
                conn.execute(insert(meta).values(key="schema", value=SCHEMA))
            elif found != SCHEMA:
                raise HarnessError(f"{self.url}: a history store of layout {found}, not {SCHEMA}")

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ---------------------------------------------------------------------------

    def runs(self, profile: str | None = None) -> list[RunRecord]:
        """Stored runs, oldest first (by start time, then run id)."""
        query = select(runs).order_by(runs.c.started, runs.c.run_id)
        if profile is not None:
            query = query.where(runs.c.profile == profile)
        with self.engine.connect() as conn:
            return [_record(row) for row in conn.execute(query)]

    def run(self, run_id: str) -> RunRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(runs).where(runs.c.run_id == run_id)).first()
        return None if row is None else _record(row)

    def by_sha256(self, sha256: str) -> RunRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(runs).where(runs.c.sha256 == sha256)).first()
        return None if row is None else _record(row)

    def latest(self, profile: str) -> RunRecord | None:
        """The run of ``profile`` that started last."""
        query = select(runs).where(runs.c.profile == profile).order_by(runs.c.started.desc(), runs.c.run_id.desc())
        with self.engine.connect() as conn:
            row = conn.execute(query.limit(1)).first()
        return None if row is None else _record(row)

    def raw_bundle(self, run_id: str) -> bytes:
        """The bundle's bytes exactly as they were received (their sha256 is the run's)."""
        with self.engine.connect() as conn:
            content = conn.execute(select(bundles.c.content).where(bundles.c.run_id == run_id)).scalar_one()
        return zlib.decompress(content)

    def bundle(self, run_id: str) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.raw_bundle(run_id))
        return result

    def envelope(self, run_id: str) -> bytes | None:
        """The bundle's signature envelope (results.dsse.json), or None when it was unsigned."""
        with self.engine.connect() as conn:
            value = conn.execute(select(bundles.c.envelope).where(bundles.c.run_id == run_id)).scalar_one()
        return None if value is None else zlib.decompress(value)

    def vendors_of(self, run_id: str) -> dict[str, dict[str, Any]]:
        """Vendor id -> name, version, transport, runnable, for one run."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(vendors).where(vendors.c.run_id == run_id).order_by(vendors.c.vendor_id))
            return {r.vendor_id: {"name": r.name, "version": r.version, "transport": r.transport,
                                  "runnable": bool(r.runnable)} for r in rows}

    def vendor_history(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Vendor id -> run id -> its name, version, transport, runnable in that run."""
        out: dict[str, dict[str, dict[str, Any]]] = {}
        with self.engine.connect() as conn:
            for r in conn.execute(select(vendors)):
                out.setdefault(r.vendor_id, {})[r.run_id] = {"name": r.name, "version": r.version,
                                                             "transport": r.transport, "runnable": bool(r.runnable)}
        return out

    def cell_rows(self, run_id: str) -> Iterator[Any]:
        """One run's cells, by id: check, family, level, producer, consumer, outcome, reason,
        versions, expectation."""
        query = select(cells).where(cells.c.run_id == run_id).order_by(cells.c.cell_id)
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                yield row._mapping

    def expectations(self, vendor_id: str | None = None) -> dict[str, list[dict[str, Any]]]:
        """Vendor -> the distinct known issues (expectations) its cells matched, with the
        last run each was seen in; over the whole history."""
        query = (select(cells.c.producer, cells.c.consumer, cells.c.expectation, func.max(runs.c.started).label("seen"),
                        func.count().label("cells"))
                 .join(runs, runs.c.run_id == cells.c.run_id)
                 .where(cells.c.expectation.is_not(None))
                 .group_by(cells.c.producer, cells.c.consumer, cells.c.expectation))
        out: dict[str, dict[str, dict[str, Any]]] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                for vendor in cell_vendors({"producer": row.producer, "consumer": row.consumer}):
                    if vendor_id is not None and vendor != vendor_id:
                        continue
                    entry = out.setdefault(vendor, {}).setdefault(row.expectation, {
                        **json.loads(row.expectation), "cells": 0, "last_seen": row.seen})
                    entry["cells"] += row.cells
                    entry["last_seen"] = max(entry["last_seen"], row.seen)
        return {v: sorted(e.values(), key=lambda x: (x["expires"], x["check"])) for v, e in sorted(out.items())}

    def counts(self) -> dict[str, int]:
        """Rows per table (what an ingest changed, at a glance)."""
        with self.engine.connect() as conn:
            return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in TABLES}

    # -- writing ---------------------------------------------------------------------------

    def add_run(self, bundle: Mapping[str, Any], raw: bytes, sha256: str, signer: str, keyid: str | None,
                envelope: bytes | None = None) -> RunRecord:
        """Store one verified bundle (runner/ingest.py decides whether it may be stored),
        in one transaction: nothing is half-written."""
        run = bundle["run"]
        record = RunRecord(
            run_id=run["id"], sha256=sha256, profile=run["profile"], started=utc(run["started"]) or "",
            finished=utc(run.get("finished")), status=run["status"], harness_version=run["harness_version"],
            methodology_version=run["methodology_version"], plan_digest=run["plan_digest"]["sha256"],
            plan_components=dict(run["plan_digest"]["components"]), signer=signer, keyid=keyid,
            merged="merged_from" in run, cells=len(bundle["cells"]), score_method=METHOD, scores=scores_of(bundle))
        with self.engine.begin() as conn:
            conn.execute(insert(runs).values(
                **{k: v for k, v in record.__dict__.items() if k not in ("plan_components", "scores")},
                plan_components=json.dumps(record.plan_components, sort_keys=True),
                scores=json.dumps(record.scores, sort_keys=True, ensure_ascii=False)))
            conn.execute(insert(bundles).values(sha256=sha256, run_id=record.run_id, size=len(raw),
                                                content=zlib.compress(raw, _LEVEL),
                                                envelope=None if envelope is None else zlib.compress(envelope, _LEVEL)))
            versions = {v["id"]: v.get("version") for v in bundle["vendors"]}
            if bundle["vendors"]:
                conn.execute(insert(vendors), [
                    {"run_id": record.run_id, "vendor_id": v["id"], "name": v["name"], "version": v.get("version"),
                     "transport": v["transport"], "runnable": bool(v["runnable"])} for v in bundle["vendors"]])
            self._add_cells(conn, record.run_id, bundle, versions)
        return record

    def _add_cells(self, conn: Connection, run_id: str, bundle: Mapping[str, Any], versions: Mapping[str, Any]) -> None:
        family_of = families(bundle)
        rows: list[dict[str, Any]] = []
        steps: list[dict[str, Any]] = []
        for cell in bundle["cells"]:
            expectation = cell.get("expectation")
            rows.append({
                "run_id": run_id, "cell_id": cell["id"], "check_id": cell["check"],
                "family": family_of.get(cell["check"], cell["check"].split(".")[0]), "level": cell["level"],
                "producer": cell.get("producer"), "consumer": cell.get("consumer"), "outcome": cell["outcome"],
                "reason": cell["reason"],
                "versions": " ".join(f"{v}={versions.get(v)}" for v in cell_vendors(cell)),
                "expectation": None if expectation is None else json.dumps(expectation, sort_keys=True)})
            for role, origin in (cell.get("origin") or {}).items():
                steps.append({"run_id": run_id, "cell_id": cell["id"], "role": role,
                              "participant": origin["participant"], "origin_run": origin.get("run"),
                              "placement": origin["placement"], "keyid": origin.get("keyid"),
                              "verified": bool(origin.get("verified"))})
        for table, batch in ((cells, rows), (origins, steps)):
            for start in range(0, len(batch), _CHUNK):
                conn.execute(insert(table), batch[start:start + _CHUNK])


# -- flakes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlakeInfo:
    """A flaky cell: its results flipped both ways under one plan and one set of versions."""

    cell_id: str
    check: str
    vendors: tuple[str, ...]
    plan_digest: str
    versions: str
    runs: tuple[str, ...]  # the runs of the sequence, oldest first
    outcomes: tuple[str, ...]  # their outcomes
    flips: int
    transitions: int

    @property
    def rate(self) -> float:
        """Flips per transition between consecutive judged results."""
        return self.flips / self.transitions if self.transitions else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"cell_id": self.cell_id, "check": self.check, "vendors": list(self.vendors),
                "plan_digest": self.plan_digest, "versions": self.versions, "runs": list(self.runs),
                "outcomes": list(self.outcomes), "flips": self.flips, "transitions": self.transitions,
                "flip_rate": round(self.rate, 4)}


def _flake(cell_id: str, sequence: list[tuple[str, str, str, str, str]]) -> FlakeInfo | None:
    """``sequence``: (run, plan digest, versions, outcome, check), oldest first."""
    _, plan, versions, _, check = sequence[-1]
    same = [(run, outcome) for run, p, v, outcome, _ in sequence if p == plan and v == versions]
    judged = [(run, outcome in WORKING) for run, outcome in same if outcome in WORKING | NOT_WORKING]
    ups = downs = 0
    for (_, was), (_, now) in zip(judged, judged[1:], strict=False):
        if now and not was:
            ups += 1
        elif was and not now:
            downs += 1
    if not (ups and downs):
        return None
    vendors = tuple(sorted({v.split("=", 1)[0] for v in versions.split()}))
    return FlakeInfo(cell_id, check, vendors, plan, versions, tuple(r for r, _ in same), tuple(o for _, o in same),
                     ups + downs, len(judged) - 1)


def flaky_cells(history: History, profile: str | None = None, k: int = 10) -> dict[str, FlakeInfo]:
    """Cell id -> :class:`FlakeInfo` for every flaky cell in the last ``k`` runs of each
    profile (``profile``: only that one); see the module docstring for the rule."""
    wanted: Iterable[str] = [profile] if profile is not None else sorted({r.profile for r in history.runs()})
    out: dict[str, FlakeInfo] = {}
    for name in wanted:
        window = history.runs(name)[-k:]
        if len(window) < 3:  # both ways needs three results at least
            continue
        order = {r.run_id: i for i, r in enumerate(window)}
        plan = {r.run_id: r.plan_digest for r in window}
        in_window = cells.c.run_id.in_(list(order))
        changing = (select(cells.c.cell_id).where(in_window).group_by(cells.c.cell_id)
                    .having(func.count(func.distinct(cells.c.outcome)) > 1))
        query = (select(cells.c.cell_id, cells.c.run_id, cells.c.versions, cells.c.outcome, cells.c.check_id)
                 .where(in_window, cells.c.cell_id.in_(changing)))
        sequences: dict[str, list[tuple[str, str, str, str, str]]] = {}
        with history.engine.connect() as conn:
            for row in conn.execute(query):
                sequences.setdefault(row.cell_id, []).append(
                    (row.run_id, plan[row.run_id], row.versions, row.outcome, row.check_id))
        for cell_id, sequence in sorted(sequences.items()):
            sequence.sort(key=lambda item: order[item[0]])
            info = _flake(cell_id, sequence)
            if info is not None:
                out[cell_id] = info
    return out
