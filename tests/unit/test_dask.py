"""How the Dask executor cuts a plan into tasks (runner/dask_executor.py), as pure functions."""

from __future__ import annotations

import pickle
import random

from runner.dask_executor import DOCKER, cell_vendors, plan_tasks
from runner.model import Cell, Level, vendor_step


def _matrix(writers: list[str], readers: list[str], vectors: int) -> list[Cell]:
    """Each writer's one write per vector, read by every reader."""
    cells = []
    for v in range(vectors):
        for w in writers:
            write = vendor_step(w, "metadata.write", f"vec{v}", {"fields": {"title": "t"}})
            for r in readers:
                cells.append(Cell(check="metadata.roundtrip", level=Level.MUST, vector=f"vec{v}", producer=w, consumer=r,
                                  steps={"write": write, "read": vendor_step(r, "metadata.read", write)}))
    return cells


def test_every_cell_is_in_exactly_one_task_and_keys_are_unique() -> None:
    cells = _matrix(["w1", "w2", "w3"], ["r1", "r2"], 4)
    tasks = plan_tasks("run1", cells, {}, set(), 8)
    ids = [c.id for t in tasks for c in t.cells]
    assert sorted(ids) == sorted(c.id for c in cells)
    assert len({t.key for t in tasks}) == len(tasks)
    assert all(t.key.startswith("aiii-cells-run1-") for t in tasks)


def test_tasks_and_keys_do_not_depend_on_the_plan_order() -> None:
    cells = _matrix(["w1", "w2", "w3"], ["r1", "r2"], 4)
    shuffled = cells[:]
    random.Random(7).shuffle(shuffled)
    first = [(t.key, [c.id for c in t.cells], dict(t.resources)) for t in plan_tasks("r", cells, {}, {"r2"}, 6)]
    again = [(t.key, [c.id for c in t.cells], dict(t.resources)) for t in plan_tasks("r", shuffled, {}, {"r2"}, 6)]
    assert first == again


def test_cells_sharing_a_write_stay_in_one_task() -> None:
    cells = _matrix(["w1", "w2"], ["r1", "r2", "r3"], 2)
    tasks = plan_tasks("r", cells, {}, set(), 4)
    assert len(tasks) == 4
    for task in tasks:
        writes = {(c.producer, c.vector) for c in task.cells}
        others = [c for t in tasks if t is not task for c in t.cells]
        assert not writes & {(c.producer, c.vector) for c in others}


def test_only_cells_with_a_containerised_vendor_ask_for_docker() -> None:
    cells = _matrix(["w1", "boxed"], ["r1", "r2"], 3)
    tasks = plan_tasks("r", cells, {}, {"boxed"}, 4)
    for task in tasks:
        for cell in task.cells:
            assert ("boxed" in cell_vendors(cell)) == (dict(task.resources) == {DOCKER: 1.0})
    assert any(t.resources for t in tasks) and any(not t.resources for t in tasks)
    reader = _matrix(["w1"], ["boxed", "r1"], 1)  # a containerised consumer counts too
    assert {c.consumer for t in plan_tasks("r", reader, {}, {"boxed"}, 2) if t.resources for c in t.cells} == {"boxed"}


def test_tasks_travel_to_workers_intact() -> None:
    task = plan_tasks("r", _matrix(["w1"], ["r1"], 1), {}, set(), 1)[0]
    assert pickle.loads(pickle.dumps(task)) == task
