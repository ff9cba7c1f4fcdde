"""Group a bundle's cells into one producer x consumer matrix per check."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from reports.bundle import OUTCOMES, SEVERITY

#: Row or column label for a role the check does not have.
ABSENT = "—"
#: Short marks for counts in compact views ("12✓ 1✗").
MARKS: dict[str, str] = {
    "pass": "✓",
    "fail": "✗",
    "error": "⚠",
    "unsupported": "∅",
    "blocked": "⊘",
    "xfail": "⊗",
    "xpass": "⊕",
    "inconclusive": "?",
}
#: What each outcome means, for legends.
MEANINGS: dict[str, str] = {
    "pass": "the check passed",
    "fail": "the check failed: an interoperability difference",
    "error": "an adapter or protocol failure, or a timeout",
    "unsupported": "the vendor does not declare the capability; not a failure",
    "blocked": "an upstream step failed, so the cell could not run",
    "xfail": "a known issue the vendor declared, with a link and an expiry; not a failure",
    "xpass": "a declared known issue that now passes; its expectation should be removed",
    "inconclusive": "insufficient evidence: too few trials to support or refute a statistical claim; not a failure",
}


@dataclass
class Group:
    """The cells of one matrix position (one row, one column) of a check."""

    row: str
    column: str
    cells: list[dict[str, Any]] = field(default_factory=list)

    @property
    def counts(self) -> Counter[str]:
        return Counter(cell["outcome"] for cell in self.cells)

    @property
    def assembled(self) -> int:
        """How many of its cells rest on more than one participant's work (packs)."""
        return sum(len(participants(cell)) > 1 for cell in self.cells)


#: The scorecard's mark of a cell assembled from several participants' work.
ASSEMBLED_MARK = "⧉"


def participants(cell: dict[str, Any]) -> list[str]:
    """The participants whose runs computed a cell's steps (its ``origin``), sorted."""
    return sorted({o["participant"] for o in (cell.get("origin") or {}).values() if o.get("run")})


@dataclass
class Matrix:
    """One check's cells laid out as rows (producers, or vectors) x consumer columns."""

    check: dict[str, Any]
    row_title: str
    rows: list[str]
    columns: list[str]
    groups: dict[tuple[str, str], Group]

    @property
    def counts(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for group in self.groups.values():
            total.update(group.counts)
        return total


def _order(labels: set[str]) -> list[str]:
    return sorted(labels - {ABSENT}) + ([ABSENT] if ABSENT in labels else [])


def _vector_label(cell: dict[str, Any]) -> str:
    return f"{cell['vector']} / {cell['variant']}" if cell["variant"] else cell["vector"]


def build_matrices(bundle: dict[str, Any]) -> list[Matrix]:
    """One matrix per check, in the bundle's check order; checks without cells too."""
    by_check: dict[str, list[dict[str, Any]]] = {check["id"]: [] for check in bundle["checks"]}
    for cell in bundle["cells"]:
        by_check[cell["check"]].append(cell)
    matrices = []
    for check in bundle["checks"]:
        cells = by_check[check["id"]]
        has_producer = any(cell["producer"] is not None for cell in cells)
        has_channel = any(cell.get("channel") for cell in cells)
        groups: dict[tuple[str, str], Group] = {}
        for cell in cells:
            row = (cell["producer"] or ABSENT) if has_producer else _vector_label(cell)
            if has_channel:  # the channel a producer wrote through is the row (opt-out: channel x evaluator)
                row = f"{cell.get('channel') or ABSENT} ({row})"
            column = cell["consumer"] or ABSENT
            groups.setdefault((row, column), Group(row, column)).cells.append(cell)
        for group in groups.values():
            group.cells.sort(key=sort_key)
        matrices.append(
            Matrix(
                check=check,
                row_title=("channel (producer)" if has_channel else "producer") if has_producer else "vector / variant",
                rows=_order({row for row, _ in groups}),
                columns=_order({column for _, column in groups}),
                groups=groups,
            )
        )
    return matrices


def _field_disagreements(cell: dict[str, Any]) -> bool:
    """Whether a cell compares answers field by field: ``disagreements`` as ``[{field,
    answers: [{value, by}]}]`` beside ``fields_not_exposed``."""
    m = cell.get("measurements")
    found = m.get("disagreements") if isinstance(m, dict) and "fields_not_exposed" in m else None
    return isinstance(found, list) and all(isinstance(d, dict) and isinstance(d.get("answers"), list) for d in found)


def per_file(matrix: Matrix) -> list[tuple[str, dict[str, Any]]]:
    """(row, cell) of a check judged per file (no producer, no consumer) whose cells list
    each field's answers as ``disagreements`` (provenance.agreement), in row order."""
    if matrix.columns != [ABSENT]:
        return []
    return [(row, cell) for row in matrix.rows for cell in matrix.groups[(row, ABSENT)].cells
            if _field_disagreements(cell)]


_RANK = {outcome: rank for rank, outcome in enumerate(SEVERITY)}


def sort_key(cell: dict[str, Any]) -> tuple[int, str]:
    """Order cells by severity of outcome, then by id."""
    return _RANK[cell["outcome"]], cell["id"]


def count_marks(counts: Counter[str]) -> str:
    """Compact counts such as ``12✓ 1✗``; empty string when there are none."""
    return " ".join(f"{counts[o]}{MARKS[o]}" for o in OUTCOMES if counts[o])
