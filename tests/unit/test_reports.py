"""Reports: the bundle contract and what a reader sees in JUnit, Markdown and HTML."""

from __future__ import annotations

import copy
import hashlib
import re
import xml.etree.ElementTree as ET
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from reports import BundleError, read_bundle, render_all, render_site, validate_bundle, write_bundle
from reports.bundle import OUTCOMES, SEVERITY
from reports.html import cell_page, vendor_page
from reports.markdown import render_summary
from reports.text import visible
from runner.model import Outcome

SCRIPT = "<script>alert(1)</script>"
RLO = "\u202e"
LONG = "A" * 10_000 + "END-OF-LONG"
RETENTION = "Uploaded files are deleted within 24 hours; nothing is used for training."
INCONCLUSIVE_REASON = "detection rate 9/10, 95% CI [0.555, 0.997]: 10 trials cannot show >= 0.9"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _vendor(vid: str, name: str, **extra: Any) -> dict[str, Any]:
    vendor = {
        "id": vid,
        "name": name,
        "organisation": f"{name} Ltd",
        "version": "1.0.0",
        "transport": "inproc",
        "role": "participant",
        "runnable": True,
        "reason": None,
        "capabilities": [
            {"operation": "metadata.write", "media_types": ["image/jpeg"], "options": {}},
            {"operation": "metadata.read", "media_types": ["image/jpeg", "image/png"], "options": {"xmp": True}},
        ],
        "retention": None,
        "homepage": None,
    }
    vendor.update(extra)
    return vendor


def _cell(
    check: str, vector: str, producer: str | None, consumer: str | None, outcome: str, reason: str, **extra: Any
) -> dict[str, Any]:
    variant = extra.pop("variant", None)
    cell = {
        "id": "/".join([check, vector, producer or "-", consumer or "-", variant or "-"]),
        "check": check,
        "level": "MUST" if check == "metadata.roundtrip" else "SHOULD",
        "producer": producer,
        "consumer": consumer,
        "vector": vector,
        "channel": None,
        "variant": variant,
        "outcome": outcome,
        "reason": reason,
        "measurements": {},
        "artifacts": {},
        "expectation": None,
        "duration_s": 0.25,
        "finished": "2026-11-03T10:05:00Z",
    }
    cell.update(extra)
    return cell


def summarise(cells: list[dict[str, Any]]) -> dict[str, Any]:
    """The summary section the runner writes for ``cells``."""
    counts = Counter(cell["outcome"] for cell in cells)
    return {
        "outcomes": dict(counts),
        "must_failures": sum(1 for c in cells if c["level"] == "MUST" and c["outcome"] in ("fail", "error")),
        "cells": len(cells),
    }


def make_bundle() -> dict[str, Any]:
    """Four vendors (two hostile), three checks, every outcome, hostile strings throughout."""
    vendors = [
        _vendor("ref-exiv2", "Exiv2 reference", homepage="https://exiv2.org/"),
        _vendor(
            "acme",
            f"{SCRIPT} Acme {RLO}gnp.exe 🧪 👩‍🔬",
            organisation="'; DROP TABLE vendors; --",
            retention=f"{RETENTION} {SCRIPT}",
            homepage="javascript:alert(1)",
        ),
        _vendor("zw.vendor", "Zero\u200bWidth | `tick` *bold*", version=None),
        _vendor("offline", "Offline Inc", runnable=False, reason=f"image pull failed\x00 {LONG}"),
    ]
    checks = [
        {
            "id": "metadata.roundtrip",
            "title": "Written XMP reads back",
            "family": "metadata",
            "level": "MUST",
            "description": "A value written by the producer is read back unchanged by the consumer.",
        },
        {
            "id": "provenance.validate",
            "title": "Manifest validates",
            "family": "provenance",
            "level": "SHOULD",
            "description": "The consumer validates the producer's C2PA manifest.",
        },
        {
            "id": "metadata.read-vector",
            "title": "Reads catalogue metadata",
            "family": "metadata",
            "level": "SHOULD",
            "description": "No producer: the consumer reads the vector as shipped.",
        },
    ]
    vectors = [
        {
            "id": "jpeg-basic",
            "media_type": "image/jpeg",
            "sha256": _sha("j"),
            "licence": "CC0-1.0",
            "tags": ["photo"],
            "source": None,
        },
        {
            "id": "png-alpha",
            "media_type": "image/png",
            "sha256": _sha("p"),
            "licence": "CC-BY-4.0",
            "tags": [],
            "source": "https://example.org/png",
        },
    ]
    rt, pv, rv = (check["id"] for check in checks)
    expectation = {
        "check": "provenance.validate/*/acme/*",
        "reason": f"known bug {SCRIPT}",
        "link": "https://tracker.example/acme/42",
        "expires": "2027-01-31",
    }
    cells = [
        _cell(
            rt,
            "jpeg-basic",
            "ref-exiv2",
            "ref-exiv2",
            "pass",
            "all 7 fields read back",
            measurements={"fields": 7, "creator": "Jane 🧪"},
            artifacts={"produced": {"sha256": _sha("a"), "media_type": "image/jpeg", "path": "artifacts/" + _sha("a") + ".jpg"}},
        ),
        _cell(
            rt,
            "jpeg-basic",
            "ref-exiv2",
            "acme",
            "fail",
            f"creator differs: {SCRIPT}",
            measurements={
                "creator": {"expected": "Jane", "read": f"{SCRIPT}'; DROP TABLE x; --{RLO}"},
                "lone": "\ud800",
                "nul": "a\x00b",
            },
        ),
        _cell(rt, "png-alpha", "ref-exiv2", "acme", "fail", "title differs\nsecond line | pipe `code`"),
        _cell(
            rt,
            "jpeg-basic",
            "acme",
            "ref-exiv2",
            "error",
            f"adapter crashed: {LONG}",
            artifacts={"produced": {"sha256": _sha("b"), "media_type": "image/jpeg", "path": None}},
        ),
        _cell(rt, "jpeg-basic", "zw.vendor", "ref-exiv2", "pass", "ok"),
        _cell(rt, "jpeg-basic", "offline", "ref-exiv2", "blocked", "producer could not run"),
        _cell(pv, "jpeg-basic", "ref-exiv2", "acme", "xfail", "manifest rejected", expectation=expectation),
        _cell(pv, "png-alpha", "ref-exiv2", "acme", "xpass", "manifest validated", expectation=expectation),
        _cell(pv, "jpeg-basic", "ref-exiv2", "zw.vendor", "unsupported", "provenance.read not declared"),
        _cell(rv, "jpeg-basic", None, "acme", "pass", "read", variant="q|75"),
        _cell(rv, "png-alpha", None, "zw.vendor", "fail", f"emoji 🧪 lost {RLO}", variant=None),
        _cell(rt, "png-alpha", "zw.vendor", "ref-exiv2", "inconclusive", INCONCLUSIVE_REASON),
    ]
    return {
        "schema_version": 1,
        "run": {
            "id": "run-2026-11-03",
            "profile": "core",
            "harness_version": "0.1.0",
            "methodology_version": "2026.11-1",
            "catalogue_sha256": _sha("catalogue"),
            "started": "2026-11-03T10:00:00Z",
            "finished": "2026-11-03T10:06:00Z",
            "status": "complete",
            "environment": {
                "python": "3.11.9",
                "platform": "Linux",
                "machine": "x86_64",
                "cpu_count": 8,
                "libraries": {"c2pa-python": "0.38.1"},
            },
            "options": {"jobs": 4, "vendors": None, "vectors": "test_vectors/"},
        },
        "vendors": vendors,
        "checks": checks,
        "vectors": vectors,
        "cells": cells,
        "summary": summarise(cells),
    }


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path, dict[str, Path]]:
    bundle = make_bundle()
    out = tmp_path_factory.mktemp("out")
    (out / "artifacts").mkdir()
    (out / "artifacts" / (_sha("a") + ".jpg")).write_bytes(b"\xff\xd8")
    return bundle, out, render_all(bundle, out)


def _written(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if p.suffix in {".html", ".md", ".xml"}]


def test_bundle_validates_and_round_trips(tmp_path: Path) -> None:
    bundle = make_bundle()
    validate_bundle(bundle)
    assert read_bundle(write_bundle(bundle, tmp_path / "results.json")) == bundle


def test_bad_outcome_is_rejected_with_its_path() -> None:
    bundle = make_bundle()
    bundle["cells"][2]["outcome"] = "maybe"
    with pytest.raises(BundleError) as caught:
        validate_bundle(bundle)
    assert caught.value.path == "$.cells[2].outcome"
    assert "maybe" in str(caught.value)


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda b: b["cells"][0].update(producer="ghost"), "$.cells[0].producer"),
        (lambda b: b["cells"][0].update(measurements={"psnr": float("inf")}), "$.cells[0].measurements.psnr"),
        (lambda b: b["summary"].update(cells=3), "$.summary.cells"),
        (lambda b: b["cells"][1].update(id=b["cells"][0]["id"]), "$.cells[1].id"),
        (lambda b: b["cells"][0]["artifacts"]["produced"].update(path="../../etc/passwd"), "$.cells[0].artifacts.produced.path"),
        (lambda b: b["vendors"][0].update(id="Bad Id"), "$.vendors[0].id"),
    ],
)
def test_inconsistent_bundles_are_rejected(mutate: Any, path: str) -> None:
    bundle = make_bundle()
    mutate(bundle)
    with pytest.raises(BundleError) as caught:
        validate_bundle(bundle)
    assert caught.value.path == path


def test_render_all_writes_every_report(rendered: tuple[dict[str, Any], Path, dict[str, Path]]) -> None:
    bundle, out, paths = rendered
    assert set(paths) == {"results", "junit", "summary", "site"}
    assert all(path.is_file() for path in paths.values())
    assert paths["site"] == out / "site" / "index.html"
    assert read_bundle(paths["results"]) == bundle


def test_junit_has_a_testcase_per_cell_and_the_right_counts(
    rendered: tuple[dict[str, Any], Path, dict[str, Path]],
) -> None:
    bundle, _, paths = rendered
    root = ET.parse(paths["junit"]).getroot()
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [c["id"] for c in bundle["checks"]]
    cases = root.iter("testcase")
    by_id = {f"{case.get('classname')}/{case.get('name')}": case for case in cases}
    assert set(by_id) == {cell["id"] for cell in bundle["cells"]}
    assert len(root.findall(".//failure")) == 3 == int(root.get("failures", ""))
    assert len(root.findall(".//error")) == 1 == int(root.get("errors", ""))
    skipped = root.findall(".//skipped")
    assert sorted(s.get("type", "") for s in skipped) == ["blocked", "inconclusive", "unsupported", "xfail"]
    assert int(root.get("skipped", "")) == 4
    xpass = next(c for c in bundle["cells"] if c["outcome"] == "xpass")
    case = by_id[xpass["id"]]
    assert case.find("failure") is None and case.find("skipped") is None
    assert case.find("properties/property[@value='xpass']") is not None
    text = paths["junit"].read_text(encoding="utf-8")
    assert "\x00" not in text and RLO not in text and "\\u0000" in text and "\\u202e" in text


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


def test_summary_lists_must_failures_known_issues_and_keeps_tables_intact(
    rendered: tuple[dict[str, Any], Path, dict[str, Path]],
) -> None:
    _, _, paths = rendered
    summary = paths["summary"].read_text(encoding="utf-8")
    assert "**MUST failures: 3**" in summary
    assert "(https://tracker.example/acme/42)" in summary and "expires 2027-01-31: 1 xfail, 1 xpass" in summary
    assert "(expired)" not in summary
    assert "## Interoperability differences" in summary
    for block in summary.split("\n\n"):
        rows = [line for line in block.splitlines() if line.startswith("|")]
        if rows:  # no vendor string may add or remove a column
            widths = {len(re.findall(r"(?<!\\)\|", row)) for row in rows}
            assert len(widths) == 1, rows


def test_inconclusive_is_insufficient_evidence_everywhere_and_never_a_failure(
    rendered: tuple[dict[str, Any], Path, dict[str, Path]],
) -> None:
    bundle, out, paths = rendered
    cell = next(c for c in bundle["cells"] if c["outcome"] == "inconclusive")
    assert cell["level"] == "MUST" and bundle["summary"]["outcomes"]["inconclusive"] == 1
    assert bundle["summary"]["must_failures"] == 3  # the two MUST fails and the error, not it
    root = ET.parse(paths["junit"]).getroot()
    case = next(c for c in root.iter("testcase") if f"{c.get('classname')}/{c.get('name')}" == cell["id"])
    assert case.find("failure") is None and case.find("error") is None
    skipped = case.find("skipped")
    assert skipped is not None and skipped.get("message", "").startswith("insufficient evidence: detection rate 9/10")
    summary = paths["summary"].read_text(encoding="utf-8")
    assert "| ? inconclusive | 1 |" in summary and "? inconclusive" in summary.split("Legend: ")[1]
    assert "## Insufficient evidence" in summary and "**inconclusive** zw.vendor → ref-exiv2" in summary
    assert "1✓ 1?" in summary  # the png/jpeg row of zw.vendor -> ref-exiv2 in the roundtrip matrix
    index = paths["site"].read_text(encoding="utf-8")
    assert '<span class="b o-inconclusive">? inconclusive: 1</span>' in index
    assert "o-inconclusive" in (out / "site" / "index.html").read_text(encoding="utf-8").split("</style>")[0]
    page = (out / "site" / cell_page(cell["id"])).read_text(encoding="utf-8")
    assert "insufficient evidence" in page and "o-inconclusive" in page


def test_inconclusive_ranks_after_the_outcomes_that_need_a_fix() -> None:
    assert set(OUTCOMES) == set(SEVERITY) == {o.value for o in Outcome}
    assert SEVERITY.index("xfail") < SEVERITY.index("inconclusive") < SEVERITY.index("unsupported")


def test_summary_flags_expired_expectations() -> None:
    bundle = make_bundle()
    for cell in bundle["cells"]:
        if cell["expectation"] is not None:
            cell["expectation"] = {**cell["expectation"], "expires": "2026-01-31"}
    assert "expires 2026-01-31 **(expired)**" in render_summary(bundle)


def test_cell_page_links_artifacts_and_expectation(rendered: tuple[dict[str, Any], Path, dict[str, Path]]) -> None:
    bundle, out, _ = rendered
    passed = bundle["cells"][0]
    page = (out / "site" / cell_page(passed["id"])).read_text(encoding="utf-8")
    assert f'href="../../artifacts/{_sha("a")}.jpg"' in page
    xfail = next(c for c in bundle["cells"] if c["outcome"] == "xfail")
    page = (out / "site" / cell_page(xfail["id"])).read_text(encoding="utf-8")
    assert 'href="https://tracker.example/acme/42"' in page and "2027-01-31" in page


def test_interrupted_run_is_flagged_and_stale_pages_go(tmp_path: Path) -> None:
    bundle = make_bundle()
    render_all(bundle, tmp_path)
    stale = tmp_path / "site" / cell_page(bundle["cells"][-1]["id"])
    assert stale.is_file()
    bundle = copy.deepcopy(bundle)
    del bundle["cells"][-1]
    bundle["run"].update(status="interrupted", finished=None)
    bundle["summary"] = summarise(bundle["cells"])
    paths = render_all(bundle, tmp_path)
    assert not stale.exists()
    assert "interrupted" in paths["site"].read_text(encoding="utf-8")
    assert "results below are partial" in paths["summary"].read_text(encoding="utf-8")


def test_rendering_into_a_foreign_directory_deletes_nothing(tmp_path: Path) -> None:
    foreign = tmp_path / "vendors" / "notes.html"
    foreign.parent.mkdir()
    foreign.write_text("not ours", encoding="utf-8")
    for _ in range(2):  # the second render cleans up after the first
        render_site(make_bundle(), tmp_path)
    assert foreign.read_text(encoding="utf-8") == "not ours"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a\u202eb", "a\\u202eb"),
        ("nul\x00", "nul\\x00"),
        ("lone \udc00", "lone \\udc00"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("line\nbreak", "line\\x0abreak"),
        ("👩\u200d🔬 🏳️\u200d🌈 emoji", "👩\u200d🔬 🏳️\u200d🌈 emoji"),
        ("plain café 漢字 עברית", "plain café 漢字 עברית"),
    ],
)
def test_hidden_characters_become_escapes(raw: str, shown: str) -> None:
    assert visible(raw) == shown


def synthetic_bundle(cells: int) -> dict[str, Any]:
    """A bundle of about ``cells`` cells over 8 vendors, for timing."""
    bundle = make_bundle()
    vendors = [_vendor(f"v{i}", f"Vendor {i} {SCRIPT}") for i in range(8)]
    vectors: list[dict[str, Any]] = [
        {
            "id": f"vec{i:03d}",
            "media_type": "image/jpeg",
            "sha256": _sha(str(i)),
            "licence": "CC0-1.0",
            "tags": [],
            "source": None,
        }
        for i in range(cells // (len(vendors) ** 2 * 3) + 1)
    ]
    generated: list[dict[str, Any]] = []
    for check_id in ("metadata.roundtrip", "provenance.validate", "metadata.read-vector"):
        for vector in vectors:
            for p in vendors:
                for c in vendors:
                    outcome = OUTCOMES[len(generated) % len(OUTCOMES)]
                    generated.append(
                        _cell(
                            check_id,
                            vector["id"],
                            p["id"],
                            c["id"],
                            outcome,
                            f"reason {len(generated)} {RLO}",
                            measurements={"bits": 64},
                        )
                    )
    generated = generated[:cells]
    bundle.update(vendors=vendors, vectors=vectors, cells=generated, summary=summarise(generated))
    return bundle


def test_renders_five_thousand_cells(tmp_path: Path) -> None:
    """Scale: every page of a 5 000-cell run is written (speed is benchmarks/' job)."""
    bundle = synthetic_bundle(5000)
    assert len(bundle["cells"]) == 5000
    paths = render_all(bundle, tmp_path)
    assert len(list((tmp_path / "site" / "cells").glob("*.html"))) == 5000
    assert paths["site"].is_file()
