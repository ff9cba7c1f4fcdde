"""Shards of a plan (runner/shards.py) as pure functions, and a shard's bundle in the reports."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from report_bundle import make_bundle

from reports import BundleError, render_all, validate_bundle
from runner.model import NO_INPUT, Cell, Level, Outcome, vendor_step
from runner.shards import (
    MAX_SHARDS,
    ShardError,
    ShardSpec,
    components,
    expanding_checks,
    parse_shard,
    producer_calls,
    select_shard,
    shard_cost,
    split,
)


def _matrix(writers: int, readers: int, vectors: int, check: str = "metadata.roundtrip") -> list[Cell]:
    """An N x M matrix per vector: each writer's one write read by every reader."""
    cells = []
    for v in range(vectors):
        for w in range(writers):
            write = vendor_step(f"w{w}", "metadata.write", f"vec{v}", {"fields": {"title": "t"}})
            for r in range(readers):
                cells.append(Cell(check=check, level=Level.MUST, vector=f"vec{v}", producer=f"w{w}", consumer=f"r{r}",
                                  steps={"write": write, "read": vendor_step(f"r{r}", "metadata.read", write)}))
    return cells


def _ids(shards: list[list[Cell]]) -> list[list[str]]:
    return [[c.id for c in s] for s in shards]


# -- --shard values ------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["0/2", "3/2", "x/y", "1/0", "0/0", "", "1/2/3", "-1/2", " 1/2", "1.5/2", "1 / 2",
                                  "½/2", f"1/{MAX_SHARDS + 1}"])
def test_malformed_shard_is_refused_in_one_line(text: str) -> None:
    with pytest.raises(ShardError) as caught:
        parse_shard(text)
    message = str(caught.value)
    assert message.startswith("--shard") and "\n" not in message


def test_shard_values_parse() -> None:
    assert parse_shard("1/1") == ShardSpec(1, 1)
    assert parse_shard("3/8") == ShardSpec(3, 8)
    assert str(parse_shard("08/10")) == "8/10"


# -- the split -----------------------------------------------------------------------------

def test_cells_sharing_a_producer_call_stay_together() -> None:
    cells = _matrix(writers=4, readers=5, vectors=3)
    assert sorted(len(c) for c in components(cells)) == [5] * 12  # one per write
    for n in (2, 3, 4, 6):
        shards = split(cells, n)
        for shard in shards:
            writes = {c.steps["write"] for c in shard}
            assert all(sum(c.steps["write"] == w for c in cells) == sum(c.steps["write"] == w for c in shard)
                       for w in writes), "a write's readers were split"
        assert sum(producer_calls(s) for s in shards) == producer_calls(cells) == 12
        assert max(len(s) for s in shards) - min(len(s) for s in shards) <= 5


def test_only_producer_calls_are_counted() -> None:
    write = vendor_step("w", "metadata.write", "vec", {})
    read = vendor_step("r", "metadata.read", write)
    generate = vendor_step("g", "identifier.generate", read)  # not real, but read is consumed here
    declare = vendor_step("d", "optout.declare", NO_INPUT, {"channel": "robots"})
    validate = vendor_step("v", "identifier.validate", NO_INPUT, {"value": "x"})
    cell = Cell(check="c.x", level=Level.MUST, vector="vec", producer="w", consumer="r",
                steps={"write": write, "read": read, "g": generate, "declare": declare, "validate": validate})
    assert producer_calls([cell]) == 3  # the write (an asset), the read another step consumes, the declared files


def test_a_component_too_big_for_a_shard_is_cut_where_it_shares_least() -> None:
    # writer A's and writer B's readers, joined by one cell that compares both writes
    cells = _matrix(writers=2, readers=10, vectors=1)
    a, b = (c.steps["write"] for c in (cells[0], cells[10]))
    cells.append(Cell(check="metadata.compare", level=Level.MUST, vector="vec0", producer="w0+w1", consumer="r0",
                      steps={"a": vendor_step("r0", "metadata.read", a), "b": vendor_step("r0", "metadata.read", b)}))
    assert [len(c) for c in components(cells)] == [21]
    shards = split(cells, 2)
    assert sorted(len(s) for s in shards) == [10, 11]
    # cut by producer (the joining cell goes with A's readers), not by reader (ten cuts)
    assert sum(producer_calls(s) for s in shards) - producer_calls(cells) == 1, "one cut: B's write made twice"
    assert sorted(sorted({str(c.producer) for c in s}) for s in shards) == [["w0", "w0+w1"], ["w1"]]


def test_a_component_nothing_tells_apart_is_cut_in_id_order() -> None:
    write = vendor_step("w", "metadata.write", "vec", {})
    cells = [Cell(check="c.x", level=Level.MUST, vector="vec", producer="w", consumer="r", variant=f"v{k:02}",
                  steps={"write": write}) for k in range(10)]
    shards = split(cells, 3)
    assert [len(s) for s in shards] == [4, 4, 2]
    assert sorted(c.id for s in shards for c in s) == sorted(c.id for c in cells)


def test_more_shards_than_cells_leaves_some_empty() -> None:
    cells = _matrix(writers=1, readers=2, vectors=1)
    shards = split(cells, 5)
    assert sorted(len(s) for s in shards) == [0, 0, 0, 1, 1]  # balance first: one write made twice


def test_run_time_cells_of_one_vendor_stay_together() -> None:
    """A check that expands its cells at run time plans no steps: its cells go by vendor."""
    cells = [Cell(check=f"watermark.{name}", level=Level.SHOULD, vector=f"corpus:{k}", producer=vendor, consumer=vendor,
                  variant=name) for name in ("robustness", "false_positives") for vendor in ("a", "b") for k in range(3)]
    # a check of the family that plans its embed: the same call as a robustness trial's
    cells += [Cell(check="watermark.quality", level=Level.SHOULD, vector=f"v{k}", producer=vendor, consumer=None,
                   steps={"marked": vendor_step(vendor, "watermark.embed", f"v{k}", {"key": "k"})})
              for vendor in ("a", "b") for k in range(2)]
    expanding = {"watermark.robustness", "watermark.false_positives"}
    assert sorted(len(c) for c in components(cells, expanding)) == [8, 8]
    assert sorted(len(c) for c in components(cells)) == [1] * 16  # without the tie: no shared planned step
    preset = Cell(check="watermark.robustness", level=Level.SHOULD, vector="v", producer="a", consumer="a",
                  preset=(Outcome.UNSUPPORTED, "no"))
    assert [len(c) for c in components([preset], expanding)] == [1]


# -- the default profile's plan ------------------------------------------------------------

@pytest.fixture(scope="module")
def default_plan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[Cell], dict[str, Any]]]:
    """The default profile's planned cells (no adapter runs) and the suite's checks."""
    from conformance.discovery import discover
    from runner.run import Run, RunOptions

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIII_HOME", str(tmp_path_factory.mktemp("home")))
        suite = discover()
        yield Run(RunOptions(), suite).cells, dict(suite.checks)


def test_default_plan_shards_partition_it_for_every_n(default_plan: tuple[list[Cell], dict[str, Any]]) -> None:
    plan, checks = default_plan
    ids = sorted(c.id for c in plan)
    for n in range(1, 9):
        shards = split(plan, n, expanding_checks(checks))
        assert sorted(c.id for s in shards for c in s) == ids, f"n={n}: every cell in exactly one shard"
        sizes = [len(s) for s in shards]
        assert max(sizes) <= -(-len(plan) // n), f"n={n}: unbalanced {sizes}"
    manifests = [select_shard(plan, f"{i}/3", checks, "d" * 64).manifest for i in (1, 2, 3)]
    assert sorted(cid for m in manifests for cid in m["cells"]) == ids
    assert len({m["plan_digest"] for m in manifests}) == 1
    assert [(m["i"], m["n"], m["plan_cells"]) for m in manifests] == [(i, 3, len(plan)) for i in (1, 2, 3)]


def test_default_plan_split_is_deterministic(default_plan: tuple[list[Cell], dict[str, Any]]) -> None:
    plan, checks = default_plan
    shuffled = list(plan)
    random.Random(13).shuffle(shuffled)
    expanding = expanding_checks(checks)
    for n in (2, 3, 8):
        assert _ids(split(plan, n, expanding)) == _ids(split(shuffled, n, expanding)) \
            == _ids(split(list(reversed(plan)), n, expanding))


def test_default_plan_sharding_costs_under_ten_percent(default_plan: tuple[list[Cell], dict[str, Any]]) -> None:
    plan, checks = default_plan
    for n in (2, 4, 8):
        cost = shard_cost(plan, n, expanding_checks(checks))
        assert cost.whole > 200 and cost.extra_pct < 10, (n, cost)


# -- a shard's bundle ----------------------------------------------------------------------

def _shard_bundle() -> dict[str, Any]:
    bundle = make_bundle()
    bundle["shard"] = {"i": 2, "n": 3, "cells": sorted(c["id"] for c in bundle["cells"]),
                       "plan_cells": len(bundle["cells"]) + 7, "plan_digest": "0" * 64}
    return bundle


def test_a_shard_bundle_renders_and_says_which_shard(tmp_path: Path) -> None:
    bundle = _shard_bundle()
    paths = render_all(bundle, tmp_path)
    said = f"Shard 2 of 3: {len(bundle['cells'])} of {len(bundle['cells']) + 7} planned cells"
    assert said in paths["summary"].read_text()
    site = paths["site"].read_text()
    assert said in site and "<tr><th>shard</th><td>2 of 3</td></tr>" in site


@pytest.mark.parametrize(("mutate", "path"), [
    (lambda s: s.update(i=4), "$.shard.i"),
    (lambda s: s.update(i=0), "$.shard.i"),
    (lambda s: s.pop("plan_digest"), "$.shard"),
    (lambda s: s.update(cells=s["cells"][1:]), "$.cells[0].id"),
])
def test_an_inconsistent_shard_is_rejected(mutate: Any, path: str) -> None:
    bundle = _shard_bundle()
    bundle["shard"]["cells"] = [c["id"] for c in bundle["cells"]]
    mutate(bundle["shard"])
    with pytest.raises(BundleError) as caught:
        validate_bundle(bundle)
    assert caught.value.path == path
