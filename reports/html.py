"""A static HTML scorecard site: who works with whom, check matrices, vendors, groups, cells.

The landing page (``index.html``) shows, per family, a producer x consumer matrix of interop
scores (``reports/site_scores.py``), the headline numbers and what data it shows; below it
sit a page per family (each pair's cells by check), per check (its producer x consumer
matrix of outcomes) and per vendor, the group listings and the cell details, laid out in
a bounded number of files (``reports/site_layout.py``): no file per cell.

Every page is rendered by Jinja2 with autoescaping on; untrusted strings additionally
go through the ``v`` filter, which shows hidden characters as escapes and isolates
the text's direction (``<bdi>``) so it cannot reorder the page around it.  File names
come from schema-checked ids or from sha1 digests, never from free text.  Links are
relative, so the site works from ``file://``; nothing is loaded from a network and no
page has a script.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from reports.bundle import CONFLICT_MARK, OUTCOMES, SEVERITY, conflicts_of, merge_line, shard_line, validate_bundle
from reports.figures import crosstalk_tables, figure_data, roc_rows
from reports.matrix import ASSEMBLED_MARK, MARKS, MEANINGS, build_matrices, participants, per_file
from reports.score import METHOD, NONE, vendor_scores
from reports.site_layout import (
    bucket_cells,
    cell_anchor,
    cell_page,
    check_page,
    family_page,
    lay_out_groups,
    pair_anchor,
    pairs_of_groups,
    vendor_page,
)
from reports.site_scores import METHOD_TEXT, colour, describe, family_matrices, percent
from reports.text import shorten, visible, visible_html

__all__ = ["cell_page", "check_page", "family_page", "render_site", "vendor_page"]

TEMPLATES = Path(__file__).with_name("templates")
_PAGE_FOLDERS = ("cells", "vendors", "groups", "checks", "families")
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


def _t(value: Any, limit: int | None = None) -> str:
    """Filter: untrusted text where no markup may go (a page's ``<title>``): hidden
    characters shown as escapes, then autoescaped like any string."""
    text = "" if value is None else str(value)
    return visible(shorten(text, limit) if limit is not None else text)


def _vblock(value: Any) -> Markup:
    """Filter: untrusted multi-line text for a ``<pre>`` block."""
    return visible_html("" if value is None else str(value), keep_newlines=True)


def _pretty_json(value: Any) -> str:
    """Filter: indented JSON that keeps non-ASCII text readable (escaping comes after)."""
    return json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False)


def _pre_json(value: Any) -> Markup:
    """Filter: a value as indented JSON for a ``<pre>`` element's content (only there: double
    quotes stay unescaped, which is safe in element content and a fifth of a cell's bytes)."""
    return Markup(str(_vblock(_pretty_json(value))).replace("&#34;", '"'))


def _web_link(url: Any) -> str | None:
    """``url`` when it is safe to link to (http or https), else None."""
    if isinstance(url, str) and url.lower().startswith(("https://", "http://")):
        return url
    return None


def _nav_links(nav: list[tuple[str, str]] | None) -> list[tuple[str, str, bool]]:
    """(label, href, relative to the site root) for each extra header link; refuses other schemes."""
    links = []
    for label, href in nav or []:
        parts = urlsplit(href)
        if parts.scheme not in ("", "http", "https"):
            raise ValueError(f"nav link {href!r}: only relative, http and https links")
        links.append((label, href, not parts.scheme and not parts.netloc and not href.startswith("/")))
    return links


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
    env.filters["t"] = _t
    env.filters["vblock"] = _vblock
    env.filters["pretty_json"] = _pretty_json
    env.filters["pre_json"] = _pre_json
    env.globals.update(
        OUTCOMES=OUTCOMES,
        SEVERITY=SEVERITY,
        MARKS=MARKS,
        MEANINGS=MEANINGS,
        NONE=NONE,
        METHOD=METHOD,
        web_link=_web_link,
        roc_rows=roc_rows,
        shard_line=shard_line,
        ASSEMBLED_MARK=ASSEMBLED_MARK,
        participants=participants,
        merge_line=merge_line,
        CONFLICT_MARK=CONFLICT_MARK,
        percent=percent,
        colour=colour,
        describe=describe,
        pair_anchor=pair_anchor,
        cell_anchor=cell_anchor,
        check_page=check_page,
        family_page=family_page,
    )
    return env


class _Site:
    """Renders one bundle into ``out_dir``; one compiled template per page type."""

    def __init__(self, bundle: dict[str, Any], out_dir: Path, nav: list[tuple[str, str]] | None) -> None:
        self.bundle = bundle
        self.out_dir = out_dir
        self.env = _environment()
        self.checks = {check["id"]: check for check in bundle["checks"]}
        self.vectors = {vector["id"]: vector for vector in bundle["vectors"]}
        self.buckets = bucket_cells(bundle["cells"])
        self.cell_href = {cell["id"]: cell_page(cell["id"]) for cell in bundle["cells"]}
        self.vendor_href = {vendor["id"]: vendor_page(vendor["id"]) for vendor in bundle["vendors"]}
        self.matrices = build_matrices(bundle)
        self.listings, self.places = lay_out_groups(self.matrices)
        self.group_of = {cell["id"]: place for place in self.places for cell in place.group.cells}
        self.families = family_matrices(bundle)
        self.conflicts = conflicts_of(bundle)
        # Globals rather than render arguments, so imported macros see them too.
        self.env.globals.update(vendor_href=self.vendor_href, cell_href=self.cell_href, conflicts=self.conflicts,
                                nav=_nav_links(nav), run=bundle["run"])
        self.written: list[str] = []  # site-relative page paths
        self.figure_cache: Path | None = None  # see render_site

    def _write(self, relative: str, template: str, **context: Any) -> Path:
        root = "../" * relative.count("/")
        html = self.env.get_template(template).render(root=root, **context)
        target = self.out_dir / relative
        target.write_text(html, encoding="utf-8")
        self.written.append(relative)
        return target

    def render(self) -> Path:
        for folder in _PAGE_FOLDERS:
            (self.out_dir / folder).mkdir(parents=True, exist_ok=True)
        pairs = pairs_of_groups(self.places)
        places_by_check: dict[str, list[Any]] = {}
        for place in self.places:
            places_by_check.setdefault(place.matrix.check["id"], []).append(place)
        for matrix in self.matrices:
            check = matrix.check
            self._write(check_page(check["id"]), "check.html.j2", check=check, matrix=matrix, per_file=per_file(matrix),
                        places={(p.group.row, p.group.column): p for p in places_by_check.get(check["id"], [])})
        for number, blocks in enumerate(self.listings):
            self._write(f"groups/{number}.html", "groups.html.j2", blocks=blocks, number=number,
                        pages=len(self.listings))
        inputs = self.bundle["run"].get("merged_from", [])
        for name, cells in self.buckets.items():
            self._write(name, "cells.html.j2", cells=cells, checks=self.checks, vectors=self.vectors,
                        group_of=self.group_of, inputs=inputs)
        for family in self.families:
            self._write(family_page(family.family), "family.html.j2", fm=family, pairs=pairs.get(family.family, {}))
        scores = vendor_scores(self.bundle)
        per_check: dict[str, dict[str, Counter[str]]] = {}  # vendor -> check -> outcomes, in one pass
        for cell in self.bundle["cells"]:
            for vid in {cell["consumer"], *(cell["producer"] or "").split("+")} - {None, ""}:
                per_check.setdefault(vid, {}).setdefault(cell["check"], Counter())[cell["outcome"]] += 1
        for vendor in self.bundle["vendors"]:
            self._vendor(vendor, scores.get(vendor["id"], {}), per_check.get(vendor["id"], {}))
        figures = self._figures()
        index_page = self._write(
            "index.html",
            "index.html.j2",
            bundle=self.bundle,
            counts=Counter(cell["outcome"] for cell in self.bundle["cells"]),
            families=self.families,
            matrices=self.matrices,
            scores=scores,
            method=METHOD,
            method_text=METHOD_TEXT,
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
            (self.out_dir / _FIGURES).mkdir(parents=True, exist_ok=True)
            for figure in figures:
                target = self.out_dir / figure["png"]
                kept = self.figure_cache / f"{_figure_key(figure)}.png" if self.figure_cache else None
                if kept is not None and kept.is_file():  # drawn before from the same data: matplotlib stays unloaded
                    shutil.copyfile(kept, target)
                else:
                    from reports.plots import draw

                    draw(figure, target)
                    if kept is not None:
                        kept.parent.mkdir(parents=True, exist_ok=True)
                        tmp = kept.with_name(f".{kept.name}.{os.getpid()}")
                        shutil.copyfile(target, tmp)
                        os.replace(tmp, kept)
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

    def _vendor(self, vendor: dict[str, Any], scores: dict[str, Any], per_check: dict[str, Counter[str]]) -> None:
        """A vendor's page: what it declares, its scores, whom it works with, its checks' outcomes."""
        vid = vendor["id"]
        partners = []
        for family in self.families:
            with_whom = sorted({c for p, c in family.squares if p == vid} | {p for p, c in family.squares if c == vid})
            rows = [(other, family.squares.get((vid, other)), family.squares.get((other, vid))) for other in with_whom]
            if rows:
                partners.append((family, rows))
        self._write(
            self.vendor_href[vid],
            "vendor.html.j2",
            vendor=vendor,
            counts=sum(per_check.values(), Counter()),
            per_check=[(self.checks[check], per_check[check]) for check in self.checks if check in per_check],
            scores=scores,
            partners=partners,
        )


def render_site(
    bundle: dict[str, Any], out_dir: Path | str, *, validate: bool = True, nav: list[tuple[str, str]] | None = None,
    figure_cache: Path | None = None,
) -> Path:
    """Write the HTML site for ``bundle`` into ``out_dir``; returns the landing page (``index.html``).

    ``nav`` adds header links to every page: (label, href), the href relative to the
    site root (or an http(s) URL), e.g. ``("All runs", "../index.html")``.
    ``figure_cache``: a folder keeping each drawn figure under the hash of its data, the
    drawing code and matplotlib's version, so a re-run whose figures are unchanged copies
    them instead of drawing (most of a warm run's rendering).
    """
    if validate:
        validate_bundle(bundle)
    site = _Site(bundle, Path(out_dir), nav)
    site.figure_cache = figure_cache
    return site.render()


@functools.cache
def _drawing_version() -> str:
    code = Path(__file__).with_name("plots.py").read_bytes()
    return hashlib.sha256(code + importlib.metadata.version("matplotlib").encode()).hexdigest()


def _figure_key(figure: dict[str, Any]) -> str:
    data = json.dumps(figure, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{_drawing_version()}\n{data}".encode()).hexdigest()
