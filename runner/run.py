"""A run from start to scorecard: load, plan, execute, store, report.

The CLI is a thin face over :func:`execute_run` and :func:`render_run`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
import threading
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from runner import METHODOLOGY_VERSION, __version__, gate, reap
from runner.cache import ArtifactStore
from runner.check import Fixtures, Suite
from runner.coverage import unread_files
from runner.errors import HarnessError
from runner.executor import CallTiming, Executor, VendorRuntime, now_iso
from runner.gates import LevelGate, level_gate
from runner.judging import cell_judge
from runner.model import Cell, CellResult, Level, Profile, VendorManifest
from runner.pack_run import plan_for_packs, serve_packs
from runner.packs import check_plan
from runner.paths import ROOT, state_dir
from runner.pki import TestPKI
from runner.plan_digest import plan_digest
from runner.planner import plan
from runner.preflight import preflight
from runner.profiles import load_profile
from runner.progress import OUTCOME_ORDER, Progress
from runner.render import build_bundle, environment, render_run
from runner.shards import select_shard
from runner.store import ResultsStore
from runner.text import printable
from runner.transports import Transport, TransportError, make_transport, placement_of, reaches_loopback
from runner.vectors import Vector, load_attack_strings, load_catalogue
from runner.vendors import availability, code_hash, load_vendors, rule_version, select_vendors

DEFAULT_TIMEOUT_S = 60.0


@dataclass
class RunOptions:
    profile: str = "default"
    vectors_dir: str | None = None
    vendors: list[str] | None = None
    jobs: int = field(default_factory=lambda: os.cpu_count() or 2)
    out: str = "out"
    store: str | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S
    fail_on: str | None = None  # MUST/SHOULD/MAY/never; None = the profile's
    extra_vendor_dirs: list[str] = field(default_factory=list)
    placement: str | None = None  # run every movable vendor in this placement
    shard: str | None = None  # "i/n": only that shard of the plan (runner/shards.py)
    participant: str = "local"  # who this run is, in each step's origin
    signer_keyid: str | None = None  # the key that will sign the bundle (--sign-key), in each own step's origin
    import_packs: list[str] = field(default_factory=list)  # vendors served from packs (runner/packs.py)
    retries: int = 0  # an `error` cell is run again up to this many times (runner/executor.py)
    flaky: list[str] = field(default_factory=list)  # cell ids the history calls flaky: kept out of gates, listed
    executor: str = "local"  # local (threads), dask (--scheduler), dask-local (--workers): runner/dask_executor.py
    scheduler: str | None = None  # a Dask scheduler's address, for executor dask
    workers: int = 2  # worker processes of executor dask-local


@dataclass
class RunSummary:
    run_id: str
    outcomes: dict[str, int]
    cells: int
    failing: int  # cells at or above the fail-on level that failed or errored
    out_dir: Path
    timing: CallTiming
    wall_s: float
    resumed_cells: int = 0
    level_gate: LevelGate = field(default_factory=lambda: LevelGate(None))


def default_store() -> Path:
    return state_dir() / "results.sqlite"


def start_vendors(
    manifests: dict[str, VendorManifest], timeout_s: float, placement: str | None = None, log_dir: Path | None = None,
    served: frozenset[str] = frozenset(),
) -> tuple[dict[str, VendorRuntime], dict[str, dict[str, Any]]]:
    """Start every vendor that can run here, but those ``served`` from packs (never
    started); describe every vendor for the bundle.

    Vendors outside the harness's process (their own processes, containers, endpoints)
    start at once, each in a thread: their start-up is another process's imports or a
    network round trip, so the wall time is the slowest one's, not the sum.  In-process
    vendors import their libraries here, one after the other, meanwhile."""
    info: dict[str, dict[str, Any]] = {}
    wanted: dict[str, str] = {}
    for vid, m in sorted(manifests.items()):
        info[vid] = {
            "id": vid, "name": m.name, "organisation": m.organisation, "version": None,
            "transport": placement_of(m, placement), "role": m.role, "runnable": False, "reason": None,
            "capabilities": [{"operation": c.operation, "media_types": list(c.media_types), "options": dict(c.options)}
                             for c in m.capabilities],
            "retention": m.http.get("retention"), "homepage": m.homepage,
        }
        if vid in served:
            continue
        where = placement_of(m, placement)
        avail = availability(m, where)
        if not avail.runnable:
            info[vid]["reason"] = avail.reason
            continue
        wanted[vid] = where
    started: dict[str, VendorRuntime | str] = {}
    outside = [vid for vid, where in wanted.items() if where != "inproc"]
    pool = ThreadPoolExecutor(max_workers=max(1, min(8, len(outside))), thread_name_prefix="aiii-start")
    futures: dict[str, Future[VendorRuntime | str]] = {}
    try:
        futures = {vid: pool.submit(_start_one, manifests[vid], wanted[vid], timeout_s, log_dir) for vid in outside}
        for vid, where in wanted.items():
            if where == "inproc":
                started[vid] = _start_one(manifests[vid], where, timeout_s, log_dir)
        for vid, future in futures.items():
            started[vid] = future.result()
    except BaseException:  # interrupted while starting: what started so far is stopped
        pool.shutdown(wait=True, cancel_futures=True)
        for vid, future in futures.items():
            if future.done() and not future.cancelled() and future.exception() is None:
                started.setdefault(vid, future.result())
        for got in started.values():
            if isinstance(got, VendorRuntime):
                got.transport.close()
        raise
    pool.shutdown(wait=True)
    runtimes: dict[str, VendorRuntime] = {}
    for vid in wanted:
        got = started[vid]
        if isinstance(got, str):
            info[vid]["reason"] = got
            continue
        info[vid].update(version=got.version, runnable=True)
        runtimes[vid] = got
    return runtimes, info


def _start_one(m: VendorManifest, where: str, timeout_s: float, log_dir: Path | None) -> VendorRuntime | str:
    """One vendor started and asked its version; or why it cannot run (one line)."""
    transport: Transport | None = None
    try:
        transport = make_transport(m, where, log_dir)
        transport.start()
        limits = gate.Limits.from_manifest(m.limits)
        if where == "inproc":
            version = gate.version(rule_version(m) or transport.implementation_version(), limits) or "unknown"
        else:  # the version rule is evaluated where the adapter runs
            version = gate.version(transport.implementation_version(), limits) or "unknown"
    except (TransportError, Exception) as exc:  # noqa: BLE001 - a broken vendor must not stop the run
        if transport is not None:
            transport.close()
        return gate.message(exc if isinstance(exc, TransportError) else f"vendor {m.id}: {exc!r}")
    except BaseException:
        if transport is not None:
            transport.close()
        raise
    return VendorRuntime(m, transport, version, f"{version}+{code_hash(m)}", m.timeout_s or timeout_s, limits,
                         placement=where)


class Run:
    """Everything one run needs, loaded and validated before any cell runs."""

    def __init__(self, opts: RunOptions, suite: Suite, run_id: str | None = None) -> None:
        self.opts = opts
        self.suite = suite
        self.root = ROOT
        self.cache = ArtifactStore(state_dir() / "cache")
        vectors_dir = Path(opts.vectors_dir) if opts.vectors_dir else ROOT / "test_vectors"
        self.user_vectors = opts.vectors_dir is not None
        #: What the plan says once about a user's folder: formats not derived, checks
        #: skipped, files no cell reads.
        self.notes: list[str] = []
        self.profile: Profile = load_profile(ROOT / "profiles", opts.profile, set(suite.checks))
        self.catalogue = load_catalogue(vectors_dir, state_dir() / "cache", limits=self.profile.limits,
                                        derive_failures=self.notes if self.user_vectors else None)
        self.vectors: dict[str, Vector] = {v.id: v for v in self.catalogue.vectors}
        self.all_vendors = load_vendors(ROOT / "vendors", [Path(d) for d in opts.extra_vendor_dirs])
        patterns = opts.vendors or (None if self.profile.vendors == ("*",) else list(self.profile.vendors))
        self.manifests = select_vendors(self.all_vendors, patterns)
        self.pki = TestPKI.create(state_dir() / "pki")
        attacks = load_attack_strings(ROOT / "test_vectors")
        self.fixtures = Fixtures(
            trust_anchor_pem=self.pki.root_pem,
            credentials=lambda vid: self.pki.leaf(vid).as_params(),
            attack_strings=attacks,
            offline=frozenset(v for v, m in self.manifests.items() if not reaches_loopback(placement_of(m, opts.placement))),
        )
        self.cells: list[Cell] = plan(self.profile, self.manifests, self.catalogue, self.fixtures, suite,
                                      restrict_vectors=not self.user_vectors, notes=self.notes)
        if self.user_vectors:
            self.notes += unread_files(self.cells, self.catalogue, self.profile, self.manifests, suite)
        self.vectors = {v.id: v for v in self.catalogue.vectors}  # with the corpora the plan made
        # of the whole plan, before any of it runs: every shard and placement gets the same
        self.plan_digest = plan_digest(self.profile, self.cells, self.vectors, suite, self.pki.fingerprint)
        self.shard = (select_shard(self.cells, opts.shard, suite.checks, self.plan_digest.sha256)
                      if opts.shard is not None else None)
        if self.shard is not None:  # split from the whole plan; this run runs its part
            self.cells = self.shard.cells
        self.run_id = run_id or datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)

    def fail_level(self) -> Level | None:
        if self.opts.fail_on is None:
            return self.profile.fail_on
        return None if self.opts.fail_on == "never" else Level(self.opts.fail_on)


def _preflight(opts: RunOptions) -> None:
    store = Path(opts.store) if opts.store else default_store()
    preflight(state_dir(), Path(opts.out), store, [Path(d) for d in opts.extra_vendor_dirs],
              store_from="--store" if opts.store else "the results store")


def execute_run(opts: RunOptions, suite: Suite, resume: str | None = None, progress: bool = True,
                packs: list[Any] | None = None) -> RunSummary:
    """Run (or resume) a profile with the suite's checks and transforms and write the bundle,
    JUnit, summary and site to ``opts.out``.  ``packs``: verified packs (runner/packs.py)
    whose vendors they serve; each is checked against the plan before anything is stored."""
    started_wall = datetime.now(UTC)
    planned = plan_for_packs(opts, suite, packs or []) if not resume else None
    _preflight(opts)
    store = ResultsStore(Path(opts.store) if opts.store else default_store())
    try:
        if resume:
            record = store.run(resume)
            saved = record["options"]
            opts = RunOptions(**{**saved, "jobs": opts.jobs or saved.get("jobs")})
            if opts.import_packs and not packs:
                raise HarnessError(f"run {resume} imported packs: resume it with the same --import-pack options")
            _preflight(opts)
        run = planned or Run(opts, suite, resume)
        checks = suite.checks
        for note in run.notes:
            print(printable(f"note: {note}"), file=sys.stderr, flush=True)
        for pack in packs or []:  # refused before the run is stored or a vendor started
            check_plan(pack, run.plan_digest.sha256, run.plan_digest.components)
    except BaseException:
        store.close()
        raise
    children_before = reap.children()  # what in-process adapters start is ended after the run
    runtimes: dict[str, VendorRuntime] = {}
    try:
        runtimes, vendor_info = start_vendors(run.manifests, opts.timeout_s, opts.placement,
                                              state_dir() / "logs" / run.run_id, frozenset(p.producer for p in packs or []))
        serve_packs(packs or [], run, vendor_info, runtimes)
        done = store.done_cells(run.run_id) if resume else set()
        if not resume:
            store.create_run(run.run_id, run.profile.name, asdict(opts), now_iso())
        store.set_info(run.run_id, {
            "harness_version": __version__,
            "methodology_version": METHODOLOGY_VERSION,
            "catalogue_sha256": run.catalogue.sha256,
            "plan_digest": run.plan_digest.as_dict(),
            "environment": environment(),
            "vendors": list(vendor_info.values()),
            "checks": [{"id": c.id, "title": checks[c.id].title, "family": checks[c.id].family,
                        "level": c.level.value, "description": checks[c.id].description} for c in run.profile.checks],
            "vectors": [{"id": v.id, "media_type": v.media_type, "sha256": v.sha256, "licence": v.licence,
                         "tags": list(v.tags), "source": v.source} for v in run.vectors.values()],
            **({"shard": run.shard.manifest} if run.shard else {}),
            **({"notes": run.notes} if run.notes else {}),
        })
        todo = [c for c in run.cells if c.id not in done]
        unavailable = {vid: str(e["reason"]) for vid, e in vendor_info.items() if not e["runnable"]}
        executor = Executor(runtimes, run.vectors, run.cache, dict(suite.transforms), opts.jobs, unavailable,
                            suite.transform_version,
                            run.profile.limits, origin={"participant": opts.participant, "run": run.run_id,
                                                       "keyid": opts.signer_keyid}, retries=opts.retries)
        bar = Progress(total=len(run.cells), done=len(done), enabled=progress,
                       counts=Counter(c["outcome"] for c in store.cells(run.run_id)) if resume else None)
        versions = {vid: rt.version for vid, rt in runtimes.items()}
        expectations = [(vid, exp) for vid, m in run.manifests.items() for exp in m.expectations]
        today = date.today().isoformat()
        lock = threading.Lock()
        executor.on_step = lambda cached: _locked(lock, bar.step, cached)

        judge = cell_judge(checks, run.vectors, run.cache, versions, expectations, today, executor.origins)

        def save(result: CellResult) -> None:
            store.record(run.run_id, result)
            with lock:
                bar.update(result.outcome.value)

        status = "interrupted"
        try:
            if opts.executor != "local":  # each worker judges its cells (runner/dask_executor.py)
                from runner.dask_executor import DaskRun, run_on_dask

                run_on_dask(DaskRun(run, suite, versions, expectations, today, unavailable,
                                    {vid: rt.cache_version for vid, rt in runtimes.items()}), todo, save, executor.timing)
            else:
                with contextlib.ExitStack() as sessions:  # the checks' servers, open while cells run
                    for check_id in dict.fromkeys(c.check for c in todo):
                        sessions.enter_context(checks[check_id].session(run.cache.get))
                    executor.run_cells(_locality_order(todo), judge, save,
                                       lambda cell, step: checks[cell.check].expand(cell, step))
            status = "complete"
        finally:
            bar.close()
            store.finish_run(run.run_id, now_iso(), status)
        out_dir = render_run(store, run.run_id, Path(opts.out), run.cache)
        cells = store.cells(run.run_id)
        outcomes = Counter(c["outcome"] for c in cells)
        level = level_gate(cells, run.fail_level(), opts.flaky)
        wall = (datetime.now(UTC) - started_wall).total_seconds()
        return RunSummary(run.run_id, dict(outcomes), len(cells), len(level.failing), out_dir, executor.timing, wall,
                          len(done), level)
    finally:
        for rt in runtimes.values():
            rt.transport.close()
        run.cache.close()
        store.close()
        reap.reap_new_children(children_before)


def _locked(lock: threading.Lock, fn: Any, *args: Any) -> None:
    with lock:
        fn(*args)


def _locality_order(cells: list[Cell]) -> list[Cell]:
    """Cells sharing a vector run close together, so shared steps are reused while hot."""
    return sorted(cells, key=lambda c: (c.vector, c.check, c.producer or "", c.consumer or "", c.variant or ""))


def headline(summary: RunSummary) -> str:
    """The run's outcome counts in one line."""
    counts = ", ".join(f"{summary.outcomes.get(o, 0)} {o}" for o in OUTCOME_ORDER if summary.outcomes.get(o))
    return f"run {summary.run_id}: {summary.cells} cells: {counts}"


def print_summary(summary: RunSummary, stream: Any = sys.stdout, gate_lines: list[str] | None = None) -> None:
    """The headline, what the gates asked for found (runner/gates.py), and last the scorecard's path."""
    print(printable(headline(summary)), file=stream)
    for line in gate_lines or []:
        print(printable(line), file=stream)
    print(printable(f"scorecard: {summary.out_dir / 'site' / 'index.html'}"), file=stream)


__all__ = ["HarnessError", "RunOptions", "RunSummary", "build_bundle", "execute_run", "render_run"]
