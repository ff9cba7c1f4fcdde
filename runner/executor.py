"""Runs cells: shared, cached steps with bounded concurrency and a deadline per call.

A step (one adapter call or one harness transform) that several cells need runs once:
the first cell to need it computes it, the others wait for its result.  Every step's
answer is validated against the protocol schema before a check sees it.  An adapter's
exception, timeout or garbage answer becomes a failed step; the check's cell turns
that into ``error`` (the failing vendor's own cell) or ``blocked`` (cells downstream).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from aiii_kit import AdapterError, Asset, Unsupported
from aiii_kit.protocol import OPERATIONS
from aiii_kit.vocab import NO_MEDIA_TYPE

from runner import gate
from runner.cache import ArtifactStore, step_key
from runner.check import Transform
from runner.cpu import CpuMeter
from runner.limits import set_pillow_limit
from runner.model import (
    NO_INPUT,
    Cell,
    CellResult,
    ErrorKind,
    Limits,
    Outcome,
    Step,
    StepKind,
    StepResult,
    VendorManifest,
    Verdict,
    params_hash,
)
from runner.schema import first_error
from runner.transports import Transport, TransportError
from runner.vectors import Vector, decode_problem

Judge = Callable[[Cell, dict[str, StepResult], Vector], Verdict]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class VendorRuntime:
    """A started vendor: its manifest, transport and the version that keys its cache."""

    manifest: VendorManifest
    transport: Transport
    version: str  # implementation version as reported
    cache_version: str  # version + adapter code hash
    timeout_s: float
    limits: gate.Limits = gate.DEFAULT_LIMITS
    placement: str = "inproc"
    #: a verified pack (runner/packs.py) that answers for the vendor instead of its adapter
    pack: Any = None


@dataclass
class CallTiming:
    """Totals of adapter calls and the time spent inside them (benchmarks, tests).

    The CPU figures (runner/cpu.py says how each is measured) add up: the harness
    process's CPU holds the in-process adapters' and the transforms' CPU, the rest of it
    is the harness's own; adapter processes, containers and other child processes are
    outside it."""

    #: wall time inside adapter calls, summed over threads: the slot waits are in it
    adapter_s: float = 0.0
    calls: int = 0
    cached: int = 0
    #: "vendor operation" -> calls made (not served from the cache)
    by_operation: Counter[str] = field(default_factory=Counter)
    #: wall time spent waiting for a vendor's concurrency slot, summed over threads
    slot_wait_s: float = 0.0
    #: placement -> CPU seconds inside adapter calls (inproc: the calling threads')
    adapter_cpu_s: dict[str, float] = field(default_factory=dict)
    #: CPU of the harness's other child processes (what in-process adapters and transforms start)
    children_cpu_s: float = 0.0
    #: thread CPU of the harness's transforms, and how many it computed (not from the cache)
    transform_cpu_s: float = 0.0
    transforms: int = 0
    #: the harness process's CPU while the cells ran, all its threads
    process_cpu_s: float = 0.0

    @property
    def necessary_cpu_s(self) -> float:
        """The work the matrix needs: adapters (every placement), their helpers, transforms."""
        return sum(self.adapter_cpu_s.values()) + self.children_cpu_s + self.transform_cpu_s

    @property
    def overhead_cpu_s(self) -> float:
        """The harness process's own CPU while the cells ran: scheduling, caching, checks, the store."""
        return self.process_cpu_s - self.adapter_cpu_s.get("inproc", 0.0) - self.transform_cpu_s


class Executor:
    def __init__(
        self,
        vendors: dict[str, VendorRuntime],
        vectors: dict[str, Vector],
        artifacts: ArtifactStore,
        transforms: dict[str, Transform],
        jobs: int,
        unavailable: dict[str, str] | None = None,
        transform_version: Callable[[str], str | None] | None = None,
        limits: Limits | None = None,
        origin: dict[str, Any] | None = None,
        retries: int = 0,
    ) -> None:
        """``transform_version`` gives what a transform's output depends on besides its
        input and params (library versions, code); transforms it knows are cached across
        runs like vendor steps, the others only within a run.  ``limits`` bound what an
        input vector may cost to decode (the profile's; Pillow's bomb limit follows).
        ``origin`` (participant, run, and the keyid that will sign its bundle) names this
        run in each step's origin.  ``retries``: a cell whose outcome is ``error`` is run
        again up to this many times; its steps that failed are computed again, the others
        are reused, and every attempt is kept in the cell."""
        self.vendors = vendors
        self.vectors = vectors
        self.artifacts = artifacts
        self.transforms = transforms
        self.jobs = max(1, jobs)
        self.unavailable = unavailable or {}
        self.transform_version = transform_version or (lambda _name: None)
        self.limits = limits or Limits()
        self.retries = max(0, retries)
        set_pillow_limit(self.limits)
        self.timing = CallTiming()
        self._memo: dict[Step, Future[StepResult]] = {}
        self._memo_lock = threading.Lock()
        self._vector_sha: dict[str, str] = {}
        self._origin = {"participant": "local", "run": None, "keyid": None, **(origin or {})}
        #: per step this run computed: who computed it, where, the key that signed it
        self.origins: dict[Step, dict[str, Any]] = {}
        #: per vendor step: its cache key (what a pack files it under)
        self.keys: dict[Step, str] = {}
        #: called after each step this run computes or takes from the cache (progress)
        self.on_step: Callable[[bool], None] | None = None

    # -- steps -------------------------------------------------------------------------

    def step(self, step: Step) -> StepResult:
        """The result of a step, computing it once per run however many cells need it."""
        with self._memo_lock:
            future = self._memo.get(step)
            owner = future is None
            if owner:
                future = Future()
                self._memo[step] = future
        assert future is not None
        if owner:
            try:
                future.set_result(self._compute(step))
            except BaseException as exc:  # noqa: BLE001 - never leave waiters hanging
                future.set_result(StepResult(ok=False, error=gate.message(f"harness error in {step.label}: {exc!r}"),
                                             error_kind=ErrorKind.ERROR))
            if self.on_step is not None:
                self.on_step(future.result().cached)
        return future.result()

    def adopt(self, step: Step, result: StepResult, key: str | None = None,
              origin: dict[str, Any] | None = None) -> None:
        """Take ``step``'s result as computed elsewhere (another worker's task): the cells
        of this executor that need it use it as if this run had computed it; the bytes of
        its asset must be in this executor's store already."""
        future: Future[StepResult] = Future()
        future.set_result(result)
        with self._memo_lock:
            self._memo[step] = future
            if key is not None:
                self.keys[step] = key
            if origin is not None:
                self.origins[step] = origin

    def measured(self) -> CpuMeter:
        """A CPU meter over this executor's vendors (finish it into :attr:`timing`)."""
        return CpuMeter.start({vid: (rt.placement, rt.transport) for vid, rt in self.vendors.items()})

    def _source(self, step: Step) -> tuple[Asset | None, str | None, StepResult | None]:
        """The input asset of a step and its sha256, or the failed upstream result."""
        if step.source == NO_INPUT:
            return Asset(b"", NO_MEDIA_TYPE), self._empty_sha(), None
        if isinstance(step.source, str):
            vector = self.vectors[step.source]
            # the vector's own problem, found before its bytes are read or a vendor sees them
            problem = decode_problem(vector, self.limits)
            if problem is not None:
                return None, None, StepResult(ok=False, error=f"input vector {vector.id} cannot be decoded: {problem}",
                                              error_kind=ErrorKind.UPSTREAM)
            data = vector.read_bytes()
            if step.source not in self._vector_sha:
                self._vector_sha[step.source] = self.artifacts.put(data)
            return Asset(data, vector.media_type), self._vector_sha[step.source], None
        parent = self.step(step.source)
        if not parent.ok:
            return None, None, parent
        assert parent.asset_sha256 and parent.media_type, f"{step.source.label} produced no asset"
        return Asset(self.artifacts.get(parent.asset_sha256), parent.media_type), parent.asset_sha256, None

    def _empty_sha(self) -> str:
        if NO_INPUT not in self._vector_sha:
            self._vector_sha[NO_INPUT] = self.artifacts.put(b"")
        return self._vector_sha[NO_INPUT]

    def _compute(self, step: Step) -> StepResult:
        asset, input_sha, failed = self._source(step)
        if failed is not None and isinstance(step.source, str):
            return failed  # the input vector's own problem, in its own words
        if failed is not None:  # unsupported and absent (not in a pack) stay what they are downstream
            return StepResult(
                ok=False,
                error=f"upstream {_label(step.source)} failed: {failed.error}",
                error_kind=failed.error_kind if failed.error_kind in (ErrorKind.UNSUPPORTED, ErrorKind.ABSENT)
                else ErrorKind.UPSTREAM,
            )
        assert asset is not None and input_sha is not None
        params = step.params
        if step.kind == StepKind.TRANSFORM:
            self.origins[step] = {**self._origin, "placement": "harness", "verified": None}
            version = self.transform_version(step.operation) if step.operation in self.transforms else None
            if version is None:
                return self._transform(step, asset, params)
            key = step_key("harness", version, step.operation, input_sha, params_hash(params))
            cached = self.artifacts.lookup(key)
            if cached is not None:
                with self._memo_lock:
                    self.timing.cached += 1
                return cached
            result = self._transform(step, asset, params)
            self.artifacts.remember(key, result)
            return result
        runtime = self.vendors.get(step.vendor or "")
        if runtime is None:
            why = self.unavailable.get(step.vendor or "", "not selected for this run")
            return StepResult(ok=False, error=f"vendor {step.vendor} cannot run: {why}", error_kind=ErrorKind.ERROR)
        key = step_key(runtime.manifest.id, runtime.cache_version, step.operation, input_sha, params_hash(params))
        self.keys[step] = key
        if runtime.pack is not None:  # the pack's answer, never the implementation's (nor this cache's)
            self.origins[step] = runtime.pack.origin(key)
            return self._from_pack(runtime, key)
        self.origins[step] = {**self._origin, "placement": runtime.placement, "verified": None}
        cached = self.artifacts.lookup(key)
        if cached is not None:
            with self._memo_lock:
                self.timing.cached += 1
            return cached
        result = self._call(runtime, step.operation, asset, params)
        self.artifacts.remember(key, result)
        return result

    def _from_pack(self, runtime: VendorRuntime, key: str) -> StepResult:
        """A step served from a verified pack, checked like an adapter's answer."""
        result, data = runtime.pack.answer(key)
        if data is not None:
            self.artifacts.put(data)  # its sha256 was verified with the pack
        elif result.report is not None:
            problem = first_error(f"aiii:protocol/v1/{runtime.pack.steps[key]['operation']}.result", result.report)
            if problem:
                return StepResult(ok=False, error=f"{runtime.manifest.id} (pack): answer violates the protocol schema at "
                                  f"{gate.message(problem)}", error_kind=ErrorKind.ERROR)
        return replace(result, cached=True)

    def _transform(self, step: Step, asset: Asset, params: dict[str, Any]) -> StepResult:
        fn = self.transforms.get(step.operation)
        if fn is None:
            return StepResult(ok=False, error=f"unknown transform {step.operation}", error_kind=ErrorKind.ERROR)
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            out = fn(asset, params)
        except Unsupported as exc:
            return StepResult(ok=False, error=gate.message(f"{step.operation}: {exc}"), error_kind=ErrorKind.UNSUPPORTED)
        except Exception as exc:  # noqa: BLE001 - a transform failure is this cell's error
            return StepResult(ok=False, error=gate.message(f"transform {step.operation} failed: {exc}"), error_kind=ErrorKind.ERROR)
        finally:
            with self._memo_lock:
                self.timing.transform_cpu_s += time.thread_time() - cpu
                self.timing.transforms += 1
        sha = self.artifacts.put(out.data)
        return StepResult(ok=True, asset_sha256=sha, media_type=out.media_type, duration_s=time.perf_counter() - started)

    def _call(self, runtime: VendorRuntime, operation: str, asset: Asset, params: dict[str, Any]) -> StepResult:
        """One adapter call; whatever comes back passes :mod:`runner.gate` first."""
        vendor = runtime.manifest.id
        limits = runtime.limits
        problem = first_error(f"aiii:protocol/v1/{operation}.params", params)
        if problem:  # a harness bug, not the vendor's fault
            return StepResult(ok=False, error=f"harness built invalid {operation} params: {problem}", error_kind=ErrorKind.ERROR)
        started = time.perf_counter()
        try:
            answer = runtime.transport.call(operation, asset, params, runtime.timeout_s)
        except Unsupported as exc:
            return StepResult(ok=False, error=f"{vendor}: unsupported: {gate.message(exc, limits)}", error_kind=ErrorKind.UNSUPPORTED,
                              duration_s=time.perf_counter() - started)
        except AdapterError as exc:
            return StepResult(ok=False, error=f"{vendor}: {gate.message(exc, limits)}", error_kind=ErrorKind.CLEAN,
                              duration_s=time.perf_counter() - started)
        except TransportError as exc:
            return StepResult(ok=False, error=gate.message(exc, limits), error_kind=ErrorKind.ERROR,
                              duration_s=time.perf_counter() - started)
        finally:
            with self._memo_lock:
                self.timing.adapter_s += time.perf_counter() - started
                self.timing.calls += 1
                self.timing.by_operation[f"{vendor} {operation}"] += 1
        duration = time.perf_counter() - started

        def violation(what: str) -> StepResult:
            return StepResult(ok=False, error=f"{vendor}: {operation} {what}", error_kind=ErrorKind.ERROR, duration_s=duration)

        if OPERATIONS[operation] == "asset":
            if not isinstance(answer, Asset) or not isinstance(answer.data, bytes):
                return violation(f"returned {type(answer).__name__}, not an asset")
            if len(answer.data) > limits.asset_bytes:
                return violation(f"returned an asset of {len(answer.data)} bytes (limit {limits.asset_bytes})")
            if answer.media_type != asset.media_type:
                shown = gate.message(answer.media_type if isinstance(answer.media_type, str) else repr(answer.media_type))
                return violation(f"changed the media type to {shown!r}")
            sha = self.artifacts.put(answer.data)
            return StepResult(ok=True, asset_sha256=sha, media_type=answer.media_type, duration_s=duration)
        if not isinstance(answer, dict):
            return violation(f"returned {type(answer).__name__}, not a report")
        try:
            report, notes = gate.answer(answer, limits)
        except gate.AnswerViolation as exc:
            return violation(f"answer violates the protocol: {gate.message(exc.problem)} at {gate.message(exc.path)}")
        problem = first_error(f"aiii:protocol/v1/{operation}.result", report)
        if problem:
            return violation(f"answer violates the protocol schema at {gate.message(problem)}")
        return StepResult(ok=True, report=report, duration_s=duration, notes=[f"{vendor}: {n}" for n in notes])

    def _note_chain(self, step: Step, seen: dict[Step, StepResult]) -> None:
        """Record the results a cell got for ``step`` and the steps it consumed."""
        node: Step | str = step
        while isinstance(node, Step) and node not in seen:
            with self._memo_lock:
                future = self._memo.get(node)
            if future is None or not future.done():
                break
            seen[node] = future.result()
            node = node.source

    def _forget_failed(self, seen: dict[Step, StepResult]) -> None:
        """Drop from the run's memo the steps that crashed, hung or broke the protocol, and
        those that failed only because of them, so a retry computes them again; a step
        another cell's retry has already recomputed, and every step that worked, stay.
        (Such failures are never in the step cache: runner/cache.py keeps answers and
        clean refusals only.)"""
        with self._memo_lock:
            for step, result in seen.items():
                if result.ok or result.error_kind not in (ErrorKind.ERROR, ErrorKind.UPSTREAM):
                    continue
                future = self._memo.get(step)
                if future is not None and future.done() and future.result() is result:
                    del self._memo[step]

    # -- cells -------------------------------------------------------------------------

    def run_cells(
        self,
        cells: Iterable[Cell],
        judge: Callable[[Cell, dict[str, StepResult]], CellResult],
        on_result: Callable[[CellResult], None],
        expand: Callable[[Cell, Callable[[Step], StepResult]], Cell] | None = None,
    ) -> None:
        """Run every cell with at most ``jobs`` at a time; ``on_result`` gets each as it ends.

        ``expand``, when given, may turn a planned cell into the cell actually judged: a
        check whose later steps depend on earlier answers (a search, a value read back
        and signed) runs them through the step function it is handed, which shares the
        memo and the cache, and returns the cell with its steps and context filled in.
        """

        def attempt(cell: Cell, seen: dict[Step, StepResult]) -> CellResult:
            started = time.perf_counter()
            absent: list[tuple[Step, StepResult]] = []  # the first step a pack lacked, if any

            def step(s: Step) -> StepResult:
                got = self.step(s)
                self._note_chain(s, seen)
                if got.error_kind == ErrorKind.ABSENT and not absent:
                    absent.append((s, got))
                return got

            if expand is not None and not cell.preset:
                try:
                    cell = expand(cell, step)
                except Exception as exc:  # noqa: BLE001 - a check bug must not lose the run
                    cell = replace(cell, preset=(Outcome.ERROR, gate.message(f"harness error while running the cell: {exc!r}")))
            try:
                results = {role: step(s) for role, s in cell.steps.items()} if not cell.preset else {}
                result = judge(cell, results)
            except Exception as exc:  # noqa: BLE001 - a judge or check bug is this cell's error, not the run's end
                result = CellResult(cell, Outcome.ERROR, gate.message(f"harness error while judging: {exc!r}"),
                                    {}, {}, None, 0.0, now_iso())
            if absent and result.outcome is not Outcome.BLOCKED:  # partial evidence: not this run's to judge
                result.outcome, result.reason = Outcome.BLOCKED, f"{absent[0][0].label}: {absent[0][1].error}"
            result.duration_s = time.perf_counter() - started
            return result

        def one(cell: Cell) -> None:
            tries: list[CellResult] = []
            while True:
                seen: dict[Step, StepResult] = {}
                tries.append(attempt(cell, seen))
                if tries[-1].outcome is not Outcome.ERROR or len(tries) > self.retries:
                    break
                self._forget_failed(seen)  # the next attempt calls the adapters whose steps failed again
            result = tries[-1]
            if len(tries) > 1:
                result.attempts = len(tries)
                result.attempt_log = [{"outcome": t.outcome.value, "reason": t.reason, "duration_s": t.duration_s}
                                      for t in tries]
                result.duration_s = sum(t.duration_s for t in tries)
            on_result(result)

        meter = self.measured()
        with ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="cell") as pool:
            futures = [pool.submit(one, cell) for cell in cells]
            try:
                for future in futures:
                    future.result()
            except BaseException:  # Ctrl-C, SIGTERM: the cells not yet started are not started
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        meter.finish(self.timing)


def _label(source: Step | str) -> str:
    return source if isinstance(source, str) else source.label
