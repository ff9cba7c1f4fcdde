"""Driving Debian's chromium for the site's browser tests (tests/e2e/test_browser_e2e.py):
the browser itself (headless, a fixed viewport, its console log kept, never a downloaded
driver) and a breadth-first crawl that checks every link, anchor and page of a site."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import pytest
import requests
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
#: The window the pages are read (and the README's screenshots taken) at.
WIDTH, HEIGHT = 1200, 900
#: At most this many pages are loaded per crawl (the test sites hold far fewer).
CRAWL_LIMIT = 300


@contextmanager
def chromium() -> Iterator[WebDriver]:
    """Headless chromium at a fixed window size, its console log kept."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(f"{' and '.join(missing)} missing: .ci/run installs them (apt-get install chromium chromium-driver)",
                    pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={WIDTH},{HEIGHT}",
                     "--hide-scrollbars"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    # The viewport itself WIDTH x HEIGHT (the window's size includes what headless pretends is its frame).
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False})
    try:
        yield browser
    finally:
        browser.quit()


def console_errors(driver: WebDriver) -> list[str]:
    """The console's errors since the last call (the log is drained as it is read)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def assert_no_alert(driver: WebDriver) -> None:
    try:
        alert = driver.switch_to.alert
    except NoAlertPresentException:
        return
    pytest.fail(f"a JavaScript alert is open: {alert.text!r}")


def open_page(driver: WebDriver, url: str) -> None:
    """Load ``url``; it must open with no alert and no console error."""
    driver.get(url)
    assert_no_alert(driver)
    assert console_errors(driver) == [], url


@dataclass
class Crawl:
    """What a breadth-first walk of a site found."""

    pages: dict[str, set[str]] = field(default_factory=dict)  # page URL -> the ids of its elements
    targets: set[str] = field(default_factory=set)  # every in-site link or image target, without fragment
    anchors: list[tuple[str, str, str]] = field(default_factory=list)  # (target, fragment, the page linking)
    problems: list[str] = field(default_factory=list)
    left: int = 0  # pages found but not loaded (over CRAWL_LIMIT)


def is_page(url: str) -> bool:
    path = urlsplit(url).path
    return path.endswith((".html", "/"))


def crawl(driver: WebDriver, start: str, inside: Callable[[str], bool], exists: Callable[[str], bool]) -> Crawl:
    """Load ``start`` and every page linked from it that is ``inside`` the site, breadth
    first, up to :data:`CRAWL_LIMIT` pages; check each link's target ``exists`` and each
    anchor is an element id on its page."""
    found = Crawl()
    queue, queued = deque([start]), {start}
    while queue and len(found.pages) < CRAWL_LIMIT:
        url = queue.popleft()
        if not exists(url):
            continue  # reported with the link that leads here
        driver.get(url)
        assert_no_alert(driver)
        found.problems += [f"{url}: console error: {message}" for message in console_errors(driver)]
        if driver.find_elements(By.TAG_NAME, "script"):
            found.problems.append(f"{url}: has a <script> element")
        if not driver.find_elements(By.CSS_SELECTOR, "head link[rel~='icon']"):
            # over HTTP the browser then fetches /favicon.ico: a 404 in the console, of whichever page is next
            found.problems.append(f"{url}: declares no icon")
        found.pages[url] = set(driver.execute_script("return Array.from(document.querySelectorAll('[id]'), e => e.id)"))
        links = driver.execute_script(
            "return Array.from(document.querySelectorAll('a[href], img[src]'), e => e.href || e.src)")
        for link in links:
            if link.lower().startswith("javascript:"):
                found.problems.append(f"{url}: a javascript: link")
            target, fragment = urldefrag(link)
            if not inside(target):
                continue
            found.targets.add(target)
            if fragment:
                found.anchors.append((target, fragment, url))
            if is_page(target) and target not in queued:
                queued.add(target)
                queue.append(target)
    found.left = len(queue)
    found.problems += [f"broken link: {target}" for target in sorted(found.targets) if not exists(target)]
    for target, fragment, page in found.anchors:
        if target in found.pages and fragment not in found.pages[target]:
            found.problems.append(f"{page}: links to #{fragment}, which {target} lacks")
    return found


def file_exists(url: str) -> bool:
    path = Path(unquote(urlsplit(url).path))
    return path.is_dir() if url.endswith("/") else path.is_file()


def under(folder: Path) -> Callable[[str], bool]:
    prefix = folder.resolve().as_uri() + "/"
    return lambda url: url.startswith(prefix)


def crawl_disk(driver: WebDriver, index: Path, bound: Path) -> Crawl:
    """Crawl a site from disk: pages under ``index``'s folder, links checked under ``bound``."""
    site, checked = under(index.parent), under(bound)
    return crawl(driver, index.resolve().as_uri(), lambda url: checked(url) and (site(url) or not is_page(url)),
                 file_exists)


def http_exists(session: requests.Session) -> Callable[[str], bool]:
    seen: dict[str, bool] = {}

    def exists(url: str) -> bool:
        if url not in seen:
            seen[url] = session.get(url, timeout=30).status_code == 200
        return seen[url]

    return exists
