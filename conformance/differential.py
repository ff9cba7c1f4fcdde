"""Differential property testing: find an input on which two implementations disagree.

Hypothesis generates candidates from a strategy with a fixed seed and an example
budget; two vendors answer each one; the first disagreement is shrunk to a minimal
counterexample.  Nothing here knows about identifiers: a family supplies the strategy,
how a vendor answers a candidate (through the executor, so answers are cached and
shared), and what "agree" means.  The same seed, budget and answers give the same
counterexample, so a run is reproducible from its seed.

Hypothesis keeps global state while it searches, so searches run one at a time.  It
also mixes constants found in the source of every loaded local module into what it
generates; which modules a run has loaded depends on thread timing, so that is turned
off during a search (otherwise the same seed could try different candidates).
"""

from __future__ import annotations

import contextlib
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample, Unsatisfiable
from hypothesis.internal.conjecture import providers as _providers

_LOCK = threading.Lock()


@contextlib.contextmanager
def _no_local_constants() -> Iterator[None]:
    """No constants from loaded modules while searching (pinned Hypothesis's private hook)."""
    original = _providers._get_local_constants
    empty = _providers.Constants()
    _providers._get_local_constants = lambda: empty
    _providers.CONSTANTS_CACHE.cache.clear()
    try:
        yield
    finally:
        _providers._get_local_constants = original
        _providers.CONSTANTS_CACHE.cache.clear()


@dataclass
class SearchResult:
    """What a search found: the minimal counterexample, if any, and how hard it looked."""

    seed: int
    budget: int
    examples: int = 0
    #: distinct candidates both vendors answered
    answered: int = 0
    counterexample: Any = None
    found: bool = False
    #: vendor -> its answer on the counterexample
    answers: dict[str, Any] = field(default_factory=dict)


def search(
    strategy: st.SearchStrategy[Any],
    answer: Callable[[str, Any], Any],
    vendors: tuple[str, str],
    agree: Callable[[Any, Any], bool],
    seed: int,
    budget: int,
) -> SearchResult:
    """Search ``strategy`` for a candidate on which the two vendors' answers disagree.

    ``answer(vendor, candidate)`` gives a vendor's answer (any comparable value);
    ``agree(a, b)`` says whether two answers agree.  Hypothesis shrinks the first
    disagreement it finds; the result holds the smallest one and both answers on it.
    """
    result = SearchResult(seed=seed, budget=budget)
    seen: set[Any] = set()
    memo: dict[tuple[str, Any], Any] = {}

    def ask(vendor: str, candidate: Any) -> Any:
        key = (vendor, candidate)
        if key not in memo:
            memo[key] = answer(vendor, candidate)
        return memo[key]

    def disagrees(candidate: Any) -> bool:
        result.examples += 1
        if candidate not in seen:
            seen.add(candidate)
            result.answered += 1
        a, b = ask(vendors[0], candidate), ask(vendors[1], candidate)
        return not agree(a, b)

    config = settings(
        max_examples=budget,
        database=None,
        deadline=None,
        derandomize=False,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    with _LOCK, _no_local_constants():
        try:
            found = find(strategy, disagrees, settings=config, random=random.Random(seed))
        except (NoSuchExample, Unsatisfiable):
            return result
    result.found = True
    result.counterexample = found
    result.answers = {v: ask(v, found) for v in vendors}
    return result


# -- strategies for strings built from a grammar ------------------------------------

#: Characters that look like ASCII letters, digits and separators but are not.
LOOKALIKES: dict[str, str] = {
    "0": "О",  # Cyrillic capital O
    "1": "１",  # fullwidth digit one
    "A": "А",  # Cyrillic capital A
    "B": "В",  # Cyrillic capital VE
    "C": "С",  # Cyrillic capital ES
    "E": "Е",  # Cyrillic capital IE
    "T": "Т",  # Cyrillic capital TE
    "X": "Х",  # Cyrillic capital HA
    "-": "‐",  # hyphen (U+2010)
    ".": "․",  # one dot leader
    " ": "\u00a0",  # no-break space
}


@st.composite
def mutated(draw: st.DrawFn, valid: st.SearchStrategy[str]) -> str:
    """A valid value with one small edit: the mistakes people and tools make."""
    value = draw(valid)
    if not value:
        return value
    op = draw(st.sampled_from(["replace", "delete", "insert", "swap", "lower", "separator", "space", "lookalike"]))
    i = draw(st.integers(0, len(value) - 1))
    if op == "replace":
        return value[:i] + draw(st.sampled_from("0123456789ABCXYZ")) + value[i + 1:]
    if op == "delete":
        return value[:i] + value[i + 1:]
    if op == "insert":
        return value[:i] + draw(st.sampled_from("0123456789AZ")) + value[i:]
    if op == "swap" and i + 1 < len(value):
        return value[:i] + value[i + 1] + value[i] + value[i + 2:]
    if op == "lower":
        return value.lower()
    if op == "separator":
        return value[:i] + draw(st.sampled_from(["-", ".", " ", "/", "_"])) + value[i:]
    if op == "space":
        return draw(st.sampled_from([" ", "\t", "\n"])) + value if draw(st.booleans()) else value + " "
    if op == "lookalike":
        spots = [k for k, ch in enumerate(value) if ch in LOOKALIKES]
        if spots:
            k = draw(st.sampled_from(spots))
            return value[:k] + LOOKALIKES[value[k]] + value[k + 1:]
    return value


def candidates(valid: st.SearchStrategy[str], alphabet: str, max_size: int, seeds: list[str] | None = None
               ) -> st.SearchStrategy[str]:
    """Valid values by construction, mutated valid values, random strings of the scheme's
    alphabet (plus a little of everything else), and the curated valid values as written.

    Hypothesis shrinks towards earlier branches: constructed values come first, so a
    disagreement found on a curated value still shrinks to the simplest constructed one
    where it can."""
    pool = valid if not seeds else st.one_of(valid, st.sampled_from(seeds))
    noise = st.text(alphabet=st.sampled_from(alphabet) | st.characters(codec="utf-8"), max_size=max_size)
    branches = [valid, mutated(pool), st.text(alphabet=alphabet, max_size=max_size), noise]
    if seeds:
        branches.append(st.sampled_from(seeds))
    return st.one_of(*branches)
