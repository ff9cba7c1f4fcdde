"""``aiii run --produce V`` and ``aiii run --import-pack PACK``: packs in a run.

Producing plans the profile as a whole run would (so the pack carries the whole plan's
digest, the one the importing run has), then runs the producers' part of the plan
(:func:`_packable`: their producer steps, and their steps in every cell another vendor
consumes, such as a signer's own reading of what it signed), through the normal
executor and step cache, and writes it to signed packs (runner/packs.py), one per
producer.  A chain through other vendors (X signs what R wrote) is made when their
steps can be had here: from their adapters, or from packs imported into the producing
run.  Checks whose ``expand()`` adds steps at run time (the watermark trials) are
expanded with a step function that runs what can be had here (a trial needs the
embedder's own detector to set its threshold) and answers other steps "not run when
producing a pack"; of what ran, only the producers' steps are packed.

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
from runner.keys import HUB, Registry
from runner.model import ErrorKind, Step, StepKind, StepResult
from runner.packs import FORMAT, Pack, PackError, check_plan, read_pack, result_record, write_pack
from runner.shards import expanding_checks, is_producer, producer_steps
from runner.transports.pack import PackTransport

_NOT_RUN = "not run when producing a pack"


def _chain_vendors(step: Step) -> set[str]:
    """The vendors of every vendor step in ``step``'s chain (``step`` included)."""
    found: set[str] = set()
    node: Step | str = step
    while isinstance(node, Step):
        if node.kind == StepKind.VENDOR:
            found.add(str(node.vendor))
        node = node.source
    return found


def _packable(cells: Iterable[Any], wanted: set[str]) -> list[Step]:
    """The steps of ``wanted`` vendors a pack carries, each once: their producer steps, and
    every step of theirs in a cell another vendor consumes (a signer's own reading of
    what it signed, a writer's reading back: the evidence that cell's judge weighs)."""
    cells = list(cells)
    found = dict.fromkeys(s for s in producer_steps(s for c in cells for s in c.steps.values()) if s.vendor in wanted)
    for cell in cells:
        if cell.consumer in wanted:
            continue
        for top in cell.steps.values():
            node: Step | str = top
            while isinstance(node, Step):
                if node.kind == StepKind.VENDOR and node.vendor in wanted:
                    found.setdefault(node)
                node = node.source
    return list(found)


def _check_signer(run: Any, producers: list[str], signer_id: str) -> None:
    missing = [v for v in producers if v not in run.manifests]
    if missing:
        raise HarnessError(f"--produce {missing[0]}: not a vendor of this run's plan (see --vendors)")
    if signer_id == HUB:
        others = [v for v in producers if run.manifests[v].role != "reference"]
        if others:
            raise PackError(f"--sign-as hub: the hub signs packs of reference vendors only, and {others[0]} is "
                            f"a {run.manifests[others[0]].role}: its own key signs its pack")
    elif producers != [signer_id]:
        raise PackError(f"--sign-as {signer_id}: a pack is signed by the vendor that produced it "
                        f"({', '.join(producers)}); only the hub signs several, for reference vendors")


def produce(run: Any, suite: Suite, producers: list[str], signer: Signer, signer_id: str, participant: str,
            out_dir: Path, packs: list[Pack] | None = None) -> list[tuple[Path, int]]:
    """Run the producer steps of ``producers`` in ``run`` (a planned runner.run.Run) and
    write each one's signed pack to ``out_dir/pack-V.tar``; return each pack and its
    step count.

    A producer step whose chain goes through other vendors (X signs what R wrote) is
    made when those vendors' steps can be had here: from their adapters, started for
    that, or from ``packs`` imported (the hub's packs made on X's outputs).  Only
    ``producers``' steps are packed, each in its own vendor's pack, and never a step
    that could not be computed here (a pack's missing step below it)."""
    from runner.run import start_vendors  # the run module owns starting vendors (and imports this one)

    _check_signer(run, producers, signer_id)
    packs = packs or []
    wanted = set(producers)
    clash = sorted(wanted & {p.producer for p in packs})
    if clash:
        raise PackError(f"--produce {clash[0]}: its pack is imported too; produce a vendor or import it, not both")
    candidates = _packable(run.cells, wanted)
    upstream = {v for s in candidates for v in _chain_vendors(s)} - wanted - {p.producer for p in packs}
    runtimes, info = start_vendors({v: run.manifests[v] for v in sorted(wanted | upstream)}, run.opts.timeout_s,
                                   run.opts.placement)
    try:
        down = [v for v in producers if v not in runtimes]
        if down:
            raise HarnessError(f"--produce {down[0]}: cannot run here: {info[down[0]]['reason']}")
        for pack in packs:
            info.setdefault(pack.producer, {})
        serve_packs(packs, run, info, runtimes)
        here = set(runtimes)
        executor = Executor(runtimes, run.vectors, run.cache, dict(suite.transforms), run.opts.jobs, None,
                            suite.transform_version, run.profile.limits,
                            origin={"participant": participant, "run": run.run_id})
        planned = [s for s in candidates if _chain_vendors(s) <= here]

        def here_steps(step: Step) -> StepResult:
            if _chain_vendors(step) <= here:  # the trials' steps that can be had here drive them
                return executor.step(step)
            return StepResult(ok=False, error=_NOT_RUN, error_kind=ErrorKind.UNSUPPORTED)

        expanding = expanding_checks(suite.checks)
        trials = [c for c in run.cells if c.check in expanding and not c.preset
                  and wanted & {*(c.producer or "").split("+")}]
        with ThreadPoolExecutor(max_workers=max(1, run.opts.jobs)) as pool:
            list(pool.map(executor.step, planned))
            list(pool.map(lambda c: _expand(suite, c, here_steps), trials))
        ran = list(executor.keys)
        consumed = {s.source for s in [*ran, *executor.origins] if isinstance(s.source, Step)}

        def made_here(step: Step) -> bool:
            """Computed here on what it was given: no other vendor's step below it failed or was absent."""
            node = step.source
            while isinstance(node, Step):
                if node.kind == StepKind.VENDOR and node.vendor not in wanted and not executor.step(node).ok:
                    return False
                node = node.source
            return executor.step(step).error_kind != ErrorKind.ABSENT

        packable = set(planned)
        steps = [_record(executor, step, runtimes) for step in ran
                 if step.vendor in wanted and _chain_vendors(step) <= here
                 and (step in packable or is_producer(step, step in consumed)) and made_here(step)]
        written = []
        for producer in producers:
            own = sorted((s for s in steps if s["vendor"] == producer), key=lambda s: s["key"])
            doc = {"format": FORMAT, "producer": producer, "version": runtimes[producer].version,
                   "cache_version": runtimes[producer].cache_version, "placement": runtimes[producer].placement,
                   "plan_digest": run.plan_digest.sha256, "plan_components": dict(run.plan_digest.components),
                   "profile": run.profile.name, "participant": participant, "run": run.run_id, "steps": own}
            written.append((write_pack(out_dir / f"pack-{producer}.tar", doc, run.cache.get, signer, signer_id), len(own)))
        return written
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
        check_plan(pack, run.plan_digest.sha256, run.plan_digest.components)
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
            check_plan(pack, run.plan_digest.sha256, run.plan_digest.components)
    except BaseException:
        run.cache.close()
        raise
    return run
