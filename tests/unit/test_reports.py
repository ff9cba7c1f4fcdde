"""Reports: the bundle contract and what a reader sees in JUnit and Markdown (the site: test_site.py)."""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from report_bundle import (
    RLO,
    SCRIPT,
    _cell,
    _sha,
    _vendor,
    cell_detail,
    make_bundle,
    summarise,
)

from reports import BundleError, read_bundle, render_all, render_site, validate_bundle, write_bundle
from reports.bundle import OUTCOMES, SEVERITY
from reports.html import cell_page
from reports.markdown import render_summary
from reports.text import visible
from runner.model import Outcome


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
        (lambda b: b["cells"][0].update(attempts=3, attempt_log=[
            {"outcome": "error", "reason": "crash", "duration_s": 0.1},
            {"outcome": b["cells"][0]["outcome"], "reason": "ok", "duration_s": 0.1}]), "$.cells[0].attempt_log"),
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
    assert "o-inconclusive" in cell_detail(out / "site", cell["id"])
    assert "insufficient evidence" in index


def test_inconclusive_ranks_after_the_outcomes_that_need_a_fix() -> None:
    assert set(OUTCOMES) == set(SEVERITY) == {o.value for o in Outcome}
    assert SEVERITY.index("xfail") < SEVERITY.index("inconclusive") < SEVERITY.index("unsupported")


def test_summary_flags_expired_expectations() -> None:
    bundle = make_bundle()
    for cell in bundle["cells"]:
        if cell["expectation"] is not None:
            cell["expectation"] = {**cell["expectation"], "expires": "2026-01-31"}
    assert "expires 2026-01-31 **(expired)**" in render_summary(bundle)


def test_retried_cells_show_their_attempts(tmp_path: Path) -> None:
    bundle = make_bundle()
    cell = next(c for c in bundle["cells"] if c["outcome"] == "pass")
    cell.update(attempts=2, attempt_log=[{"outcome": "error", "reason": "adapter raised RuntimeError: crash <b>",
                                          "duration_s": 0.25}, {"outcome": "pass", "reason": cell["reason"], "duration_s": 0.5}])
    validate_bundle(bundle)
    summary = render_summary(bundle)
    assert "## Retried cells" in summary and "**pass** (after 2 attempts)" in summary
    assert "attempt 1: error: adapter raised RuntimeError: crash &lt;b&gt;" in summary
    render_site(bundle, tmp_path)
    detail = cell_detail(tmp_path, cell["id"])
    assert "· 2 attempts ·" in detail and "crash &lt;b&gt;" in detail


def test_interrupted_run_is_flagged_and_stale_pages_go(tmp_path: Path) -> None:
    bundle = make_bundle()
    render_all(bundle, tmp_path)
    site = tmp_path / "site"
    gone = cell_page(bundle["cells"][-1]["id"])
    assert cell_detail(site, bundle["cells"][-1]["id"])
    # A page of the one-file-per-cell layout, written by an older render, is in the manifest too.
    old = site / "cells" / "0123456789abcdef.html"
    old.write_text("an old cell page", encoding="utf-8")
    manifest = site / ".aiii-site-pages.json"
    manifest.write_text(json.dumps([*json.loads(manifest.read_text(encoding="utf-8")), "cells/0123456789abcdef.html"]))
    bundle = copy.deepcopy(bundle)
    del bundle["cells"][-1]
    bundle["run"].update(status="interrupted", finished=None)
    bundle["summary"] = summarise(bundle["cells"])
    paths = render_all(bundle, tmp_path)
    assert not old.exists()
    assert not any(gone.partition("#")[2] in p.read_text(encoding="utf-8") for p in site.rglob("*.html"))
    assert sorted(p.name for p in (site / "cells").iterdir()) == sorted(
        {cell_page(c["id"]).split("#")[0].removeprefix("cells/") for c in bundle["cells"]})
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


def test_renders_five_thousand_cells_into_a_few_hundred_files(tmp_path: Path) -> None:
    """Scale: every cell of a 5 000-cell run has its detail, in at most 256 files (speed is
    benchmarks/site_render.py's job)."""
    bundle = synthetic_bundle(5000)
    assert len(bundle["cells"]) == 5000
    paths = render_all(bundle, tmp_path)
    details = list((tmp_path / "site" / "cells").glob("*.html"))
    assert len(details) <= 256
    assert sum(p.read_text(encoding="utf-8").count('<article class="cell"') for p in details) == 5000
    assert len(list((tmp_path / "site").rglob("*.html"))) < 300
    assert paths["site"].is_file()
