"""Deterministic shards of a plan: ``aiii run --shard i/n`` for a CI matrix.

A whole run makes each producer call once: steps are shared by structure (the executor's
memo) and by content (the step cache).  Shards run apart, on machines that share no
cache, so a producer call that cells of two shards need is made in both.  The split keeps
such cells together.

**Producer call** (what the cost counts): a distinct vendor step, by its structure
(vendor, operation, params and the chain of sources below it: the executor's memo key;
the cache key adds the vendor's version and the input's sha256, which are known only once
it runs), whose answer another step or vendor consumes:

- its operation returns an asset (``returns_asset`` in the ``x-aiii`` facts of
  ``kit/aiii_kit/protocol/schemas/*.result.json``: ``metadata.write``,
  ``provenance.sign``, ``watermark.embed``), or
- it is the ``source`` of another step of a chain, or
- its operation is in :data:`HANDED_ON`: a report a check's ``expand()`` turns into
  another vendor's input (``optout.declare``: the files the evaluators fetch).

Counted here at plan level: the producer steps of each cell's planned chains.  Steps a
check adds at run time (``expand()``: the watermark trials' embeds) are not in the plan,
so they are not counted; ``benchmarks/shard_cost.py --run`` counts them by running.  To
keep those together anyway, in a family with such checks (a check's id starts with its
family) cells are also tied by vendor: a cell of an expanding check that plans no
producer step by every vendor it names, any other cell by the vendors of its planned
asset-making steps (a watermark embedder's robustness, false-positive, soft-binding and
quality cells share its embeds).

**The split**: cells joined by a shared producer step (or run-time tie) form a
component (union-find).  A component larger than a shard's share (``ceil(cells / n)``)
is cut along the cheapest attribute (producer vendor, vector, consumer: the one whose
groups share the fewest producer steps) into pieces of at most that share.  Pieces go
largest first (ties by their first cell id) to the shard with the fewest cells (ties
by index): the same plan gives the same split whatever its order and ``PYTHONHASHSEED``.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiii_kit.protocol import OPERATIONS

from runner.errors import HarnessError
from runner.model import Cell, Step, StepKind, canonical_json

#: Operations whose report (not an asset) a check hands to another vendor at run time.
HANDED_ON = frozenset({"optout.declare"})
#: The most shards ``--shard`` accepts.
MAX_SHARDS = 1000

_SHARD = re.compile(r"(\d{1,4})/(\d{1,4})")
#: Attributes a too-big component may be cut along, in the order ties are broken.
_CUTS: tuple[tuple[str, Callable[[Cell], str]], ...] = (
    ("producer", lambda c: c.producer or ""),
    ("vector", lambda c: c.vector),
    ("consumer", lambda c: c.consumer or ""),
)


class ShardError(HarnessError):
    """A ``--shard`` value that is not ``i/n`` with 1 <= i <= n."""


@dataclass(frozen=True)
class ShardSpec:
    """Shard ``i`` (1-based) of ``n``."""

    i: int
    n: int

    def __str__(self) -> str:
        return f"{self.i}/{self.n}"


def parse_shard(text: str) -> ShardSpec:
    """``"i/n"`` -> :class:`ShardSpec`; raises :class:`ShardError` (one line) otherwise."""
    match = _SHARD.fullmatch(text)
    if match is None:
        raise ShardError(f"--shard {text!r}: expected i/n, two whole numbers such as 1/4")
    i, n = int(match[1]), int(match[2])
    if not 1 <= n <= MAX_SHARDS:
        raise ShardError(f"--shard {text}: n must be between 1 and {MAX_SHARDS}")
    if not 1 <= i <= n:
        raise ShardError(f"--shard {text}: i must be between 1 and n ({n}); shards are numbered from 1")
    return ShardSpec(i, n)


# -- producer steps ----------------------------------------------------------------------

def _chain_key(step: Step, memo: dict[Step, str]) -> str:
    """A stable name for a step and everything below it (sha256 of its structure)."""
    key = memo.get(step)
    if key is None:
        below = step.source if isinstance(step.source, str) else _chain_key(step.source, memo)
        key = hashlib.sha256(canonical_json([step.kind, step.vendor, step.operation, step.params_json, below])
                             .encode()).hexdigest()
        memo[step] = key
    return key


def is_producer(step: Step, consumed: bool) -> bool:
    """Whether a vendor step is a producer call (``consumed``: another step's source)."""
    return step.kind == StepKind.VENDOR and (consumed or OPERATIONS.get(step.operation) == "asset"
                                      or step.operation in HANDED_ON)


def producer_steps(steps: Iterable[Step]) -> list[Step]:
    """The producer calls among ``steps`` and their chains, each once, in first-seen order."""
    found: dict[Step, None] = {}
    for top in steps:
        step: Step | str = top
        consumed = False
        while isinstance(step, Step):
            if is_producer(step, consumed):
                found.setdefault(step)
            step, consumed = step.source, True
    return list(found)


def producer_keys(steps: Iterable[Step], memo: dict[Step, str] | None = None) -> set[str]:
    """Stable names (sha256 of the chain's structure) of the producer calls among ``steps``
    and their chains: what a shard counts (``memo`` saves re-hashing shared chains)."""
    memo = {} if memo is None else memo
    return {_chain_key(s, memo) for s in producer_steps(steps)}


def _family(check: str) -> str:
    return check.split(".")[0]


class _Keys:
    """Producer-step keys and run-time ties of cells, memoised across one split."""

    def __init__(self, expanding: Collection[str]) -> None:
        self.expanding = frozenset(expanding)
        self.families = frozenset(_family(c) for c in self.expanding)
        self._memo: dict[Step, str] = {}

    def producers(self, cell: Cell) -> set[str]:
        return producer_keys(cell.steps.values(), self._memo)

    def ties(self, cell: Cell) -> set[str]:
        """What groups the cell: its producer steps and its run-time ties (module doc)."""
        keys = self.producers(cell)
        family = _family(cell.check)
        if family not in self.families or cell.preset is not None:
            return keys
        if keys:
            vendors = {str(s.vendor) for s in producer_steps(cell.steps.values()) if OPERATIONS.get(s.operation) == "asset"}
        elif cell.check in self.expanding:
            vendors = {*(cell.producer or "").split("+"), cell.consumer or ""}
        else:
            vendors = set()
        return keys | {f"run-time:{family}:{v}" for v in vendors if v}


# -- the split ---------------------------------------------------------------------------

def components(cells: Sequence[Cell], expanding: Collection[str] = ()) -> list[list[Cell]]:
    """Cells joined by shared producer steps (or run-time ties), each sorted by id, largest first."""
    return _components(cells, _Keys(expanding))


def _components(cells: Sequence[Cell], keys: _Keys) -> list[list[Cell]]:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        root = x
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for cell in cells:
        here = find("cell:" + cell.id)
        for key in sorted(keys.ties(cell)):
            there = find("step:" + key)
            if there != here:
                parent[max(here, there)] = min(here, there)  # the smaller name wins: order-free
                here = min(here, there)
    groups: dict[str, list[Cell]] = {}
    for cell in cells:
        groups.setdefault(find("cell:" + cell.id), []).append(cell)
    return sorted((sorted(g, key=lambda c: c.id) for g in groups.values()), key=lambda g: (-len(g), g[0].id))


def _cut_cost(groups: list[list[Cell]], keys: _Keys) -> int:
    """Producer steps made more than once when ``groups`` run apart."""
    seen: dict[str, int] = {}
    for group in groups:
        for key in set().union(*(keys.ties(c) for c in group)):
            seen[key] = seen.get(key, 0) + 1
    return sum(count - 1 for count in seen.values())


def _pieces(component: list[Cell], capacity: int, keys: _Keys) -> list[list[Cell]]:
    """``component`` cut into pieces of at most ``capacity`` cells along its cheapest cut."""
    if len(component) <= capacity:
        return [component]
    best: tuple[int, list[list[Cell]]] | None = None
    for _name, attr in _CUTS:
        by: dict[str, list[Cell]] = {}
        for cell in component:
            by.setdefault(attr(cell), []).append(cell)
        if len(by) < 2:
            continue
        groups = [by[value] for value in sorted(by)]
        cost = _cut_cost(groups, keys)
        if best is None or cost < best[0]:
            best = (cost, groups)
    if best is None:  # nothing tells these cells apart: consecutive runs of ids
        return [component[k:k + capacity] for k in range(0, len(component), capacity)]
    pieces: list[list[Cell]] = []
    current: list[Cell] = []
    for group in best[1]:  # neighbouring groups stay together while they fit
        for part in _pieces(group, capacity, keys):
            if current and len(current) + len(part) > capacity:
                pieces.append(current)
                current = []
            current.extend(part)
    if current:
        pieces.append(current)
    return pieces


def split(cells: Sequence[Cell], n: int, expanding: Collection[str] = ()) -> list[list[Cell]]:
    """The plan in ``n`` shards (index 0 is shard 1/n), each sorted by cell id: every cell
    in exactly one, cells that share producer steps together where the balance allows."""
    if n < 1:
        raise ValueError(f"n must be at least 1, not {n}")
    keys = _Keys(expanding)
    capacity = max(1, math.ceil(len(cells) / n))
    pieces = [p for comp in _components(cells, keys) for p in _pieces(comp, capacity, keys)]
    pieces.sort(key=lambda p: (-len(p), min(c.id for c in p)))
    shards: list[list[Cell]] = [[] for _ in range(n)]
    loads = [(0, index) for index in range(n)]  # (cells, shard index): a heap
    for piece in pieces:
        load, index = heapq.heappop(loads)
        shards[index].extend(piece)
        heapq.heappush(loads, (load + len(piece), index))
    return [sorted(s, key=lambda c: c.id) for s in shards]


def producer_calls(cells: Iterable[Cell]) -> int:
    """Distinct planned producer calls of ``cells`` (one shard's, or the whole plan's)."""
    keys = _Keys(())
    return len(set().union(set(), *(keys.producers(c) for c in cells)))


@dataclass(frozen=True)
class ShardCost:
    """What splitting a plan in ``n`` costs, counted at plan level."""

    n: int
    cells: list[int]  # per shard
    calls: list[int]  # producer calls per shard
    whole: int  # producer calls of one whole run

    @property
    def extra(self) -> int:
        return sum(self.calls) - self.whole

    @property
    def extra_pct(self) -> float:
        return 100.0 * self.extra / self.whole if self.whole else 0.0


def shard_cost(cells: Sequence[Cell], n: int, expanding: Collection[str] = ()) -> ShardCost:
    shards = split(cells, n, expanding)
    return ShardCost(n, [len(s) for s in shards], [producer_calls(s) for s in shards], producer_calls(cells))


# -- a run's shard -------------------------------------------------------------------------

@dataclass(frozen=True)
class Shard:
    """The cells one shard runs and the manifest its bundle carries."""

    spec: ShardSpec
    cells: list[Cell]
    manifest: dict[str, Any]


def expanding_checks(checks: Mapping[str, Any]) -> frozenset[str]:
    """The ids of the checks whose ``expand()`` adds steps at run time."""
    from runner.check import Check

    return frozenset(cid for cid, check in checks.items() if type(check).expand is not Check.expand)


def select_shard(plan: Sequence[Cell], spec: ShardSpec | str, checks: Mapping[str, Any], plan_digest: str) -> Shard:
    """Shard ``spec`` of the whole ``plan`` (``checks``: the suite's, by id; ``plan_digest``:
    the whole plan's, runner/plan_digest.py, which ties the shard to its siblings)."""
    spec = parse_shard(spec) if isinstance(spec, str) else spec
    mine = split(plan, spec.n, expanding_checks(checks))[spec.i - 1]
    manifest = {"i": spec.i, "n": spec.n, "cells": [c.id for c in mine], "plan_cells": len(plan),
                "plan_digest": plan_digest}
    return Shard(spec, mine, manifest)
