"""The HTML scorecard: pages, links, escaping, what a reader sees (the bundle: tests/report_bundle.py)."""

from __future__ import annotations

import copy
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from report_bundle import (
    RETENTION,
    RLO,
    SCRIPT,
    _cell,
    _sha,
    _written,
    cell_detail,
    make_bundle,
    summarise,
)

from reports.html import cell_page, check_page, family_page, render_site, vendor_page
from reports.score import METHOD


class _Page(HTMLParser):
    """Collects a page's link targets, element ids and tables, and checks that tags stay balanced."""

    VOID = {"meta", "br", "hr", "img", "link", "input"}

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.resources: list[str] = []
        self.ids: set[str] = set()
        self.stack: list[str] = []
        self.tags: set[str] = set()
        self.tables: list[tuple[str, list[list[str]]]] = []  # (class, rows of cell texts)
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            if name == "href" and tag == "a":
                self.hrefs.append(value or "")
            elif name in {"src", "srcset", "href", "data", "poster", "action"}:
                self.resources.append(value or "")
            elif name == "id":
                self.ids.add(value or "")
        if tag == "table":
            self.tables.append((dict(attrs).get("class") or "", []))
        elif tag == "tr" and self.tables:
            self.tables[-1][1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}> after {self.stack[-3:]}"
        self.stack.pop()
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][1][-1].append(" ".join(" ".join(self._cell).split()))
            self._cell = None


def _parse(page: Path) -> _Page:
    parser = _Page()
    parser.feed(page.read_text(encoding="utf-8"))
    parser.close()
    assert parser.stack == [], page
    return parser


def _grids(page: Path) -> list[dict[tuple[str, str], str]]:
    """Each score matrix of ``page`` as (row header, column header) -> the square's text."""
    grids = []
    for css, rows in _parse(page).tables:
        if "scores" in css.split():
            header, *body = rows
            grids.append({(row[0], column): text for row in body for column, text in zip(header[1:], row[1:], strict=True)})
    return grids


def test_landing_page_shows_each_familys_pairs_with_scores_and_counts(
    rendered: tuple[dict[str, Any], Path, dict[str, Path]],
) -> None:
    _, _, paths = rendered
    metadata, provenance = _grids(paths["site"])
    # metadata: ref-exiv2 -> acme failed twice; zw.vendor -> ref-exiv2 passed once, one inconclusive beside it;
    # offline's one cell was blocked: nothing judged, so no score, not 0%.
    assert metadata[("ref-exiv2", "acme")] == "0% 0/2"
    assert metadata[("ref-exiv2", "ref-exiv2")] == "100% 1/1"
    assert metadata[("acme", "ref-exiv2")] == "0% 0/1"
    assert metadata[("zw.vendor", "ref-exiv2")] == "100% 1/1 +1 nj"
    assert metadata[("offline", "ref-exiv2")] == "— 0/0 +1 nj"
    assert metadata[("— (catalogue file)", "acme")] == "100% 1/1"  # a catalogue file read, no producer
    assert metadata[("— (catalogue file)", "zw.vendor")] == "0% 0/1"
    assert metadata[("acme", "acme")] == ""  # no cell
    # provenance: an xfail (a known issue still fails to interoperate) and an xpass.
    assert provenance[("ref-exiv2", "acme")] == "50% 1/2"
    assert provenance[("ref-exiv2", "zw.vendor")] == "— 0/0 +1 nj"


def test_landing_page_headline_method_and_data_as_of(rendered: tuple[dict[str, Any], Path, dict[str, Path]]) -> None:
    bundle, _, paths = rendered
    index = _parse(paths["site"])
    headline = next(rows for css, rows in index.tables if rows[0][:2] == ["family", "interop score"])
    assert headline[1:] == [["metadata", "42%", "3 / 7", "2", "9", "2"], ["provenance", "50%", "1 / 2", "1", "3", "1"]]
    text = paths["site"].read_text(encoding="utf-8")
    assert "<strong>12 cells</strong>, 3 MUST failures" in text
    assert f"How the score is computed ({METHOD})" in text and "left out of the score and counted beside it" in text
    as_of = re.sub(r"<[^>]+>", "", text.split('id="as-of">')[1].split("</p>")[0])
    assert as_of == ("Data as of 2026-11-03T10:06:00Z: run run-2026-11-03, profile core, "
                     "plan digest not recorded (a run from before plan digests).")


def test_data_as_of_shows_the_plan_digest_and_the_start_of_an_unfinished_run(tmp_path: Path) -> None:
    bundle = make_bundle()
    digest = _sha("the plan")
    bundle["run"].update(finished=None, status="interrupted",
                         plan_digest={"sha256": digest, "components": {k: _sha(k) for k in (
                             "profile", "vectors", "methodology", "channels", "cells")}})
    text = render_site(bundle, tmp_path).read_text(encoding="utf-8")
    as_of = re.sub(r"<[^>]+>", "", text.split('id="as-of">')[1].split("</p>")[0])
    assert as_of == f"Data as of 2026-11-03T10:00:00Z: run run-2026-11-03, profile core, plan digest {digest[:12]}."


def _assert_links_resolve(site: Path) -> None:
    """Every page is balanced, loads nothing, runs nothing, and each link names a file and an anchor it has."""
    pages = {page: _parse(page) for page in site.rglob("*.html")}
    for page, parsed in pages.items():
        assert "script" not in parsed.tags and "iframe" not in parsed.tags
        # data: URLs are no load (the empty icon that keeps a browser from fetching /favicon.ico)
        loads = [r for r in parsed.resources if not r.startswith("data:")]
        assert not loads, f"{page} loads {loads}"
        for href in parsed.hrefs:
            if href.startswith(("https://", "http://")):
                continue  # a navigation link to an issue tracker or homepage, not a load
            parts = urlsplit(href)
            assert not parts.scheme and not parts.netloc, href
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            assert target.is_file(), f"{page}: {href}"
            if parts.fragment and target.suffix == ".html":
                assert parts.fragment in pages[target].ids, f"{page}: {href} has no anchor there"


def test_every_link_resolves_to_a_file_and_an_anchor(rendered: tuple[dict[str, Any], Path, dict[str, Path]]) -> None:
    _, out, _ = rendered
    _assert_links_resolve(out / "site")


def test_a_large_matrix_position_continues_over_several_pages(tmp_path: Path) -> None:
    bundle = make_bundle()
    vectors = [{**bundle["vectors"][0], "id": f"v{i:04d}", "sha256": _sha(f"v{i}")} for i in range(1100)]
    cells = [_cell("metadata.roundtrip", v["id"], "ref-exiv2", "acme", "fail" if i % 3 else "pass", f"r{i}")
             for i, v in enumerate(vectors)]
    bundle.update(vectors=vectors, cells=cells, summary=summarise(cells))
    render_site(bundle, tmp_path)
    pages = [(tmp_path / "groups" / f"{n}.html").read_text(encoding="utf-8") for n in range(3)]
    assert not (tmp_path / "groups" / "3.html").exists()
    assert all(page.count("<td><a class=\"b o-") <= 500 for page in pages)
    assert "continues on the next page" in pages[0] and "(continued)" in pages[1]
    # The matrix's badges: the fails start on the first page, the passes follow them on the second.
    check = (tmp_path / check_page("metadata.roundtrip")).read_text(encoding="utf-8")
    assert re.search(r'href="\.\./groups/0\.html#g-[0-9a-f]{16}-fail" title="733 fail">✗ 733</a>', check)
    assert re.search(r'href="\.\./groups/1\.html#g-[0-9a-f]{16}-pass" title="367 pass">✓ 367</a>', check)
    _assert_links_resolve(tmp_path)


def test_every_cell_is_reached_from_the_landing_page(rendered: tuple[dict[str, Any], Path, dict[str, Path]]) -> None:
    """Follow links down from index.html (scores -> family -> groups -> cells; checks -> groups -> cells)."""
    bundle, out, _ = rendered
    site = (out / "site").resolve()
    seen: set[str] = set()
    todo = [site / "index.html"]
    visited: set[Path] = set()
    while todo:
        page = todo.pop()
        if page in visited:
            continue
        visited.add(page)
        for href in _parse(page).hrefs:
            parts = urlsplit(href)
            if parts.scheme or not parts.path.endswith(".html"):
                continue
            target = (page.parent / unquote(parts.path)).resolve()
            if target.is_relative_to(site):
                seen.add(f"{target.relative_to(site)}#{parts.fragment}")
                todo.append(target)
    assert {cell_page(cell["id"]) for cell in bundle["cells"]} <= seen
    for check in bundle["checks"]:
        assert f"{check_page(check['id'])}#" in seen
    assert f"{family_page('metadata')}#" in seen


def test_a_family_page_lists_each_pairs_cells_by_check(rendered: tuple[dict[str, Any], Path, dict[str, Path]]) -> None:
    _, out, _ = rendered
    page = (out / "site" / family_page("metadata")).read_text(encoding="utf-8")
    section = page.split('<a href="../vendors/ref-exiv2.html">ref-exiv2</a> → <a href="../vendors/acme.html">acme</a>')[1]
    section = section.split("</section>")[0]
    assert "<strong>0%</strong>" in section and "0/2" in section and "metadata.roundtrip" in section
    assert "✗ 2</a>" in section  # the two fails, linking to them in the group listing


def test_cells_are_listed_by_matrix_position_worst_first(rendered: tuple[dict[str, Any], Path, dict[str, Path]]) -> None:
    bundle, out, _ = rendered
    check = (out / "site" / check_page("metadata.roundtrip")).read_text(encoding="utf-8")
    assert check.count('<table class="matrix">') == 1
    # The zw.vendor -> ref-exiv2 square links to its inconclusive and its passing cell.
    inconclusive = re.search(r'href="\.\./(groups/\d+\.html#g-[0-9a-f]{16}-inconclusive)"', check)
    assert inconclusive is not None
    name, _, anchor = inconclusive.group(1).partition("#")
    listing = (out / "site" / name).read_text(encoding="utf-8")
    group = listing.split(f'id="{anchor.removesuffix("-inconclusive")}"')[1].split("</section>")[0]
    assert group.index("? inconclusive") < group.index("✓ pass")
    cell = next(c for c in bundle["cells"] if c["outcome"] == "inconclusive")
    assert f'href="../{cell_page(cell["id"])}"' in group and "detection rate 9/10" in group


def test_the_site_has_a_bounded_number_of_files(tmp_path: Path) -> None:
    """One file per vendor, check and family, plus at most 256 files of cell details: none per cell."""
    bundle = make_bundle()
    vectors = [{**bundle["vectors"][0], "id": f"v{i}", "sha256": _sha(f"v{i}")} for i in range(300)]
    cells = [_cell("metadata.roundtrip", v["id"], "ref-exiv2", "acme", "pass", "ok") for v in vectors]
    bundle.update(vectors=vectors, cells=cells, summary=summarise(cells))
    bundle["checks"] = bundle["checks"][:1]
    render_site(bundle, tmp_path)
    details = list((tmp_path / "cells").glob("*.html"))
    assert len(details) < 256 and sum(p.read_text(encoding="utf-8").count("<article") for p in details) == 300
    assert [p.name for p in (tmp_path / "groups").iterdir()] == ["0.html"]
    assert len(list((tmp_path / "checks").iterdir())) == 1 and len(list((tmp_path / "vendors").iterdir())) == 4


def test_injected_vendor_strings_render_as_text(tmp_path: Path) -> None:
    bundle = make_bundle()
    evil = f"{SCRIPT} {RLO}txt.exe"
    bundle["vendors"][1]["name"] = evil  # acme
    cell = bundle["cells"][1]  # ref-exiv2 -> acme, fail
    cell["reason"] = evil
    render_site(bundle, tmp_path)
    shown = "&lt;script&gt;alert(1)&lt;/script&gt; <span class=\"ctl\" title=\"U+202E RIGHT-TO-LEFT OVERRIDE\">\\u202e</span>txt.exe"
    assert f"<bdi>{shown}</bdi>" in cell_detail(tmp_path, cell["id"])
    assert f"<bdi>{shown}</bdi>" in (tmp_path / "index.html").read_text(encoding="utf-8")  # the vendors table
    assert f"<bdi>{shown}</bdi>" in (tmp_path / vendor_page("acme")).read_text(encoding="utf-8")
    listing = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "groups").iterdir())
    assert f"<bdi>{shown}</bdi>" in listing
    for page in tmp_path.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<script" not in text.lower() and RLO not in text, page


def test_page_titles_are_plain_text_with_hidden_characters_shown(tmp_path: Path) -> None:
    """A browser shows a <title> as text: markup there would show as tags in the tab."""
    bundle = make_bundle()
    bundle["run"]["id"] = f"run-{RLO}1"
    render_site(bundle, tmp_path)
    for page in tmp_path.rglob("*.html"):
        title = re.search(r"<title>(.*?)</title>", page.read_text(encoding="utf-8"), re.S)
        assert title and "<" not in title.group(1) and RLO not in title.group(1), page
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "<title>Who works with whom · run run-\\u202e1 · aiii-interop</title>" in index


def test_nav_links_go_in_every_page_header_relative_to_the_site_root(tmp_path: Path) -> None:
    render_site(make_bundle(), tmp_path, nav=[("All runs", "../index.html"), ("Hub", "https://hub.example/")])
    assert '<nav><a href="../index.html"><bdi>All runs</bdi></a> · <a href="https://hub.example/">' in (
        tmp_path / "index.html").read_text(encoding="utf-8")
    for page in tmp_path.glob("*/*.html"):
        assert '<nav><a href="../../index.html"><bdi>All runs</bdi></a>' in page.read_text(encoding="utf-8"), page
    with pytest.raises(ValueError, match="only relative, http and https"):
        render_site(make_bundle(), tmp_path, nav=[("x", "javascript:alert(1)")])


def test_hostile_strings_are_escaped_everywhere(rendered: tuple[dict[str, Any], Path, dict[str, Path]]) -> None:
    _, out, paths = rendered
    for path in _written(out):
        text = path.read_text(encoding="utf-8")
        assert "<script" not in text.lower(), path
        assert "javascript:" not in text.lower() or 'href="javascript' not in text, path
    summary = paths["summary"].read_text(encoding="utf-8")
    acme = (out / "site" / vendor_page("acme")).read_text(encoding="utf-8")
    assert "&lt;script&gt;" in summary
    assert "&lt;script&gt;" in acme
    assert "'; DROP TABLE" in acme or "&#39;; DROP TABLE" in acme
    assert 'href="javascript' not in acme
    fail = next(c for c in make_bundle()["cells"] if c["outcome"] == "fail")
    cell_html = cell_detail(out / "site", fail["id"])
    assert "&lt;script&gt;" in cell_html and "DROP TABLE x" in cell_html


def test_rtl_override_and_hidden_characters_are_visible(
    rendered: tuple[dict[str, Any], Path, dict[str, Path]],
) -> None:
    _, out, paths = rendered
    for path in _written(out):
        text = path.read_text(encoding="utf-8")
        for hidden in (RLO, "\u200b", "\x00", "\ud800"):
            assert hidden not in text, (path, hidden)
    acme = (out / "site" / vendor_page("acme")).read_text(encoding="utf-8")
    assert 'title="U+202E RIGHT-TO-LEFT OVERRIDE">\\u202e</span>' in acme
    assert "\\u202e" in paths["summary"].read_text(encoding="utf-8")
    assert "\\u200b" in (out / "site" / vendor_page("zw.vendor")).read_text(encoding="utf-8")
    # Emoji stay readable, including a zero-width-joiner sequence.
    assert "🧪" in acme and "👩\u200d🔬" in acme


def test_long_strings_are_cut_in_lists_but_complete_in_the_cell_detail(
    rendered: tuple[dict[str, Any], Path, dict[str, Path]],
) -> None:
    bundle, out, paths = rendered
    error = next(c for c in bundle["cells"] if c["outcome"] == "error")
    assert "END-OF-LONG" in cell_detail(out / "site", error["id"])
    summary = paths["summary"].read_text(encoding="utf-8")
    assert "END-OF-LONG" not in summary and "chars\\]" in summary
    for listing in (out / "site" / "groups").iterdir():
        assert "END-OF-LONG" not in listing.read_text(encoding="utf-8")
    assert "END-OF-LONG" not in (out / "site" / vendor_page("acme")).read_text(encoding="utf-8")


def test_vendor_page_shows_retention_terms_and_whom_it_works_with(
    rendered: tuple[dict[str, Any], Path, dict[str, Path]],
) -> None:
    _, out, _ = rendered
    acme = (out / "site" / vendor_page("acme")).read_text(encoding="utf-8")
    assert "Data retention terms" in acme and RETENTION in acme
    assert "not stated" in (out / "site" / vendor_page("ref-exiv2")).read_text(encoding="utf-8")
    assert "Not runnable" in (out / "site" / vendor_page("offline")).read_text(encoding="utf-8")
    rows = next(rows for css, rows in _parse(out / "site" / vendor_page("acme")).tables
                if rows[0][0] == "with")
    # acme produced for ref-exiv2 once (an error), and read ref-exiv2's output twice (two fails).
    assert ["ref-exiv2", "0% 0/1", "0% 0/2"] in rows


def test_cell_detail_links_artifacts_and_expectation(rendered: tuple[dict[str, Any], Path, dict[str, Path]]) -> None:
    bundle, out, _ = rendered
    passed = bundle["cells"][0]
    assert f'href="../../artifacts/{_sha("a")}.jpg"' in cell_detail(out / "site", passed["id"])
    xfail = next(c for c in bundle["cells"] if c["outcome"] == "xfail")
    detail = cell_detail(out / "site", xfail["id"])
    assert 'href="https://tracker.example/acme/42"' in detail and "2027-01-31" in detail


def test_rendering_twice_gives_the_same_site(tmp_path: Path) -> None:
    bundle = make_bundle()
    render_site(copy.deepcopy(bundle), tmp_path / "a")
    render_site(bundle, tmp_path / "b")
    a = {p.relative_to(tmp_path / "a"): p.read_bytes() for p in (tmp_path / "a").rglob("*") if p.is_file()}
    b = {p.relative_to(tmp_path / "b"): p.read_bytes() for p in (tmp_path / "b").rglob("*") if p.is_file()}
    assert a == b
