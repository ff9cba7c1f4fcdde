"""A static HTML scorecard site: index with one matrix per check, vendor, group and cell pages.

Every page is rendered by Jinja2 with autoescaping on; untrusted strings additionally
go through the ``v`` filter, which shows hidden characters as escapes and isolates
the text's direction (``<bdi>``) so it cannot reorder the page around it.  File names
come from vendor ids (schema-validated) or from sha1 digests, never from free text.
Links are relative, so the site works from ``file://``; nothing is loaded from a network.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from reports.bundle import CONFLICT_MARK, OUTCOMES, SEVERITY, conflicts_of, merge_line, shard_line, validate_bundle
from reports.figures import crosstalk_tables, figure_data, roc_rows
from reports.matrix import ASSEMBLED_MARK, MARKS, MEANINGS, build_matrices, participants, sort_key
from reports.text import shorten, visible_html

TEMPLATES = Path(__file__).with_name("templates")
_PAGE_FOLDERS = ("cells", "vendors", "groups")
#: Where the watermark figures' PNGs go (names from figure ids, which the schema constrains).
_FIGURES = "figures"
#: The list of pages the last render wrote.  Only pages named there are ever removed,
#: so re-rendering drops a previous run's pages but never deletes anyone else's files.
_MANIFEST = ".aiii-site-pages.json"


def _v(value: Any, limit: int | None = None) -> Markup:
    """Filter: untrusted one-line text, escaped, hidden characters visible, direction isolated."""
    text = "" if value is None else str(value)
    if limit is not None:
        text = shorten(text, limit)
    return Markup(f"<bdi>{visible_html(text)}</bdi>")  # visible_html has escaped it


def _vblock(value: Any) -> Markup:
    """Filter: untrusted multi-line text for a ``<pre>`` block."""
    return visible_html("" if value is None else str(value), keep_newlines=True)


def _pretty_json(value: Any) -> str:
    """Filter: indented JSON that keeps non-ASCII text readable (escaping comes after)."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def _web_link(url: Any) -> str | None:
    """``url`` when it is safe to link to (http or https), else None."""
    if isinstance(url, str) and url.lower().startswith(("https://", "http://")):
        return url
    return None


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        auto_reload=False,  # templates do not change during a render; skips a stat per page
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["v"] = _v
    env.filters["vblock"] = _vblock
    env.filters["pretty_json"] = _pretty_json
    env.globals.update(
        OUTCOMES=OUTCOMES,
        SEVERITY=SEVERITY,
        MARKS=MARKS,
        MEANINGS=MEANINGS,
        web_link=_web_link,
        roc_rows=roc_rows,
        shard_line=shard_line,
        ASSEMBLED_MARK=ASSEMBLED_MARK,
        participants=participants,
        merge_line=merge_line,
        CONFLICT_MARK=CONFLICT_MARK,
    )
    return env


def _digest(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:16]


def cell_page(cell_id: str) -> str:
    """Site-relative path of a cell's page: a digest of the id, never vendor text."""
    return f"cells/{_digest(cell_id)}.html"


def vendor_page(vendor_id: str) -> str:
    """Site-relative path of a vendor's page (ids are schema-validated, quoted anyway)."""
    return f"vendors/{quote(vendor_id, safe='')}.html"


def _group_page(check_id: str, row: str, column: str) -> str:
    return f"groups/{_digest(check_id, row, column)}.html"


def _by_outcome(cells: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for cell in sorted(cells, key=sort_key):
        grouped.setdefault(cell["outcome"], []).append(cell)
    return [(outcome, grouped[outcome]) for outcome in SEVERITY if outcome in grouped]


class _Site:
    """Renders one bundle into ``out_dir``; one compiled template per page type."""

    def __init__(self, bundle: dict[str, Any], out_dir: Path) -> None:
        self.bundle = bundle
        self.out_dir = out_dir
        self.env = _environment()
        self.checks = {check["id"]: check for check in bundle["checks"]}
        self.vectors = {vector["id"]: vector for vector in bundle["vectors"]}
        self.cell_href = {cell["id"]: cell_page(cell["id"]) for cell in bundle["cells"]}
        if len(set(self.cell_href.values())) != len(self.cell_href):
            raise RuntimeError("two cell ids share a page digest; lengthen the digest")
        self.vendor_href = {vendor["id"]: vendor_page(vendor["id"]) for vendor in bundle["vendors"]}
        self._rows: dict[str, Markup] = {}
        # Globals rather than render arguments, so imported macros see them too.
        self.conflicts = conflicts_of(bundle)
        self.env.globals.update(vendor_href=self.vendor_href, cell_href=self.cell_href, cell_row=self._row,
                                conflicts=self.conflicts)
        self.matrices = build_matrices(bundle)
        self.group_href: dict[str, str] = {}  # cell id -> its group page
        self.written: list[str] = []  # site-relative page paths

    def _row(self, cell: dict[str, Any]) -> Markup:
        """A cell's row in the lists of group and vendor pages, rendered once per cell."""
        row = self._rows.get(cell["id"])
        if row is None:
            # Every list page sits one folder below the site root.
            html = self.env.get_template("cell_row.html.j2").render(root="../", cell=cell)
            row = self._rows[cell["id"]] = Markup(html)
        return row

    def _write(self, relative: str, template: str, **context: Any) -> Path:
        root = "../" * relative.count("/")
        html = self.env.get_template(template).render(root=root, run=self.bundle["run"], **context)
        target = self.out_dir / relative
        target.write_text(html, encoding="utf-8")
        self.written.append(relative)
        return target

    def render(self) -> Path:
        for folder in _PAGE_FOLDERS:
            (self.out_dir / folder).mkdir(parents=True, exist_ok=True)
        matrices = []
        for index, matrix in enumerate(self.matrices):
            links = {}
            for (row, column), group in matrix.groups.items():
                href = _group_page(matrix.check["id"], row, column)
                links[(row, column)] = href
                for cell in group.cells:
                    self.group_href[cell["id"]] = href
                self._write(
                    href,
                    "group.html.j2",
                    check=matrix.check,
                    matrix=matrix,
                    group=group,
                    sections=_by_outcome(group.cells),
                    anchor=f"check-{index}",
                )
            matrices.append({"matrix": matrix, "links": links, "anchor": f"check-{index}"})
        for cell in self.bundle["cells"]:
            self._write(
                self.cell_href[cell["id"]],
                "cell.html.j2",
                cell=cell,
                check=self.checks[cell["check"]],
                vector=self.vectors[cell["vector"]],
                group_href=self.group_href[cell["id"]],
                measurements=_pretty_json(cell["measurements"]),
                alternatives=self.conflicts.get(cell["id"], []),
                inputs=self.bundle["run"].get("merged_from", []),
            )
        for vendor in self.bundle["vendors"]:
            self._vendor(vendor)
        figures = self._figures()
        counts = Counter(cell["outcome"] for cell in self.bundle["cells"])
        index_page = self._write(
            "index.html",
            "index.html.j2",
            bundle=self.bundle,
            counts=counts,
            matrices=matrices,
            options=_pretty_json(self.bundle["run"]["options"]),
            figures=figures,
            crosstalk=crosstalk_tables(self.bundle["cells"]),
            assembled=any(len(participants(cell)) > 1 for cell in self.bundle["cells"]),
        )
        self._remove_stale()
        return index_page

    def _figures(self) -> list[dict[str, Any]]:
        """Draw the bundle's watermark figures (computed from the cells for bundles older
        than the ``figures`` key) into ``figures/``; matplotlib loads only when there are any."""
        given: list[dict[str, Any]] | None = self.bundle.get("figures")
        figures = figure_data(self.bundle["cells"]) if given is None else given
        if figures:
            from reports.plots import draw

            (self.out_dir / _FIGURES).mkdir(parents=True, exist_ok=True)
            for figure in figures:
                draw(figure, self.out_dir / figure["png"])
                self.written.append(figure["png"])
        return figures

    def _remove_stale(self) -> None:
        """Delete pages a previous render left behind, so the site shows this run only."""
        manifest = self.out_dir / _MANIFEST
        try:
            previous = set(json.loads(manifest.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            previous = set()
        for relative in previous - set(self.written):
            # Only names this module could have written: a folder of ours and a plain file name.
            folder, _, name = str(relative).partition("/")
            ours = (folder in _PAGE_FOLDERS and name.endswith(".html")) or (folder == _FIGURES and name.endswith(".png"))
            if ours and "/" not in name and not name.startswith("."):
                (self.out_dir / folder / name).unlink(missing_ok=True)
        manifest.write_text(json.dumps(sorted(self.written), indent=0), encoding="utf-8")

    def _vendor(self, vendor: dict[str, Any]) -> None:
        vid = vendor["id"]
        cells = [c for c in self.bundle["cells"] if vid == c["consumer"] or vid in (c["producer"] or "").split("+")]
        per_check: dict[str, Counter[str]] = {}
        for cell in cells:
            per_check.setdefault(cell["check"], Counter())[cell["outcome"]] += 1
        self._write(
            self.vendor_href[vid],
            "vendor.html.j2",
            vendor=vendor,
            counts=Counter(c["outcome"] for c in cells),
            per_check=[(self.checks[check], per_check[check]) for check in self.checks if check in per_check],
            sections=_by_outcome(cells),
        )


def render_site(bundle: dict[str, Any], out_dir: Path | str, *, validate: bool = True) -> Path:
    """Write the HTML site for ``bundle`` into ``out_dir``; returns the index page."""
    if validate:
        validate_bundle(bundle)
    return _Site(bundle, Path(out_dir)).render()
