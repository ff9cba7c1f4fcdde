"""The published site (runner/publish.py, aiii publish) from a real history of synthetic
runs: three nightlies where a vendor's version changes and a cell regresses, then is
fixed; a flipping cell flagged flaky; badges that change and outlive their vendor; the
API files valid against their schemas; every link of the site resolving; vendor
strings shown as text."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from helpers import aiii
from history_bundles import cell_id, default_cells, make, write
from jsonschema import Draft202012Validator

from reports.history_site import TEMPLATES  # noqa: F401  (the templates ship with reports/)
from runner.history import History
from runner.ingest import ingest_bundle
from runner.keys import Registry
from runner.publish import publish_site

SCHEMAS = Path(__file__).resolve().parents[2] / "reports" / "schemas" / "api"
SCRIPT = "<script>alert(1)</script>"
REGRESSING = cell_id("metadata.roundtrip", "alpha", "beta")


def _publish(history: History, tmp_path: Path, bundle: dict[str, Any], site: Path) -> dict[str, Any]:
    path = write(bundle, tmp_path / "bundles" / bundle["run"]["id"])
    assert ingest_bundle(path, history, Registry(), allow_unsigned=True).state == "valid"
    publish_site(history, site)
    return {"alpha": json.loads((site / "badges" / "alpha" / "metadata.json").read_text()),
            "alpha-overall": json.loads((site / "badges" / "alpha.json").read_text())}


@pytest.fixture()
def nightlies(tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    """Three nightlies: alpha 1.0 all pass; alpha 1.1 and REGRESSING fails; alpha 1.1, fixed."""
    history = History(tmp_path / "history.sqlite")
    site = tmp_path / "site"
    names = {"alpha": f"Alpha {SCRIPT} \u202egnp.exe"}
    broken = default_cells() | {REGRESSING: "fail"}
    badges = [
        _publish(history, tmp_path, make("night-1", "2026-11-01T02:00:00Z", names=names), site),
        _publish(history, tmp_path, make("night-2", "2026-11-02T02:00:00Z", broken, versions={"alpha": "1.1"},
                                         names=names, reasons={REGRESSING: f"field lost {SCRIPT}"}), site),
        _publish(history, tmp_path, make("night-3", "2026-11-03T02:00:00Z", versions={"alpha": "1.1"}, names=names), site),
    ]
    history.close()
    return site, badges


def test_three_nightlies_show_the_regression_and_the_fix(nightlies: tuple[Path, list[dict[str, Any]]]) -> None:
    site, badges = nightlies
    runs = json.loads((site / "api" / "runs.json").read_text())["runs"]
    assert [r["run_id"] for r in runs] == ["night-3", "night-2", "night-1"]
    changes = {r["run_id"]: r["changes"] for r in runs}
    assert changes["night-1"] is None
    assert (changes["night-2"]["regressions"], changes["night-2"]["fixes"]) == (1, 0)
    assert (changes["night-3"]["regressions"], changes["night-3"]["fixes"]) == (0, 1)
    run2 = json.loads((site / "api" / "runs" / "night-2.json").read_text())
    assert [c["id"] for c in run2["diff"]["regressions"]] == [REGRESSING]
    assert run2["vendors"]["alpha"]["version"] == "1.1" and run2["previous"] == "night-1"
    # the run list links each run's diff, and the diffs name the cell
    listing = (site / "history" / "index.html").read_text()
    assert "1 regressions" in listing and "1 fixes" in listing
    assert REGRESSING in (site / "history" / "diffs" / "night-2.html").read_text()
    assert "Regressions (worked, now fails or errs): 1" in (site / "history" / "diffs" / "night-2.html").read_text()
    assert "Fixes (failed, now works): 1" in (site / "history" / "diffs" / "night-3.html").read_text()
    # the vendor page: versions, both changes, a plot point per run
    page = (site / "history" / "vendors" / "alpha.html").read_text()
    assert "<bdi>1.1</bdi> <span class=\"warn\">(changed)</span>" in page
    assert page.count(REGRESSING) >= 2 and ">regression<" in page and ">fix<" in page
    assert page.count("<circle") == 6  # two families, three runs each
    vendor = json.loads((site / "api" / "vendors" / "alpha.json").read_text())
    assert [(c["run"], c["kind"]) for c in vendor["changes"]] == [("night-3", "fixes"), ("night-2", "regressions")]
    assert [p["score"]["working"] for p in vendor["scores"]["metadata"]] == [5, 4, 5]
    # the badge moved with the score, at one URL
    assert [b["alpha"]["message"] for b in badges] == ["100% (5/5)", "80% (4/5)", "100% (5/5)"]
    assert [b["alpha"]["color"] for b in badges] == ["brightgreen", "green", "brightgreen"]
    assert badges[1]["alpha-overall"]["message"] == "90% (9/10)"
    # the landing page: data as of the latest run, the matrix, links down
    landing = (site / "index.html").read_text()
    assert "night-3" in landing and "runs/night-3/site/index.html" in landing and "history/vendors/alpha.html" in landing
    assert "Data as of run" in landing and "<bdi>metadata</bdi>: producer × consumer" in landing


def test_vendor_strings_render_as_text(nightlies: tuple[Path, list[dict[str, Any]]]) -> None:
    site, _ = nightlies
    for page in [site / "index.html", *sorted((site / "history").rglob("*.html"))]:
        html = page.read_text()
        assert SCRIPT not in html, page
        assert "\u202e" not in html, page
    assert "&lt;script&gt;" in (site / "history" / "vendors" / "alpha.html").read_text()
    assert "\\u202e" in (site / "history" / "vendors" / "alpha.html").read_text()
    assert "&lt;script&gt;" in (site / "history" / "diffs" / "night-2.html").read_text()


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.links.append(value)


def test_every_link_of_the_site_resolves(nightlies: tuple[Path, list[dict[str, Any]]]) -> None:
    site, _ = nightlies
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 20
    broken, checked = [], 0
    for page in pages:
        parser = _Links()
        parser.feed(page.read_text())
        for link in parser.links:
            parts = urlsplit(link)
            if parts.scheme in ("http", "https", "mailto", "data") or not parts.path:
                continue
            assert not parts.scheme and not link.startswith("/"), (page, link)  # relative: works from file://
            checked += 1
            if not (page.parent / unquote(parts.path)).exists():
                broken.append(f"{page.relative_to(site)} -> {link}")
    assert not broken, broken[:10]
    assert checked > 100


def _validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_the_api_files_validate_against_their_schemas(nightlies: tuple[Path, list[dict[str, Any]]]) -> None:
    site, _ = nightlies
    api = site / "api"
    files = {"runs": [api / "runs.json"], "flaky": [api / "flaky.json"],
             "run": sorted((api / "runs").glob("*.json")), "cells": sorted((api / "runs").glob("*/cells.json")),
             "vendor": sorted((api / "vendors").glob("*.json")), "badge": sorted((site / "badges").rglob("*.json"))}
    assert [len(files[k]) for k in ("run", "cells", "vendor")] == [3, 3, 3] and len(files["badge"]) == 9
    for name, paths in files.items():
        validator = _validator(name)
        for path in paths:
            errors = [f"{e.json_path}: {e.message[:200]}" for e in validator.iter_errors(json.loads(path.read_text()))]
            assert not errors, (path, errors[:3])
    cells = json.loads((api / "runs" / "night-2" / "cells.json").read_text())
    row = dict(zip(cells["columns"], next(c for c in cells["cells"] if c[0] == REGRESSING), strict=True))
    assert (row["outcome"], row["family"], row["producer"], row["consumer"]) == ("fail", "metadata", "alpha", "beta")


def test_a_flipping_cell_is_flagged_flaky_and_kept_out_of_regressions(tmp_path: Path) -> None:
    history = History(tmp_path / "history.sqlite")
    flipping = cell_id("provenance.sign_validate", "beta", "gamma")
    site = tmp_path / "site"
    for i, outcome in enumerate(["pass", "fail", "pass", "fail"]):  # one plan, the same versions throughout
        path = write(make(f"n{i}", f"2026-11-0{i + 1}T02:00:00Z", default_cells() | {flipping: outcome}), tmp_path / f"n{i}")
        assert ingest_bundle(path, history, Registry(), allow_unsigned=True).state == "valid"
    publish_site(history, site)
    flaky = json.loads((site / "api" / "flaky.json").read_text())["cells"]
    assert {f["cell_id"] for f in flaky} == {flipping}
    entry = next(f for f in flaky if f["cell_id"] == flipping)
    assert (entry["flips"], entry["transitions"], entry["flip_rate"]) == (3, 3, 1.0)
    last = json.loads((site / "api" / "runs" / "n3.json").read_text())
    assert last["diff"]["summary"]["regressions"] == 0 and flipping in last["diff"]["flaky"]
    listing = (site / "history" / "index.html").read_text()
    assert flipping in listing and "100%" in listing
    assert flipping in (site / "history" / "vendors" / "gamma.html").read_text()


def test_a_flip_that_came_with_a_new_version_is_not_flaky(tmp_path: Path) -> None:
    history = History(tmp_path / "history.sqlite")
    cell = cell_id("metadata.roundtrip", "gamma", "alpha")
    for i, outcome in enumerate(["pass", "fail", "pass", "fail"]):
        outcomes = default_cells() | {cell: outcome}
        path = write(make(f"n{i}", f"2026-11-0{i + 1}T02:00:00Z", outcomes, versions={"gamma": f"1.{i}"}), tmp_path / f"n{i}")
        ingest_bundle(path, history, Registry(), allow_unsigned=True)
    publish_site(history, tmp_path / "site")
    assert json.loads((tmp_path / "site" / "api" / "flaky.json").read_text())["cells"] == []
    last = json.loads((tmp_path / "site" / "api" / "runs" / "n3.json").read_text())
    assert [c["id"] for c in last["diff"]["regressions"]] == [cell]  # a regression, not hidden as a flake


def test_a_vendor_that_drops_out_keeps_its_last_badge(tmp_path: Path) -> None:
    history = History(tmp_path / "history.sqlite")
    site = tmp_path / "site"
    _publish(history, tmp_path, make("d1", "2026-11-01T02:00:00Z"), site)
    before = json.loads((site / "badges" / "gamma" / "metadata.json").read_text())
    _publish(history, tmp_path, make("d2", "2026-11-02T02:00:00Z", vendors=("alpha", "beta")), site)
    after = json.loads((site / "badges" / "gamma" / "metadata.json").read_text())
    assert before["message"] == "100% (5/5)" and after["message"] == "100% (5/5), as of 2026-11-01"
    assert (site / "badges" / "gamma.svg").is_file() and "as of 2026-11-01" in (site / "badges" / "gamma.svg").read_text()
    assert json.loads((site / "api" / "vendors" / "gamma.json").read_text())["dropped"] is True
    assert "as of" not in json.loads((site / "badges" / "alpha" / "metadata.json").read_text())["message"]


def test_publishing_again_renders_only_what_is_new(tmp_path: Path) -> None:
    history = History(tmp_path / "history.sqlite")
    site = tmp_path / "site"
    for i in range(2):
        write(make(f"p{i}", f"2026-11-0{i + 1}T02:00:00Z"), tmp_path / f"p{i}")
        ingest_bundle(tmp_path / f"p{i}", history, Registry(), allow_unsigned=True)
    first = publish_site(history, site)
    assert (sorted(first.scorecards), first.diffs) == (["p0", "p1"], ["p1"])
    again = publish_site(history, site)
    assert (again.scorecards, again.diffs) == ([], [])
    write(make("p2", "2026-11-03T02:00:00Z"), tmp_path / "p2")
    ingest_bundle(tmp_path / "p2", history, Registry(), allow_unsigned=True)
    third = publish_site(history, site)
    assert (third.scorecards, third.diffs) == (["p2"], ["p2"])
    # the run's own reports: the bundle as received, its scorecard
    assert (site / "runs" / "p2" / "results.json").read_bytes() == (tmp_path / "p2" / "results.json").read_bytes()
    assert (site / "runs" / "p2" / "site" / "index.html").is_file()


def test_aiii_publish_says_what_became_of_each_bundle(tmp_path: Path) -> None:
    good = write(make("c1", "2026-11-01T02:00:00Z"), tmp_path / "c1")
    bad = tmp_path / "bad" / "results.json"
    bad.parent.mkdir()
    bad.write_text('{"run": ')
    args = ["publish", "--history", str(tmp_path / "h.sqlite"), "--site", str(tmp_path / "site"), "--allow-unsigned"]
    first = aiii(tmp_path / "home", *args, str(good), str(bad))
    assert first.returncode == 1, first.stderr
    lines = first.stdout.splitlines()
    assert re.search(r"c1/results\.json: valid: run c1: 18 cells", lines[0]) and ": invalid: " in lines[1]
    assert "not JSON, or truncated" in lines[1]
    assert (tmp_path / "site" / "index.html").is_file()
    second = aiii(tmp_path / "home", *args, str(good))
    assert second.returncode == 0 and ": duplicate: already in the history as run c1" in second.stdout
    unsigned = aiii(tmp_path / "home", *args[:-1], str(good))
    assert unsigned.returncode == 0  # a duplicate is known content, signed or not
    config = aiii(tmp_path / "home", "publish", "--history", "nosuchdialect://x", "--site", str(tmp_path / "s2"), str(good))
    assert config.returncode == 2 and "cannot be opened" in config.stderr


def test_an_empty_history_publishes_a_landing_page_and_an_empty_api(tmp_path: Path) -> None:
    published = publish_site(History(tmp_path / "h.sqlite"), tmp_path / "site")
    assert published.runs == 0
    assert "No runs published yet" in (tmp_path / "site" / "index.html").read_text()
    runs = json.loads((tmp_path / "site" / "api" / "runs.json").read_text())
    assert runs["runs"] == [] and _validator("runs").is_valid(runs)


def test_scores_are_rounded_down_on_every_page_and_badge() -> None:
    """The hub's landing page once showed 199/200 as 100% while the run's scorecard showed 99%:
    every page and badge rounds down, so only a pair that always works shows 100%."""
    from reports.badges import message
    from reports.history_site import environment

    template = environment().from_string('{% import "macros.html.j2" as m %}{{ m.score(s) }} | {{ m.pct(s) }}')
    square, line = template.render(s={"score": 0.995, "working": 199, "judged": 200, "not_judged": 0}).split(" | ")
    assert re.sub(r"<[^>]+>", " ", square).split() == ["99%", "199/200"]
    assert template.render(s={"score": 0.9995, "working": 1999, "judged": 2000, "not_judged": 0}).endswith(
        "99.9% (1999/2000)")
    assert line == "99.5% (199/200)"
    assert message({"score": 0.995, "working": 199, "judged": 200}) == "99% (199/200)"
    assert message({"score": 1.0, "working": 5, "judged": 5}) == "100% (5/5)"
