"""The scorecard site and the hub's published site as a reader meets them: in a real
browser (Debian's chromium, driven by its chromedriver through Selenium, headless).

Two sites from disk (``file://``): a scorecard rendered from the hostile report bundle
(tests/report_bundle.py) and the scorecard of a real small run.  One site over HTTP: the
hub (``aiii hub serve`` on loopback) after two signed runs were submitted, one by a
participant whose vendor name is hostile.  The tests read what a user sees through DOM
queries and clicks, crawl every site breadth-first (every link's target exists, anchors
included, and no page logs a console error or holds a script), and with
``AIII_SCREENSHOTS=DIR`` save the README's screenshots of the hub's landing page and a
vendor page.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag

import pytest
import requests
from browser import assert_no_alert, chromium, console_errors, crawl, crawl_disk, http_exists, open_page
from helpers import ROOT, aiii, serving_hub
from report_bundle import SCRIPT, make_bundle
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

from reports.html import check_page, render_site, vendor_page
from reports.score import Score, family_scores, pair_scores, vendor_scores

pytestmark = pytest.mark.debian  # Debian's chromium and chromium-driver


#: The participant's vendor name: markup, a right-to-left override and a zero-width space.
HOSTILE_NAME = f"{SCRIPT} Acme \u202egnp.exe Zero\u200bWidth"

#: The line of acme's adapter (a copy of exiv2's) that its second run's release gets wrong.
LOSES_TITLE = ("        answer: dict[str, Any] = {\"fields\": fields}\n",
               "        fields.pop(\"title\", None)\n        answer: dict[str, Any] = {\"fields\": fields}\n")

PROFILE = """name = "browser"
description = "exiftool, exiv2 and a participant on one JPEG"
vendors = ["exiftool", "exiv2", "acme"]

[[checks]]
id = "metadata.roundtrip"
level = "MUST"
vectors = { ids = ["kodim01-jpg"] }
params = { value_sets = ["ascii"] }
"""


@pytest.fixture(scope="module")
def driver() -> Iterator[WebDriver]:
    """Headless chromium at a fixed window size, its console log kept."""
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """The hostile report bundle and its rendered site's landing page."""
    bundle = make_bundle()
    out = tmp_path_factory.mktemp("hostile") / "site"
    return bundle, render_site(bundle, out)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The hub on loopback after two signed runs of one plan were submitted: the hub's own
    (``r1``) and then the participant acme's (``r2``), whose vendor name is hostile and whose
    reader lost the title in between (cells acme reads regress).  Each run's own folder
    (``--out``) holds its disk scorecard too."""
    w = tmp_path_factory.mktemp("hub")
    home = w / "home"
    env = {"AIII_HUB_KEYS": str(w / "hub-public")}

    def run(*args: str, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        proc = aiii(home, *args, env={**env, **(extra or {})})
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        return proc

    for who in ("hub", "acme"):
        run("keys", "generate", "--out", str(w / "keys"), "--id", who)
    (w / "hub-public").mkdir()
    shutil.copy(w / "keys" / "hub.pub", w / "hub-public")
    acme = w / "vendors" / "acme"
    shutil.copytree(ROOT / "vendors" / "exiv2", acme, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    toml = acme / "vendor.toml"
    text = toml.read_text().replace('id = "exiv2"', 'id = "acme"', 1).replace('role = "reference"', 'role = "participant"')
    text = text.replace('name = "Exiv2 (pyexiv2)"', f"name = {json.dumps(HOSTILE_NAME)}", 1)
    assert HOSTILE_NAME[:8] in text
    toml.write_text(text)
    (acme / "keys").mkdir()
    shutil.copy(w / "keys" / "acme.pub", acme / "keys")
    (w / "browser.toml").write_text(PROFILE)
    common = ("--profile", str(w / "browser.toml"), "--vendor-dir", str(w / "vendors"), "-q")
    run("run", *common, "--sign-key", str(w / "keys" / "hub.pem"), "--sign-as", "hub", "--out", str(w / "r1"))
    # acme's next release loses the title it reads: r2 regresses (and the screenshots show red squares)
    adapter = acme / "adapter.py"
    code = adapter.read_text()
    assert code.count(LOSES_TITLE[0]) == 1
    adapter.write_text(code.replace(*LOSES_TITLE))
    run("run", *common, "--sign-key", str(w / "keys" / "acme.pem"), "--sign-as", "acme", "--out", str(w / "r2"))
    tokens = {who: run("hub", "token", who, "--tokens", str(w / "tokens.json")).stdout.strip() for who in ("hub", "acme")}
    serve = ("--tokens", str(w / "tokens.json"), "--site", str(w / "site"), "--history", str(w / "history.sqlite"),
             "--state", str(w / "state"), "--keys", str(w / "vendors"))
    with serving_hub(home, *serve, env=env) as url:
        for folder, who in (("r1", "hub"), ("r2", "acme")):
            sent = run("submit", url, str(w / folder), extra={"AIII_HUB_TOKEN": tokens[who]})
            assert sent.stdout.startswith("valid: "), sent.stdout
        bundles = {name: json.loads((w / name / "results.json").read_text()) for name in ("r1", "r2")}
        yield {"w": w, "url": url, "bundles": bundles}


# -- reading pages ---------------------------------------------------------------------------------


def _percent(score: Score) -> str:
    """A score as the scorecard shows it: a whole percentage, rounded down."""
    return "—" if not score.judged else f"{100 * score.working // score.judged}%"


def _square_text(score: Score) -> str:
    return "\n".join([_percent(score), f"{score.working}/{score.judged}"] + ([f"+{score.not_judged} nj"] if score.not_judged else []))


def _matrix(table: WebElement) -> dict[tuple[str, str], str]:
    """(row header, column header) -> the text of each non-empty square of a matrix table."""
    rows = table.find_elements(By.CSS_SELECTOR, "tr")
    columns = [th.text for th in rows[0].find_elements(By.CSS_SELECTOR, "th")[1:]]
    squares = {}
    for row in rows[1:]:
        name = row.find_element(By.CSS_SELECTOR, "th").text
        for column, td in zip(columns, row.find_elements(By.CSS_SELECTOR, "td"), strict=True):
            if td.text:
                squares[(name, column)] = td.text
    return squares


# -- the scorecard from disk -----------------------------------------------------------------------


def test_the_landing_page_shows_who_works_with_whom_as_the_bundle_scores_it(
        driver: WebDriver, hostile_site: tuple[dict[str, Any], Path]) -> None:
    bundle, index = hostile_site
    open_page(driver, index.as_uri())
    as_of = driver.find_element(By.ID, "as-of").text
    assert as_of.startswith(f"Data as of {bundle['run']['finished']}: run {bundle['run']['id']}, profile core"), as_of
    headline = driver.find_element(By.ID, "headline")
    assert f"{len(bundle['cells'])} cells, {bundle['summary']['must_failures']} MUST failures." in headline.text
    shown = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")] for tr in headline.find_elements(By.CSS_SELECTOR, "tbody tr")]
    totals = family_scores(bundle)
    assert shown == [[family, _percent(s), f"{s.working} / {s.judged}", str(s.not_judged), str(sum(s.counts.values())),
                      str(len({c["id"] for c in bundle["checks"] if c["family"] == family}))] for family, s in totals.items()]
    expected = pair_scores(bundle)
    for section in driver.find_elements(By.CSS_SELECTOR, "#pairs > section"):
        family = section.find_element(By.CSS_SELECTOR, "h3 a").text
        got = _matrix(section.find_element(By.CSS_SELECTOR, "table.scores"))
        want = {(p if p != "—" else "— (catalogue file)", c if c != "—" else "— (no consumer)"): _square_text(s)
                for (p, c), s in expected[family].items()}
        assert got == want, family
    assert {s.find_element(By.CSS_SELECTOR, "h3 a").text for s in driver.find_elements(By.CSS_SELECTOR, "#pairs > section")} == set(expected)


def test_clicking_down_from_the_landing_page_reaches_a_cell_with_its_outcome_and_reason(
        driver: WebDriver, hostile_site: tuple[dict[str, Any], Path]) -> None:
    bundle, index = hostile_site
    cell = next(c for c in bundle["cells"] if c["reason"] == f"creator differs: {SCRIPT}")
    open_page(driver, index.as_uri())
    driver.find_element(By.CSS_SELECTOR, f"#checks a[href='{check_page(cell['check'])}']").click()
    assert driver.current_url.endswith(check_page(cell["check"]))
    assert driver.find_element(By.TAG_NAME, "h1").text.startswith(f"{cell['check']}: ")
    matrix = driver.find_element(By.CSS_SELECTOR, "table.matrix")
    columns = [th.text for th in matrix.find_elements(By.CSS_SELECTOR, "thead th")]
    row = next(tr for tr in matrix.find_elements(By.CSS_SELECTOR, "tbody tr") if tr.find_element(By.TAG_NAME, "th").text == cell["producer"])
    square = row.find_elements(By.TAG_NAME, "td")[columns.index(cell["consumer"]) - 1]
    failing = [c for c in bundle["cells"] if (c["check"], c["producer"], c["consumer"], c["outcome"])
               == (cell["check"], cell["producer"], cell["consumer"], "fail")]
    assert square.text == f"✗ {len(failing)}"
    square.find_element(By.CSS_SELECTOR, "a.o-fail").click()
    assert_no_alert(driver)
    listing = driver.find_element(By.ID, urldefrag(driver.current_url)[1])
    assert listing.is_displayed() and SCRIPT in listing.text
    line = next(tr for tr in listing.find_elements(By.CSS_SELECTOR, "tr") if tr.text.endswith(SCRIPT))
    line.find_element(By.CSS_SELECTOR, "td a.o-fail").click()
    article = driver.find_element(By.ID, urldefrag(driver.current_url)[1])
    assert article.tag_name == "article" and article.is_displayed()
    heading = article.find_element(By.TAG_NAME, "h2").text
    assert heading.startswith("✗ fail ") and cell["id"] in heading
    assert article.find_element(By.CSS_SELECTOR, "div.long").text == f"Reason: creator differs: {SCRIPT}"
    assert driver.find_elements(By.TAG_NAME, "script") == []
    assert console_errors(driver) == []


def test_a_vendor_page_shows_its_name_as_text_and_its_scores_per_family(
        driver: WebDriver, hostile_site: tuple[dict[str, Any], Path]) -> None:
    bundle, index = hostile_site
    open_page(driver, (index.parent / vendor_page("acme")).as_uri())
    assert_no_alert(driver)
    h1 = driver.find_element(By.TAG_NAME, "h1")
    assert h1.text == f"{SCRIPT} Acme \\u202egnp.exe 🧪 👩\u200d🔬 (acme)"  # the override shown, not obeyed
    assert driver.find_elements(By.TAG_NAME, "script") == []
    scores = driver.find_element(By.XPATH, "//h2[.='Interop scores']/following-sibling::table[1]")
    shown = {tr.find_elements(By.TAG_NAME, "td")[0].text: tr.find_elements(By.TAG_NAME, "td")[1].text
             for tr in scores.find_elements(By.CSS_SELECTOR, "tbody tr")}
    want = {family: f"{_percent(s)} {s.working}/{s.judged}" + (f", {s.not_judged} not judged" if s.not_judged else "")
            for family, s in vendor_scores(bundle)["acme"].items()}
    assert shown == want


def test_crawling_the_hostile_scorecard_finds_no_broken_link_console_error_or_script(
        driver: WebDriver, hostile_site: tuple[dict[str, Any], Path]) -> None:
    _, index = hostile_site
    found = crawl_disk(driver, index, index.parent)
    assert found.problems == []
    assert found.left == 0 and len(found.pages) >= 15, sorted(found.pages)
    assert sum(1 for _, fragment, _ in found.anchors if fragment.startswith("c-")) >= 1


def test_crawling_a_real_runs_scorecard_from_disk_finds_every_link_and_artifact(
        driver: WebDriver, hub: dict[str, Any]) -> None:
    out = hub["w"] / "r1"
    found = crawl_disk(driver, out / "site" / "index.html", out)
    assert found.problems == []
    assert found.left == 0
    assert any("/artifacts/" in target for target in found.targets), "the cells link to their artifacts"


# -- the hub's published site over HTTP ------------------------------------------------------------


def test_the_hubs_landing_page_shows_the_latest_run_as_its_bundle_scores_it(driver: WebDriver, hub: dict[str, Any]) -> None:
    latest = hub["bundles"]["r2"]
    open_page(driver, hub["url"])
    as_of = driver.find_element(By.CSS_SELECTOR, "p.asof").text
    assert as_of.startswith(f"Data as of run {latest['run']['id']}, profile browser, ")
    assert latest["run"]["plan_digest"]["sha256"][:12] in as_of and "signed by acme" in as_of
    for family, pairs in pair_scores(latest).items():
        table = driver.find_element(By.XPATH, f"//h2[@id='family-{family}']/following-sibling::table[1]")
        want = {(p, c): "\n".join([_percent(s), f"{s.working}/{s.judged}" + (f" +{s.not_judged}" if s.not_judged else "")])
                for (p, c), s in pairs.items()}
        assert _matrix(table) == want
    vendors = driver.find_element(By.XPATH, "//h2[.='Vendors']/following-sibling::table[1]")
    assert f"{SCRIPT} Acme \\u202egnp.exe Zero\\u200bWidth acme" in vendors.text


def test_the_run_list_leads_to_each_run_its_diff_and_scorecard(driver: WebDriver, hub: dict[str, Any]) -> None:
    first, second = (hub["bundles"][name]["run"]["id"] for name in ("r1", "r2"))
    open_page(driver, hub["url"] + "history/index.html")
    rows = driver.find_elements(By.CSS_SELECTOR, "tr[id^='run-']")
    assert [row.get_attribute("id") for row in rows] == [f"run-{second}", f"run-{first}"]  # newest first
    before = {c["id"]: c["outcome"] for c in hub["bundles"]["r1"]["cells"]}
    regressed = sorted(c["id"] for c in hub["bundles"]["r2"]["cells"] if before[c["id"]] == "pass" and c["outcome"] == "fail")
    assert len(regressed) == 3  # exiftool, exiv2 and acme itself -> acme
    changes = rows[0].find_element(By.CSS_SELECTOR, "a[href^='diffs/']")
    assert changes.text.startswith("3 regressions, 0 fixes, 0 new, 0 removed, 0 changed")
    changes.click()
    assert driver.current_url == hub["url"] + f"history/diffs/{second}.html"
    assert console_errors(driver) == []
    body = driver.find_element(By.TAG_NAME, "body").text
    assert first in body and all(cell in body for cell in regressed)
    open_page(driver, hub["url"] + "history/index.html")
    driver.find_element(By.CSS_SELECTOR, f"#run-{first} a.mono").click()
    assert driver.current_url == hub["url"] + f"runs/{first}/site/index.html"
    assert driver.find_element(By.ID, "as-of").text.startswith(f"Data as of {hub['bundles']['r1']['run']['finished']}: run {first}")
    assert driver.find_elements(By.CSS_SELECTOR, "table.scores")


def test_the_hubs_vendor_page_shows_the_hostile_name_as_text_its_trend_and_badge(
        driver: WebDriver, hub: dict[str, Any]) -> None:
    latest = hub["bundles"]["r2"]
    open_page(driver, hub["url"] + "history/vendors/acme.html")
    assert driver.find_element(By.TAG_NAME, "h1").text == f"{SCRIPT} Acme \\u202egnp.exe Zero\\u200bWidth acme over time"
    assert driver.find_elements(By.TAG_NAME, "script") == []
    scores = vendor_scores(latest)["acme"]
    for family, score in scores.items():
        heading = driver.find_element(By.XPATH, f"//h3[.='{family}']")
        assert heading.find_element(By.XPATH, "following-sibling::*[1]").tag_name == "svg"
        table = heading.find_element(By.XPATH, "following-sibling::details[1]")
        table.find_element(By.TAG_NAME, "summary").click()
        last = table.find_elements(By.CSS_SELECTOR, "tr")[-1].find_elements(By.TAG_NAME, "td")
        assert last[0].text == latest["run"]["id"]
        assert last[3].text == f"{score.working * 1000 // score.judged / 10:.1f}% ({score.working}/{score.judged})"
    badge = driver.find_element(By.CSS_SELECTOR, "ul.badges img[alt='overall']")
    assert driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", badge) > 0
    svg = requests.get(hub["url"] + "badges/acme.svg", timeout=30)
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    open_page(driver, hub["url"] + "badges/acme.svg")
    total = Score(sum((s.counts for s in scores.values()), Counter()))
    assert f"({total.working}/{total.judged})" in (driver.find_element(By.TAG_NAME, "svg").get_attribute("textContent") or "")


def test_crawling_the_hubs_site_finds_no_broken_link_console_error_or_script(driver: WebDriver, hub: dict[str, Any]) -> None:
    with requests.Session() as session:
        found = crawl(driver, hub["url"], lambda url: url.startswith(hub["url"]), http_exists(session))
    assert found.problems == []
    assert found.left == 0
    run_ids = [b["run"]["id"] for b in hub["bundles"].values()]
    assert {hub["url"] + f"runs/{r}/site/index.html" for r in run_ids} <= set(found.pages)
    assert {hub["url"] + "history/vendors/acme.html", hub["url"] + f"history/diffs/{run_ids[1]}.html"} <= set(found.pages)
    assert hub["url"] + "badges/acme.svg" in found.targets


def test_screenshots_for_the_readme(driver: WebDriver, hub: dict[str, Any]) -> None:
    """With AIII_SCREENSHOTS=DIR: the hub's landing page and a vendor page, at the top, WIDTH x HEIGHT."""
    folder = os.environ.get("AIII_SCREENSHOTS")
    pages = {"landing.png": hub["url"], "vendor.png": hub["url"] + "history/vendors/exiv2.html"}
    for name, url in pages.items():
        open_page(driver, url)
        driver.execute_script("window.scrollTo(0, 0)")
        if folder:
            target = Path(folder) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            assert driver.save_screenshot(str(target))
        else:
            assert driver.get_screenshot_as_png()[:8] == b"\x89PNG\r\n\x1a\n"
