"""Where each thing of a bundle goes on the scorecard site, and which page lists which cells.

The site has one file per vendor, check and family, not per cell:

- a cell's detail sits in ``cells/<xx>.html`` at the anchor ``#c-<digest>``, where the
  digest is a hash of the cell id and ``xx`` its first two hex digits: at most
  :data:`CELL_FILES` files, a few hundred cells each at 100k cells, and a cell's address
  depends on its id alone, so it stays the same from run to run (deep links survive);
- the cells of one matrix position (a *group*) are listed, worst outcome first, on
  ``groups/<n>.html`` at ``#g-<digest>``; those pages hold whole groups, about
  :data:`LISTING_ROWS` rows each, and a larger group continues on the next page.

Every file name comes from a digest or a schema-checked id, never from free text.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from reports.matrix import Group, Matrix
from reports.score import NONE, producers_of

#: Cell detail files: one per first two hex digits of the cell id's digest.
CELL_FILES = 256
#: About how many cell rows one group listing page holds.
LISTING_ROWS = 500
#: Names that may be used as they are in a file name (the schema's vendor id pattern).
_SAFE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


def digest(*parts: str) -> str:
    """A short hex digest of ``parts`` (used for anchors and file names, never shown as data)."""
    return hashlib.sha1("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:16]


def slug(name: str) -> str:
    """``name`` itself when it is a safe file name, else ``_`` and its digest (which no safe name starts with)."""
    return name if _SAFE.match(name) else f"_{digest(name)}"


def cell_anchor(cell_id: str) -> str:
    return f"c-{digest(cell_id)}"


def cell_page(cell_id: str) -> str:
    """Site-relative address of a cell's detail: ``cells/<xx>.html#c-<digest>``, from its id alone."""
    anchor = cell_anchor(cell_id)
    return f"cells/{anchor[2:4]}.html#{anchor}"


def vendor_page(vendor_id: str) -> str:
    """Site-relative path of a vendor's page (ids are schema-validated, quoted anyway)."""
    return f"vendors/{quote(vendor_id, safe='')}.html"


def check_page(check_id: str) -> str:
    """Site-relative path of a check's page: its producer x consumer matrix."""
    return f"checks/{slug(check_id)}.html"


def family_page(family: str) -> str:
    """Site-relative path of a family's page: its vendor x vendor scores and each pair's cells."""
    return f"families/{slug(family)}.html"


def pair_anchor(producer: str, consumer: str) -> str:
    return f"p-{digest(producer, consumer)}"


@dataclass
class GroupPlace:
    """Where a group's listing is: the page and anchor of its start and of each outcome."""

    matrix: Matrix
    group: Group
    anchor: str
    href: str = ""
    outcome_href: dict[str, str] = field(default_factory=dict)


@dataclass
class Run:
    """A run of cells of one outcome of one group on one listing page."""

    outcome: str
    cells: list[dict[str, Any]]
    continued: bool  # the outcome's first cells are on the page before


@dataclass
class Block:
    """One group's part of a listing page."""

    place: GroupPlace
    runs: list[Run]
    continued: bool  # the group began on the page before
    more: str | None = None  # the next page, when the group continues there


def _runs(cells: list[dict[str, Any]], seen: set[str]) -> list[Run]:
    runs: list[Run] = []
    for cell in cells:
        if not runs or runs[-1].outcome != cell["outcome"]:
            runs.append(Run(cell["outcome"], [], cell["outcome"] in seen))
            seen.add(cell["outcome"])
        runs[-1].cells.append(cell)
    return runs


def lay_out_groups(matrices: list[Matrix], rows: int = LISTING_ROWS) -> tuple[list[list[Block]], list[GroupPlace]]:
    """Cut every check's groups, in matrix order, into listing pages of about ``rows`` cells.

    A group goes whole on the current page when it fits, else it starts a new page, and
    a group larger than a page is split over several.  Returns the pages and every
    group's place (with its links filled in).
    """
    pages: list[list[Block]] = [[]]
    size = 0
    places: list[GroupPlace] = []
    for matrix in matrices:
        for row in matrix.rows:
            for column in matrix.columns:
                group = matrix.groups.get((row, column))
                if group is None:
                    continue
                place = GroupPlace(matrix, group, "g-" + digest(matrix.check["id"], row, column))
                places.append(place)
                if size and size + len(group.cells) > rows:
                    pages.append([])
                    size = 0
                seen: set[str] = set()
                start = 0
                while start < len(group.cells):
                    if size >= rows:
                        pages[-1][-1].more = f"{len(pages)}.html"
                        pages.append([])
                        size = 0
                    part = group.cells[start:start + rows - size]
                    name = f"groups/{len(pages) - 1}.html"
                    block = Block(place, _runs(part, seen), continued=start > 0)
                    if start == 0:
                        place.href = f"{name}#{place.anchor}"
                    for run in block.runs:
                        if not run.continued:
                            place.outcome_href[run.outcome] = f"{name}#{place.anchor}-{run.outcome}"
                    pages[-1].append(block)
                    start += len(part)
                    size += len(part)
    if not pages[-1]:
        pages.pop()
    return pages, places


def pairs_of_groups(places: list[GroupPlace]) -> dict[str, dict[tuple[str, str], list[GroupPlace]]]:
    """Family -> (producer, consumer) -> the groups holding that pair's cells, as the score counts them."""
    out: dict[str, dict[tuple[str, str], list[GroupPlace]]] = {}
    for place in places:
        family = place.matrix.check["family"]
        pairs: set[tuple[str, str]] = set()
        for cell in place.group.cells:
            consumer = cell.get("consumer") or NONE
            pairs.update((producer, consumer) for producer in producers_of(cell))
        for pair in sorted(pairs):
            out.setdefault(family, {}).setdefault(pair, []).append(place)
    return out


def bucket_cells(cells: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Cell files (``cells/<xx>.html``) -> their cells, by id; refuses two ids with one digest."""
    out: dict[str, list[dict[str, Any]]] = {}
    anchors: set[str] = set()
    for cell in sorted(cells, key=lambda c: c["id"]):
        anchor = cell_anchor(cell["id"])
        if anchor in anchors:
            raise RuntimeError("two cell ids share a page digest; lengthen the digest")
        anchors.add(anchor)
        out.setdefault(f"cells/{anchor[2:4]}.html", []).append(cell)
    return out

