"""The landing page's answer to "who works with whom": per family, a producer x consumer
matrix of interop scores (``reports/score.py``, method :data:`~reports.score.METHOD`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reports.score import METHOD, NONE, Score, family_scores, pair_scores

#: The method in a few sentences, for the page (the docstring of reports/score.py is the reference).
METHOD_TEXT = (
    "A square's score is the share of the pair's judged cells that work: pass and xpass work; fail, error and "
    "xfail (a declared known issue is still a failure to interoperate) do not. Unsupported, blocked and "
    "inconclusive cells are not judged: they are left out of the score and counted beside it. A pipeline's "
    "cell (producer a+b) counts for a and for b; a cell that reads a catalogue file has no producer (—), one "
    "that judges a producer's own output has no consumer (—). The score is computed from this bundle alone, "
    "so an old run re-scores the same way."
)


@dataclass
class FamilyMatrix:
    """One family's pairs: producer rows x consumer columns, each with its score."""

    family: str
    rows: list[str]
    columns: list[str]
    squares: dict[tuple[str, str], Score]
    total: Score
    checks: list[dict[str, Any]]


def _order(labels: set[str]) -> list[str]:
    return sorted(labels - {NONE}) + ([NONE] if NONE in labels else [])


def family_matrices(bundle: dict[str, Any]) -> list[FamilyMatrix]:
    """One matrix per family, in the order the bundle's checks name them."""
    pairs, totals = pair_scores(bundle), family_scores(bundle)
    order: list[str] = []
    checks: dict[str, list[dict[str, Any]]] = {}
    for check in bundle["checks"]:
        if check["family"] not in checks:
            order.append(check["family"])
        checks.setdefault(check["family"], []).append(check)
    order += sorted(set(pairs) - set(order))  # a cell of a check the bundle does not list (never, when valid)
    matrices = []
    for family in order:  # a family whose checks have no cells still gets its (empty) matrix
        squares = pairs.get(family, {})
        matrices.append(FamilyMatrix(family, _order({p for p, _ in squares}), _order({c for _, c in squares}),
                                     squares, totals.get(family, Score()), checks.get(family, [])))
    return matrices


def percent_of(working: int, judged: int, places: int = 0) -> str:
    """``working / judged`` as a percentage rounded down to ``places`` decimals, so only a
    pair that always works shows 100% (``—`` when nothing was judged).  Every page and badge
    shows scores this way: the hub's landing page and a run's scorecard never disagree."""
    if not judged:
        return "—"
    scale = 10**places
    return f"{working * 100 * scale // judged / scale:.{places}f}%"  # integer division: rounded down, exactly


def percent(score: Score) -> str:
    """The score as a whole percentage, rounded down (so only a pair that always works shows 100%)."""
    return percent_of(score.working, score.judged)


def colour(score: Score) -> str:
    """A background colour from red (0) through yellow to green (1); grey when nothing was judged."""
    value = score.value
    return "#eaeef2" if value is None else f"hsl({round(value * 120)}, 70%, 80%)"


def describe(score: Score, producer: str, consumer: str) -> str:
    """A square's tooltip in words."""
    what = f"{producer} → {consumer}: "
    if score.judged:
        what += f"{score.working} of {score.judged} judged cells work ({percent(score)})"
    else:
        what += "no cell judged"
    return what + (f"; {score.not_judged} not judged" if score.not_judged else "")


__all__ = ["METHOD", "METHOD_TEXT", "FamilyMatrix", "colour", "describe", "family_matrices", "percent", "percent_of"]
