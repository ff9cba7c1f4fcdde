"""The HTML scorecard: pages, links, escaping, what a reader sees (the bundle: tests/report_bundle.py)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from report_bundle import (
    RETENTION,
    RLO,
    _sha,
    _written,
    make_bundle,
)

from reports.html import cell_page, vendor_page


def test_index_shows_a_matrix_per_check_and_every_cell_has_a_page(
    rendered: tuple[dict[str, Any], Path, dict[str, Path]],
) -> None:
    bundle, out, paths = rendered
    site = out / "site"
    index = paths["site"].read_text(encoding="utf-8")
    assert index.count('<table class="matrix">') == len(bundle["checks"])
    for check in bundle["checks"]:
        assert check["id"] in index
    for cell in bundle["cells"]:
        page = site / cell_page(cell["id"])
        assert page.is_file()
        assert re.fullmatch(r"cells/[0-9a-f]{16}\.html", cell_page(cell["id"]))
    for vendor in bundle["vendors"]:
        assert (site / vendor_page(vendor["id"])).is_file()
    assert "unsupported" in index and "not</strong> failures" in index


class _Links(HTMLParser):
    """Collects link targets and checks that tags stay balanced."""

    VOID = {"meta", "br", "hr", "img", "link", "input"}

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.resources: list[str] = []
        self.stack: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            if name == "href" and tag == "a":
                self.hrefs.append(value or "")
            elif name in {"src", "srcset", "href", "data", "poster", "action"}:
                self.resources.append(value or "")
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}> after {self.stack[-3:]}"
        self.stack.pop()


def test_site_links_are_relative_and_resolve(rendered: tuple[dict[str, Any], Path, dict[str, Path]]) -> None:
    _, out, _ = rendered
    for page in (out / "site").rglob("*.html"):
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        parser.close()
        assert parser.stack == [], page
        assert "script" not in parser.tags and "iframe" not in parser.tags
        assert not parser.resources, f"{page} loads {parser.resources}"
        for href in parser.hrefs:
            if href.startswith(("https://", "http://")):
                continue  # a navigation link to an issue tracker or homepage, not a load
            parts = urlsplit(href)
            assert not parts.scheme and not parts.netloc, href
            if parts.path:
                assert (page.parent / unquote(parts.path)).resolve().is_file(), f"{page}: {href}"


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
    cell_html = (out / "site" / cell_page(fail["id"])).read_text(encoding="utf-8")
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


def test_long_strings_are_cut_in_lists_but_complete_on_the_cell_page(
    rendered: tuple[dict[str, Any], Path, dict[str, Path]],
) -> None:
    bundle, out, paths = rendered
    error = next(c for c in bundle["cells"] if c["outcome"] == "error")
    assert "END-OF-LONG" in (out / "site" / cell_page(error["id"])).read_text(encoding="utf-8")
    summary = paths["summary"].read_text(encoding="utf-8")
    assert "END-OF-LONG" not in summary and "chars\\]" in summary
    assert "END-OF-LONG" not in (out / "site" / vendor_page("acme")).read_text(encoding="utf-8")


def test_vendor_page_shows_retention_terms(rendered: tuple[dict[str, Any], Path, dict[str, Path]]) -> None:
    _, out, _ = rendered
    acme = (out / "site" / vendor_page("acme")).read_text(encoding="utf-8")
    assert "Data retention terms" in acme and RETENTION in acme
    assert "not stated" in (out / "site" / vendor_page("ref-exiv2")).read_text(encoding="utf-8")
    assert "Not runnable" in (out / "site" / vendor_page("offline")).read_text(encoding="utf-8")


def test_cell_page_links_artifacts_and_expectation(rendered: tuple[dict[str, Any], Path, dict[str, Path]]) -> None:
    bundle, out, _ = rendered
    passed = bundle["cells"][0]
    page = (out / "site" / cell_page(passed["id"])).read_text(encoding="utf-8")
    assert f'href="../../artifacts/{_sha("a")}.jpg"' in page
    xfail = next(c for c in bundle["cells"] if c["outcome"] == "xfail")
    page = (out / "site" / cell_page(xfail["id"])).read_text(encoding="utf-8")
    assert 'href="https://tracker.example/acme/42"' in page and "2027-01-31" in page
