"""``aiii run --produce V`` and ``aiii run --import-pack PACK``: packs in a run.

Producing plans the profile as a whole run would (so the pack carries the whole plan's
digest, the one the importing run has), then runs only the producer steps
(runner/shards.py ``producer_steps``) whose chains are all the producers' own, through
the normal executor and step cache, and writes them to a signed pack (runner/packs.py).
Checks whose ``expand()`` adds steps at run time (the watermark trials) are expanded
with a step function that runs the producers' own steps and transforms (a trial needs
the embedder's own detector to set its threshold) and answers other vendors' steps "not
run when producing a pack"; of what ran, only producer steps are packed.

Importing verifies every pack before the run starts (refused whole, one line), then
serves each pack's vendor from its pack: its adapter is never started.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from securesystemslib.signer import Signer

from runner import gate
from runner.check import Suite
from runner.errors import HarnessError
from runner.executor import Executor, VendorRuntime
from runner.keys import Registry
from runner.model import ErrorKind, Step, StepKind, StepResult
from runner.packs import FORMAT, Pack, PackError, check_plan, read_pack, result_record, write_pack
from runner.shards import expanding_checks, is_producer, producer_steps
from runner.transports.pack import PackTransport

_NOT_RUN = "not run when producing a pack"


def _own_chain(step: Step, producers: set[str]) -> bool:
    """Whether every vendor step of ``step``'s chain is one of ``producers``'."""
    node: Step | str = step
    while isinstance(node, Step):
        if node.kind == StepKind.VENDOR and node.vendor not in producers:
            return False
        node = node.source
    return True


def produce(run: Any, suite: Suite, producers: list[str], signer: Signer, signer_id: str, participant: str,
            target: Path) -> tuple[Path, int]:
    """Run the producer steps of ``producers`` in ``run`` (a planned runner.run.Run) and
    write their signed pack to ``target``; return it and its step count."""
    from runner.run import start_vendors  # the run module owns starting vendors (and imports this one)

    missing = [v for v in producers if v not in run.manifests]
    if missing:
        raise HarnessError(f"--produce {missing[0]}: not a vendor of this run's plan (see --vendors)")
    if signer_id not in producers:
        raise PackError(f"--sign-as {signer_id}: a pack is signed by the vendor that produced it ({', '.join(producers)})")
    if len(producers) != 1:
        raise PackError("--produce: one vendor per pack (its signer)")
    wanted = set(producers)
    runtimes, info = start_vendors({v: run.manifests[v] for v in producers}, run.opts.timeout_s, run.opts.placement)
    try:
        if not runtimes:
            raise HarnessError(f"--produce {producers[0]}: cannot run here: {info[producers[0]]['reason']}")
        executor = Executor(runtimes, run.vectors, run.cache, dict(suite.transforms), run.opts.jobs, None,
                            suite.transform_version, run.profile.limits,
                            origin={"participant": participant, "run": run.run_id})
        planned = [s for s in producer_steps(s for c in run.cells for s in c.steps.values())
                   if s.vendor in wanted and _own_chain(s, wanted)]

        def own_steps(step: Step) -> StepResult:
            if _own_chain(step, wanted):  # the producers' own steps (and transforms) drive the trials
                return executor.step(step)
            return StepResult(ok=False, error=_NOT_RUN, error_kind=ErrorKind.UNSUPPORTED)

        expanding = expanding_checks(suite.checks)
        trials = [c for c in run.cells if c.check in expanding and not c.preset
                  and wanted & {*(c.producer or "").split("+")}]
        with ThreadPoolExecutor(max_workers=max(1, run.opts.jobs)) as pool:
            list(pool.map(executor.step, planned))
            list(pool.map(lambda c: _expand(suite, c, own_steps), trials))
        ran = list(executor.keys)
        consumed = {s.source for s in [*ran, *executor.origins] if isinstance(s.source, Step)}
        steps = [_record(executor, step, runtimes) for step in ran
                 if step.vendor in wanted and _own_chain(step, wanted) and is_producer(step, step in consumed)]
        producer = producers[0]
        doc = {"format": FORMAT, "producer": producer, "version": runtimes[producer].version,
               "cache_version": runtimes[producer].cache_version, "placement": runtimes[producer].placement,
               "plan_digest": run.plan_digest.sha256, "profile": run.profile.name, "participant": participant,
               "run": run.run_id, "steps": sorted(steps, key=lambda s: s["key"])}
        path = write_pack(target, doc, run.cache.get, signer, signer_id)
        return path, len(steps)
    finally:
        for rt in runtimes.values():
            rt.transport.close()


def _expand(suite: Suite, cell: Any, step_fn: Any) -> None:
    with contextlib.suppress(Exception):  # a trial that needs a consumer's answer stops here; its embeds so far count
        suite.checks[cell.check].expand(cell, step_fn)


def _record(executor: Executor, step: Step, runtimes: dict[str, VendorRuntime]) -> dict[str, Any]:
    result = executor.step(step)  # memoised: already computed
    source = step.source if isinstance(step.source, str) else None
    return {"key": executor.keys[step], "vendor": step.vendor, "operation": step.operation,
            "source": {"vector": source} if source else {"step": executor.keys.get(step.source)},  # type: ignore[arg-type]
            "params": step.params, "placement": runtimes[str(step.vendor)].placement,
            "result": {**result_record(result), "error": gate.message(result.error) if result.error else None}}


def verify_packs(paths: Iterable[Path], registry: Registry) -> list[Pack]:
    """Every pack verified (all or nothing), one per vendor; the plan is checked later."""
    packs: list[Pack] = []
    for path in paths:
        pack = read_pack(path, registry)
        if any(p.producer == pack.producer for p in packs):
            raise PackError(f"{path}: refused: a second pack of {pack.producer}")
        packs.append(pack)
    return packs


def serve_packs(packs: list[Pack], run: Any, info: dict[str, dict[str, Any]],
                runtimes: dict[str, VendorRuntime]) -> None:
    """Check each pack against the run's plan and serve its vendor from it."""
    for pack in packs:
        check_plan(pack, run.plan_digest.sha256)
        manifest = run.manifests.get(pack.producer)
        if manifest is None:
            raise PackError(f"{pack.path}: refused: {pack.producer} is not a vendor of this run's plan")
        runtimes[pack.producer] = VendorRuntime(manifest, PackTransport(manifest), pack.version, pack.cache_version,
                                                run.opts.timeout_s, placement="pack", pack=pack)
        info[pack.producer].update(version=pack.version, transport="pack", runnable=True, reason=None)


def plan_for_packs(opts: Any, suite: Suite, packs: list[Pack]) -> Any:
    """The run (runner.run.Run) planned and checked against each pack's plan digest
    before anything of it (its output folder, its store) is written: a refused pack
    leaves no trace.  None without packs."""
    if not packs:
        return None
    from runner.run import Run

    run = Run(opts, suite)
    try:
        for pack in packs:
            check_plan(pack, run.plan_digest.sha256)
    except BaseException:
        run.cache.close()
        raise
    return run
