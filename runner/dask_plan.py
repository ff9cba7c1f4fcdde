"""How ``aiii run --executor dask|dask-local`` cuts a plan into Dask tasks (the client's
side of runner/dask_executor.py, as pure functions): groups of cells that share producer
steps (:func:`plan_tasks`), the vectors each group needs (:func:`cell_inputs`), and the
planned steps groups share, keyed by their step cache key (:class:`PlanKeys`,
:func:`shared_steps`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runner.cache import step_key
from runner.model import NO_INPUT, Cell, Step, StepKind, params_hash
from runner.shards import expanding_checks, split

#: The worker resource a cell with a containerised vendor asks for.
DOCKER = "docker"
#: Tasks per worker the plan is cut into: enough to balance and to lose little with a worker.
TASKS_PER_WORKER = 16


@dataclass(frozen=True)
class CellTask:
    """One Dask task: cells run together on one worker, and what that worker must have."""

    key: str
    cells: tuple[Cell, ...]
    resources: Mapping[str, float]


def cell_vendors(cell: Cell) -> set[str]:
    """Every vendor a cell names or plans a step of."""
    vendors = {*(cell.producer or "").split("+"), cell.consumer or ""}
    for top in cell.steps.values():
        step: Step | str = top
        while isinstance(step, Step):
            vendors.add(step.vendor or "")
            step = step.source
    return {v for v in vendors if v}


def cell_inputs(cell: Cell, known: Collection[str]) -> set[str]:
    """Every vector a cell reads: its own, the one each of its step chains starts from (an
    opt-out cell's carrier is a photo, not the intents it is about), and those of ``known``
    that its planned context names (a watermark detector's corpus, probed when it runs)."""
    found = {cell.vector}
    for top in cell.steps.values():
        step: Step | str = top
        while isinstance(step, Step):
            step = step.source
        if step in known:  # a params-only operation's chain starts from no vector ("-")
            found.add(step)
    pending: list[Any] = [json.loads(cell.context_json)]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str) and item in known:
            found.add(item)
    return found


def plan_tasks(run_id: str, cells: Sequence[Cell], checks: Mapping[str, Any], docker_vendors: set[str],
               tasks: int) -> list[CellTask]:
    """``cells`` cut into about ``tasks`` groups that keep cells sharing producer steps
    together; a group's cells that involve a vendor of ``docker_vendors`` form a task
    of their own asking for the ``docker`` resource.  The same plan gives the same tasks
    and keys whatever its order."""
    out: list[CellTask] = []
    for piece in split(cells, max(1, min(len(cells), tasks)), expanding_checks(checks)):
        boxed = [c for c in piece if cell_vendors(c) & docker_vendors]
        for group, resources in ((boxed, {DOCKER: 1.0}), ([c for c in piece if c not in boxed], {})):
            if group:
                digest = hashlib.sha256("\n".join(c.id for c in group).encode()).hexdigest()[:24]
                out.append(CellTask(f"aiii-cells-{run_id}-{digest}", tuple(group), resources))
    return out


#: sha256 of no bytes: the input of a step that takes none
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class PlanKeys:
    """Each planned step's key, known before anything runs: for a step on an input vector,
    its step cache key (runner/cache.py: vendor and cache version, or the transform and its
    version; operation; the vector's sha256; params); for a step on another step's output,
    the same with that step's key standing for its input's sha256.  Equal steps get equal
    keys in every cell, run and client; a vendor's new version gives its steps, and the
    steps after them, new keys."""

    def __init__(self, vector_sha256: Mapping[str, str], cache_versions: Mapping[str, str],
                 transform_version: Callable[[str], str | None], run_id: str) -> None:
        self.vector_sha256 = vector_sha256
        self.cache_versions = cache_versions
        self.transform_version = transform_version
        self.run_id = run_id
        self._keys: dict[Step, str] = {}

    def __call__(self, step: Step) -> str:
        key = self._keys.get(step)
        if key is None:
            if isinstance(step.source, str):
                source = EMPTY_SHA256 if step.source == NO_INPUT else self.vector_sha256[step.source]
            else:
                source = self(step.source)
            if step.kind == StepKind.VENDOR:
                who, version = step.vendor or "", self.cache_versions.get(step.vendor or "", "unavailable")
            else:  # a transform without a version is cached within a run only (runner/executor.py)
                who, version = "harness", self.transform_version(step.operation) or f"run {self.run_id}"
            key = self._keys[step] = step_key(who, version, step.operation, source, params_hash(step.params))
        return key


@dataclass(frozen=True)
class StepTask:
    """One Dask task: a planned step that cells of several cell tasks need."""

    key: str  # the step's :class:`PlanKeys` key
    step: Step
    resources: Mapping[str, float]


def chain(step: Step | str) -> Iterator[Step]:
    while isinstance(step, Step):
        yield step
        step = step.source


def shared_steps(tasks: Sequence[CellTask], keys: Callable[[Step], str], docker_vendors: set[str]) -> list[StepTask]:
    """The planned steps that cells of more than one of ``tasks`` need, each a task (keyed
    ``aiii-step-<run>-<key>`` by the client), a step's source before it (a step's source is needed wherever the
    step is, so it is shared too).  Cells whose steps are found at run time (a check's
    ``expand``) share what they planned."""
    where: dict[Step, set[int]] = {}
    for index, task in enumerate(tasks):
        for cell in task.cells:
            if cell.preset:
                continue
            for top in cell.steps.values():
                for step in chain(top):
                    where.setdefault(step, set()).add(index)
    shared = [s for s, found in where.items() if len(found) > 1]
    depth = {s: sum(1 for _ in chain(s)) for s in shared}
    shared.sort(key=lambda s: (depth[s], keys(s)))
    return [StepTask(keys(s), s, {DOCKER: 1.0} if s.vendor in docker_vendors else {}) for s in shared]
