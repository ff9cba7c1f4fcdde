"""Runs a plan's cells on a Dask cluster: ``aiii run --executor dask|dask-local``.

The client plans as a local run does, then hands the plan to the cluster as two kinds of
task.  **Cell tasks** (:func:`plan_tasks`) are groups of cells: cells that share producer
steps go together (runner/shards.py), and a worker runs a group with an :class:`Executor`
of its own, whose memo makes each step the group needs once.  **Step tasks**
(:func:`shared_steps`) are the planned steps that cells of more than one group need (a
signer's manifest read by every validator, a watermarked photo sent through every channel):
each is one task, keyed by the run and its step cache key (:class:`PlanKeys`), which the cell tasks
that need it depend on, so Dask runs it once across the cluster and moves its result (and
its asset's bytes) to whichever workers need it.

A worker runs its tasks with the client's checks (the suite travels with the run:
runner/ takes checks as arguments), over its own state folder (``AIII_HOME`` of the
worker's process: its step cache, logs and vendor environments), with the vendors it
serves started once per worker by :class:`VendorsPlugin` in their placements (so a
vendor's ``max_concurrency`` holds per worker) and closed at its teardown.  It judges the
cells there with the judge a local run uses (runner/judging.py) and returns the results
with the bytes of every artifact they cite and the step-cache entries of the vendor steps
it computed, by sha256: the client's artifact store and step cache end up as a local
run's would.  The input vectors reach the workers as tasks of their own, keyed by sha256.

The client writes each cell to the results store as its task's result arrives, once: a
worker killed mid-run loses its tasks, Dask runs them again elsewhere, and a cell the
client has already written is not written again; ``--resume`` works as it does locally.
Tasks that involve a vendor in the ``docker`` placement ask for the ``docker`` resource,
so only workers started with ``--resources docker=N`` get them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from distributed import Client, Future, LocalCluster, WorkerPlugin, as_completed, get_worker

from runner.cache import ArtifactStore
from runner.check import Suite
from runner.dask_plan import (
    DOCKER,
    TASKS_PER_WORKER,
    CellTask,
    PlanKeys,
    StepTask,
    cell_inputs,
    chain,
    plan_tasks,
    shared_steps,
)
from runner.errors import HarnessError
from runner.executor import CallTiming, Executor, VendorRuntime, now_iso
from runner.judging import cell_judge
from runner.model import (
    Cell,
    CellResult,
    Expectation,
    Limits,
    Outcome,
    Step,
    StepResult,
    Vector,
    VendorManifest,
)
from runner.paths import state_dir
from runner.transports import placement_of

if TYPE_CHECKING:
    from distributed import Worker

    from runner.run import Run

# -- the worker's side -----------------------------------------------------------------

@dataclass(frozen=True)
class RunContext:
    """What every worker needs of the run, sent once with the plugin."""

    run_id: str
    suite: Suite  # the client's checks and transforms (pickled mostly by reference: the worker imports them)
    manifests: dict[str, VendorManifest]
    placement: str | None
    timeout_s: float
    versions: dict[str, str]  # the client's: a worker whose vendor reports another is not used
    cache_versions: dict[str, str]  # the client's (version and adapter code hash): the same holds
    unavailable: dict[str, str]
    vectors: dict[str, Vector]
    limits: Limits
    origin: dict[str, Any]
    retries: int
    jobs: int
    expectations: list[tuple[str, Expectation]]
    today: str


@dataclass
class TaskOutput:
    """A task's cells and what the client keeps of their steps."""

    results: list[CellResult]
    blobs: dict[str, bytes]  # sha256 -> bytes of every artifact the results cite or the steps made
    steps: list[tuple[str, StepResult]]  # step-cache entries (key, result) of the vendor steps
    timing: CallTiming


class _WorkerRun:
    """One run's state on one worker: its suite, step cache, vendors and checks' sessions."""

    def __init__(self, ctx: RunContext, has_docker: bool) -> None:
        from runner.run import start_vendors

        self.ctx = ctx
        self.suite = ctx.suite
        self.cache = ArtifactStore(state_dir() / "cache")
        self.unavailable = dict(ctx.unavailable)
        serves = {vid: m for vid, m in ctx.manifests.items() if vid not in self.unavailable
                  and (has_docker or placement_of(m, ctx.placement) != DOCKER)}
        self.runtimes: dict[str, VendorRuntime] = {}
        runtimes, info = start_vendors(serves, ctx.timeout_s, ctx.placement, state_dir() / "logs" / ctx.run_id)
        for vid, entry in info.items():
            rt = runtimes.get(vid)
            if rt is None:
                self.unavailable[vid] = str(entry["reason"])
            elif rt.version != ctx.versions.get(vid):  # the outcome must not depend on the worker
                rt.transport.close()
                self.unavailable[vid] = f"version {rt.version} on this worker, {ctx.versions.get(vid)} on the client"
            elif rt.cache_version != ctx.cache_versions.get(vid):
                rt.transport.close()
                self.unavailable[vid] = "its adapter's code on this worker differs from the client's"
            else:
                self.runtimes[vid] = rt
        self.vectors: dict[str, Vector] = {}
        self._sessions = contextlib.ExitStack()
        self._open: set[str] = set()
        self._lock = threading.Lock()

    def prepare(self, checks: set[str], data: Mapping[str, bytes]) -> dict[str, Vector]:
        """The run's vectors here (``data``: bytes by vector id, kept by sha256 in this
        worker's store) with the checks' sessions open."""
        with self._lock:
            for vid, raw in data.items():
                if vid not in self.vectors:
                    sha = self.cache.put(raw)
                    self.vectors[vid] = replace(self.ctx.vectors[vid], path=self.cache.path(sha))
            for check in sorted(checks - self._open):
                self._sessions.enter_context(self.suite.checks[check].session(self.cache.get))
                self._open.add(check)
            return dict(self.vectors)

    def close(self) -> None:
        with self._lock:
            self._sessions.close()
            for rt in self.runtimes.values():
                rt.transport.close()
            self.cache.close()


class VendorsPlugin(WorkerPlugin):
    """Starts, on each worker, the vendors it serves (at its first task of the run) and
    closes them at teardown (the run's end, or the worker's)."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.name = f"aiii-{ctx.run_id}"

    def setup(self, worker: Worker) -> None:
        self._has_docker = worker.state.total_resources.get(DOCKER, 0) > 0
        self._lock = threading.Lock()
        self._run: _WorkerRun | None = None

    def teardown(self, worker: Worker) -> None:
        if self._run is not None:
            self._run.close()

    def run(self) -> _WorkerRun:
        with self._lock:
            if self._run is None:
                self._run = _WorkerRun(self.ctx, self._has_docker)
            return self._run


class _Noting(ArtifactStore):
    """The worker's store as one task sees it: the step keys it looks up or keeps are noted."""

    def __init__(self, store: ArtifactStore) -> None:  # the same folder, index and lock
        self.__dict__.update(store.__dict__)
        self.keys: set[str] = set()

    def lookup(self, key: str) -> StepResult | None:
        self.keys.add(key)
        return super().lookup(key)

    def remember(self, key: str, result: StepResult) -> None:
        self.keys.add(key)
        super().remember(key, result)


def _vector_bytes(data: bytes) -> bytes:
    """An input vector's bytes as a task of its own (keyed by sha256), so workers fetch
    them from each other and a lost copy is made again."""
    return data


@dataclass
class StepOutput:
    """A step task's result: the step's result, where and under which key it was
    computed, and what the client keeps of it (as :class:`TaskOutput`)."""

    step: Step
    result: StepResult
    key: str | None  # its step cache key (vendor steps)
    origin: dict[str, Any] | None
    blobs: dict[str, bytes]
    steps: list[tuple[str, StepResult]]
    timing: CallTiming


def _executor(here: _WorkerRun, vectors: dict[str, Vector], store: ArtifactStore,
              shared: Sequence[StepOutput] = ()) -> Executor:
    """An executor over this worker's vendors with the steps ``shared`` by other tasks
    taken as computed (their assets' bytes put into this worker's store)."""
    ctx, suite = here.ctx, here.suite
    executor = Executor(here.runtimes, vectors, store, dict(suite.transforms), ctx.jobs, here.unavailable,
                        suite.transform_version, ctx.limits, origin=ctx.origin, retries=ctx.retries)
    for out in shared:
        for data in out.blobs.values():
            here.cache.put(data)
        executor.adopt(out.step, out.result, out.key, out.origin)
    return executor


def _kept(here: _WorkerRun, store: _Noting, shas: set[str]) -> tuple[dict[str, bytes], list[tuple[str, StepResult]]]:
    """The bytes of ``shas`` and of the assets of the step-cache entries ``store`` saw, and those entries."""
    steps: list[tuple[str, StepResult]] = []
    for key in sorted(store.keys):
        kept = here.cache.lookup(key)  # what the step cache keeps: answers and clean refusals
        if kept is not None:
            steps.append((key, kept))
            if kept.asset_sha256:
                shas.add(kept.asset_sha256)
    return {sha: here.cache.get(sha) for sha in sorted(shas)}, steps


def run_step_task(plugin: str, step: Step, data: Mapping[str, bytes], source: StepOutput | None) -> StepOutput:
    """Compute one shared ``step`` on this worker (``source``: its source step's output,
    when that is a step task too; ``data``: the input vector's bytes, when it starts one)."""
    here: _WorkerRun = get_worker().plugins[plugin].run()  # type: ignore[attr-defined]
    store = _Noting(here.cache)
    executor = _executor(here, here.prepare(set(), data), store, [source] if source else [])
    meter = executor.measured()
    result = executor.step(step)
    meter.finish(executor.timing)
    blobs, steps = _kept(here, store, {result.asset_sha256} if result.asset_sha256 else set())
    return StepOutput(step, result, executor.keys.get(step), executor.origins.get(step), blobs, steps, executor.timing)


def run_cell_task(plugin: str, cells: Sequence[Cell], data: Mapping[str, bytes],
                  shared: Sequence[StepOutput] = ()) -> TaskOutput:
    """Run and judge ``cells`` on this worker (the task the client submits)."""
    return run_cells_here(get_worker().plugins[plugin].run(), cells, data, shared)  # type: ignore[attr-defined]


def run_cells_here(here: _WorkerRun, cells: Sequence[Cell], data: Mapping[str, bytes],
                   shared: Sequence[StepOutput] = ()) -> TaskOutput:
    """Run and judge ``cells`` with the run's state on this worker ``here``, the steps
    ``shared`` by other tasks taken as computed."""
    ctx, suite = here.ctx, here.suite
    vectors = here.prepare({c.check for c in cells}, data)
    store = _Noting(here.cache)
    executor = _executor(here, vectors, store, shared)
    judge = cell_judge(suite.checks, vectors, here.cache, ctx.versions, ctx.expectations, ctx.today, executor.origins)
    results: list[CellResult] = []
    executor.run_cells(sorted(cells, key=lambda c: c.id), judge, results.append,
                       lambda cell, step: suite.checks[cell.check].expand(cell, step))
    cited = {a["sha256"] for r in results for role, a in r.artifacts.items() if role != "input"}
    blobs, steps = _kept(here, store, cited)
    return TaskOutput(results, blobs, steps, executor.timing)


# -- the client's side -----------------------------------------------------------------

@dataclass
class DaskRun:
    """What the client hands the cluster: the planned run and what its judge needs."""

    run: Run
    suite: Suite
    versions: dict[str, str]
    expectations: list[tuple[str, Expectation]]
    today: str
    unavailable: dict[str, str] = dataclasses.field(default_factory=dict)
    cache_versions: dict[str, str] = dataclasses.field(default_factory=dict)  # version + adapter code hash


@contextlib.contextmanager
def _client(opts: Any, docker: bool) -> Iterator[Client]:
    if opts.executor == "dask":
        if not opts.scheduler:
            raise HarnessError("--executor dask needs --scheduler ADDRESS (a running dask scheduler)")
        try:
            client = Client(opts.scheduler, timeout=30)
        except (OSError, TimeoutError) as exc:
            raise HarnessError(f"--scheduler {opts.scheduler}: no Dask scheduler answers there ({exc})") from None
        with client:
            yield client
        return
    with LocalCluster(n_workers=opts.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, silence_logs=logging.ERROR,
                      resources={DOCKER: 1} if docker else None) as cluster, Client(cluster) as client:
        yield client


def run_on_dask(dr: DaskRun, todo: Sequence[Cell], save: Callable[[CellResult], None], timing: CallTiming) -> None:
    """Run ``todo`` on the cluster ``dr.run.opts`` names; ``save`` gets each cell once."""
    run, opts = dr.run, dr.run.opts
    if not todo:  # a resumed run that had finished: no cluster needed
        return
    docker_vendors = {vid for vid, m in run.manifests.items()
                      if placement_of(m, opts.placement) == DOCKER and vid in dr.versions}
    ctx = RunContext(run.run_id, dr.suite, run.manifests, opts.placement, opts.timeout_s, dr.versions, dr.cache_versions,
                     dr.unavailable,
                     run.vectors, run.profile.limits, {"participant": opts.participant, "run": run.run_id,
                                                      "keyid": opts.signer_keyid},
                     opts.retries, 1, dr.expectations, dr.today)
    with _client(opts, bool(docker_vendors)) as client:
        try:
            client.wait_for_workers(1, timeout=120)
        except TimeoutError:
            raise HarnessError(f"no Dask worker joined the scheduler at {client.scheduler.address} in 120 s") from None
        workers = client.scheduler_info()["workers"].values()
        tasks = plan_tasks(run.run_id, todo, dr.suite.checks, docker_vendors, TASKS_PER_WORKER * len(workers))
        if any(t.resources for t in tasks) and not any(w.get("resources", {}).get(DOCKER) for w in workers):
            raise HarnessError(f"cells with containerised vendors ({', '.join(sorted(docker_vendors))}) need a worker "
                               f"with the {DOCKER} resource: start one with `dask worker --resources {DOCKER}=1`")
        plugin = VendorsPlugin(ctx)
        client.register_plugin(plugin, name=plugin.name)
        try:
            known = set(run.vectors)
            inputs = {c.id: cell_inputs(c, known) for c in todo}
            vectors = {}
            for vid in sorted(set().union(*inputs.values())):
                data = run.vectors[vid].read_bytes()
                run.cache.put(data)  # the cells cite their input, as a local run's do
                vectors[vid] = client.submit(_vector_bytes, data, key=f"aiii-vector-{run.vectors[vid].sha256}")
            keys = PlanKeys({vid: v.sha256 for vid, v in run.vectors.items()}, dr.cache_versions,
                            dr.suite.transform_version, run.run_id)
            steps: dict[Step, Future] = {}
            futures: dict[Future, StepTask | CellTask] = {}
            for st in shared_steps(tasks, keys, docker_vendors):  # sources first
                source = st.step.source
                data_of = {source: vectors[source]} if isinstance(source, str) and source in vectors else {}
                steps[st.step] = client.submit(run_step_task, plugin.name, st.step, data_of,
                                               steps[source] if isinstance(source, Step) else None,
                                               key=f"aiii-step-{run.run_id}-{st.key}",
                                               resources=dict(st.resources) or None, pure=False)
                futures[steps[st.step]] = st
            for t in tasks:
                needs = sorted({s for c in t.cells if not c.preset for top in c.steps.values() for s in chain(top)
                                if s in steps}, key=keys)
                futures[client.submit(run_cell_task, plugin.name, list(t.cells),
                                      {vid: vectors[vid] for vid in sorted(set().union(*(inputs[c.id] for c in t.cells)))},
                                      [steps[s] for s in needs],
                                      key=t.key, resources=dict(t.resources) or None, pure=False)] = t
            written: set[str] = set()
            for future in as_completed(futures):
                task = futures[future]
                if isinstance(task, StepTask):  # its cells' tasks carry its failure, if any, to the cells
                    with contextlib.suppress(Exception):
                        _keep(run.cache, future.result(), timing)
                    future.release()
                    continue
                try:
                    out: TaskOutput = future.result()
                except Exception as exc:  # noqa: BLE001 - a task the cluster gave up on is its cells' error
                    out = TaskOutput([_lost(c, exc) for c in task.cells], {}, [], CallTiming())
                _keep(run.cache, out, timing)
                for result in out.results:
                    if result.cell.id not in written:  # a recomputed task's cells are written once
                        written.add(result.cell.id)
                        save(result)
                future.release()
        finally:
            with contextlib.suppress(Exception):  # a cluster gone away must not hide the run's own error
                client.unregister_worker_plugin(plugin.name)


def _keep(cache: ArtifactStore, out: TaskOutput | StepOutput, timing: CallTiming) -> None:
    """A task's artifacts and step-cache entries into the client's store; its call counts into ``timing``."""
    for data in out.blobs.values():
        cache.put(data)
    for key, result in out.steps:
        cache.remember(key, result)
    for f in dataclasses.fields(timing):
        mine, theirs = getattr(timing, f.name), getattr(out.timing, f.name, None)
        if isinstance(mine, Counter) and isinstance(theirs, Counter):
            mine.update(theirs)
        elif isinstance(mine, dict) and isinstance(theirs, dict):  # CPU seconds by placement
            for k, v in theirs.items():
                mine[k] = mine.get(k, 0.0) + v
        elif isinstance(mine, int | float) and isinstance(theirs, int | float):
            setattr(timing, f.name, mine + theirs)


def _lost(cell: Cell, exc: BaseException) -> CellResult:
    from runner import gate

    return CellResult(cell, Outcome.ERROR, gate.message(f"harness error on the Dask cluster: {exc!r}"),
                      {}, {}, None, 0.0, now_iso())
