"""How the Dask executor cuts a plan into tasks (runner/dask_executor.py), as pure functions."""

from __future__ import annotations

import pickle
import random
from pathlib import Path

from runner.cache import step_key
from runner.dask_plan import DOCKER, CellTask, PlanKeys, cell_inputs, cell_vendors, plan_tasks, shared_steps
from runner.model import Cell, Level, params_hash, transform_step, vendor_step


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


def _keys(versions: dict[str, str] | None = None) -> PlanKeys:
    return PlanKeys({f"vec{v}": f"{v:064x}" for v in range(4)}, versions or {"w1": "1.0+a", "w2": "2.0+b"},
                    lambda name: "jpeg 1" if name == "jpeg" else None, "run1")


def test_a_step_on_a_vector_is_keyed_by_its_step_cache_key() -> None:
    write = vendor_step("w1", "metadata.write", "vec1", {"fields": {"title": "t"}})
    assert _keys()(write) == step_key("w1", "1.0+a", "metadata.write", f"{1:064x}", params_hash(write.params))
    jpeg = transform_step("jpeg", "vec1", {"quality": 75})
    assert _keys()(jpeg) == step_key("harness", "jpeg 1", "jpeg", f"{1:064x}", params_hash({"quality": 75}))


def test_plan_keys_are_equal_for_equal_chains_and_follow_a_new_version() -> None:
    def chain() -> object:
        write = vendor_step("w1", "metadata.write", "vec0", {"fields": {"title": "t"}})
        return vendor_step("r1", "metadata.read", transform_step("jpeg", write, {"quality": 75}))

    read = chain()
    assert _keys()(read) == _keys()(chain())  # another cell's, another client's
    assert _keys()(read) != _keys({"w1": "1.1+c", "w2": "2.0+b"})(read)  # the writer's new version, downstream too
    unversioned = transform_step("crop", "vec0", {"f": 0.5})
    assert _keys()(unversioned) != PlanKeys({"vec0": f"{0:064x}"}, {}, lambda _n: None, "run2")(unversioned)


def test_only_steps_that_cells_of_several_tasks_need_become_step_tasks() -> None:
    cells = _matrix(["w1", "w2"], ["r1", "r2"], 1)
    by_writer = [CellTask(f"t{w}", tuple(c for c in cells if c.producer == w), {}) for w in ("w1", "w2")]
    assert shared_steps(by_writer, _keys(), set()) == []  # each write stays inside its task
    by_reader = [CellTask(f"t{r}", tuple(c for c in cells if c.consumer == r), {}) for r in ("r1", "r2")]
    shared = shared_steps(by_reader, _keys(), {"w2"})
    assert sorted(t.step.vendor or "" for t in shared) == ["w1", "w2"]  # both writes, once each
    assert {t.step.vendor: dict(t.resources) for t in shared} == {"w1": {}, "w2": {DOCKER: 1.0}}
    assert [t.key for t in shared] == [_keys()(t.step) for t in shared]


def test_a_shared_step_comes_after_the_step_it_consumes() -> None:
    write = vendor_step("w1", "watermark.embed", "vec0", {"payload": "ab"})
    jpeg = transform_step("jpeg", write, {"quality": 75})
    cells = [Cell(check="watermark.robustness", level=Level.SHOULD, vector="vec0", producer="w1", consumer=r,
                  steps={"embed": write, "detect": vendor_step(r, "watermark.detect", jpeg)}) for r in ("r1", "r2")]
    shared = shared_steps([CellTask("a", (cells[0],), {}), CellTask("b", (cells[1],), {})], _keys(), set())
    assert [t.step for t in shared] == [write, jpeg]


def test_the_client_adds_up_the_call_figures_of_every_task(tmp_path: Path) -> None:
    """A Dask run's timing (the run summary, benchmarks' necessary work) counts every
    task's calls and adapter CPU by placement, as a local run's does."""
    from collections import Counter

    from runner.cache import ArtifactStore
    from runner.dask_executor import TaskOutput, _keep
    from runner.executor import CallTiming

    total, store = CallTiming(), ArtifactStore(tmp_path / "cache")
    try:
        for cpu in (1.5, 2.0):
            part = CallTiming(calls=3, by_operation=Counter({"v metadata.read": 3}), adapter_cpu_s={"process": cpu})
            _keep(store, TaskOutput([], {}, [], part), total)
    finally:
        store.close()
    assert (total.calls, total.by_operation["v metadata.read"], total.adapter_cpu_s) == (6, 6, {"process": 3.5})


def test_a_task_gets_every_vector_its_cells_steps_start_from() -> None:
    """An opt-out cell is about the intents vector, but its carrier is written into a photo:
    the worker must be sent both (it raised KeyError('kodim01-jpg') on the photo)."""
    write = vendor_step("w", "metadata.write", "kodim01-jpg", {"fields": {"data_mining": "x"}})
    cell = Cell(check="optout.data_mining", level=Level.MUST, vector="optout-intents", producer="w", consumer="r",
                steps={"carrier": write, "read": vendor_step("r", "optout.evaluate", write)})
    known = {"optout-intents", "kodim01-jpg", "kodim02", "kodim03"}
    assert cell_inputs(cell, known) == {"optout-intents", "kodim01-jpg"}
    validate = vendor_step("v", "identifier.validate", "-", {"scheme": "isrc", "value": "x"})  # params only: no vector
    registry = Cell(check="identifiers.registry", level=Level.MUST, vector="registry-cases", producer=None, consumer="v",
                    steps={"read": validate})
    assert cell_inputs(registry, {"registry-cases"}) == {"registry-cases"}


def test_a_task_gets_the_corpus_a_cell_probes_when_it_runs() -> None:
    """A watermark false-positives cell probes its detector's whole clean corpus, named in
    its planned context (it raised KeyError('kodim01') on a worker)."""
    cell = Cell(check="watermark.false_positives", level=Level.MUST, vector="kodim03", producer=None, consumer="d",
                steps={}, context_json='{"detector": {"members": [{"id": "kodim01"}, {"id": "kodim03"}], "mode": "multi-bit"}}')
    assert cell_inputs(cell, {"kodim01", "kodim02", "kodim03"}) == {"kodim01", "kodim03"}
