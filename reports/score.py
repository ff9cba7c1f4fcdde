"""The interoperability score: how well two vendors work together, from a bundle alone.

Method ``interop-score/1`` (:data:`METHOD`), written down so that any run, old or new,
re-scores the same way from its ``results.json``:

- A cell counts for every pair (producer, consumer) it joins: each vendor of its
  producer (a pipeline's ``a+b`` counts for ``a`` and for ``b``) with its consumer.  A
  cell without a producer (a catalogue file read as it is) has :data:`NONE` as producer;
  one without a consumer (a producer's own output judged) has :data:`NONE` as consumer.
- Its check's ``family`` is the family it counts for.
- **Judged** cells are those whose outcome says whether the pair works together:
  ``pass`` and ``xpass`` (it works) and ``fail``, ``error`` and ``xfail`` (it does not:
  a declared known issue is still a failure to interoperate).
- ``unsupported``, ``blocked`` and ``inconclusive`` are not judged: they are left out of
  the score and counted beside it, so a score never hides how much was not judged.
- The score is ``working / judged``, a fraction in [0, 1], or ``None`` when nothing was
  judged.  A vendor's score in a family is the same over every cell it joins, as
  producer or as consumer (a cell counted once even when it joins twice).

Bump :data:`METHOD` when any of this changes; stored scores carry the method they used.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: The method's name and version, recorded beside every score.
METHOD = "interop-score/1"
#: Outcomes that say the pair works together.
WORKING = frozenset({"pass", "xpass"})
#: Outcomes that say it does not.
NOT_WORKING = frozenset({"fail", "error", "xfail"})
#: Outcomes left out of the score, and counted beside it.
NOT_JUDGED = frozenset({"unsupported", "blocked", "inconclusive"})
#: The producer of a cell that reads a catalogue file, the consumer of one that has none.
NONE = "—"


@dataclass
class Score:
    """The cells behind one score, by outcome."""

    counts: Counter[str] = field(default_factory=Counter)

    @property
    def working(self) -> int:
        return sum(self.counts[o] for o in WORKING)

    @property
    def judged(self) -> int:
        return sum(self.counts[o] for o in WORKING | NOT_WORKING)

    @property
    def not_judged(self) -> int:
        return sum(self.counts[o] for o in NOT_JUDGED)

    @property
    def value(self) -> float | None:
        """``working / judged``, or None when no cell was judged."""
        return self.working / self.judged if self.judged else None

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: the value (rounded to 4 places), and the counts behind it."""
        value = self.value
        return {"score": None if value is None else round(value, 4), "working": self.working, "judged": self.judged,
                "not_judged": self.not_judged, "outcomes": dict(sorted(self.counts.items()))}


def producers_of(cell: Mapping[str, Any]) -> list[str]:
    """The vendors of a cell's producer (``a+b`` gives both), or :data:`NONE`."""
    producer = cell.get("producer")
    return sorted(set(str(producer).split("+"))) if producer else [NONE]


def families(bundle: Mapping[str, Any]) -> dict[str, str]:
    """Check id -> family, from the bundle's checks."""
    return {str(c["id"]): str(c["family"]) for c in bundle.get("checks", [])}


def _cells(bundle: Mapping[str, Any], flaky: Iterable[str] = ()) -> Iterable[tuple[str, Mapping[str, Any]]]:
    family_of, skip = families(bundle), set(flaky)
    for cell in bundle["cells"]:
        if cell["id"] not in skip:
            yield family_of.get(cell["check"], cell["check"].split(".")[0]), cell


def pair_scores(bundle: Mapping[str, Any], flaky: Iterable[str] = ()) -> dict[str, dict[tuple[str, str], Score]]:
    """Family -> (producer, consumer) -> its score; ``flaky`` cell ids are left out."""
    out: dict[str, dict[tuple[str, str], Score]] = {}
    for family, cell in _cells(bundle, flaky):
        consumer = cell.get("consumer") or NONE
        for producer in producers_of(cell):
            out.setdefault(family, {}).setdefault((producer, consumer), Score()).counts[cell["outcome"]] += 1
    return out


def vendor_scores(bundle: Mapping[str, Any], flaky: Iterable[str] = ()) -> dict[str, dict[str, Score]]:
    """Vendor -> family -> its score over every cell it joins (producer or consumer)."""
    out: dict[str, dict[str, Score]] = {}
    for family, cell in _cells(bundle, flaky):
        joined = {*producers_of(cell), cell.get("consumer") or NONE} - {NONE}
        for vendor in joined:
            out.setdefault(vendor, {}).setdefault(family, Score()).counts[cell["outcome"]] += 1
    return out


def family_scores(bundle: Mapping[str, Any], flaky: Iterable[str] = ()) -> dict[str, Score]:
    """Family -> its score over all its cells (the headline numbers)."""
    out: dict[str, Score] = {}
    for family, cell in _cells(bundle, flaky):
        out.setdefault(family, Score()).counts[cell["outcome"]] += 1
    return out
