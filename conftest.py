"""Shared fixtures and hooks for every test folder (tests/, vendors/*/tests).

Under CI=true a skipped test fails the session: CI allows no skips.  Any test marked
docker, torch, debian or slow is also marked heavy, so `pytest -m "not heavy"` is the fast loop.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runner.vectors import Catalogue, load_catalogue

#: The markers that say a test needs something heavy; each implies `heavy`.
HEAVY = ("docker", "torch", "debian", "slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if any(item.get_closest_marker(name) for name in HEAVY):
            item.add_marker(pytest.mark.heavy)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if os.environ.get("CI", "").lower() in ("1", "true", "yes") and skipped and exitstatus == 0:
        reporter.write_line(f"CI allows no skips: {skipped} test(s) skipped", red=True)
        session.exitstatus = 1


@pytest.fixture()
def aiii_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private state folder (caches, store, PKI) for one test."""
    home = tmp_path / "aiii-home"
    monkeypatch.setenv("AIII_HOME", str(home))
    return home


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state folder shared by the tests of one module (its caches make later runs fast)."""
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="session")
def default_inproc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """The default profile run in-process, once per session, from a fresh state folder and
    with no gate asked for, as README command 1 runs it: it exits 0 (its failing cells are
    findings) and ends with the headline and the scorecard's path.  Its cells are what
    every placement's parity test compares with, cell by cell."""
    from helpers import aiii, cells

    where = tmp_path_factory.mktemp("default-inproc")
    proc = aiii(where / "home", "run", "--out", str(where / "out"), "--store", str(where / "store.sqlite"), "-q",
                timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    last = proc.stdout.splitlines()[-2:]
    assert last[0].startswith("run ") and " cells: " in last[0], last
    assert last[1] == f"scorecard: {where / 'out' / 'site' / 'index.html'}", last
    got = cells(where / "store.sqlite")
    assert len(got) > 2000, f"the default profile planned only {len(got)} cells"
    return got


@pytest.fixture(scope="module")
def cache_a(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty derivation cache for one module."""
    return tmp_path_factory.mktemp("cache-a")


@pytest.fixture(scope="module")
def catalogue(cache_a: Path) -> Catalogue:
    """The real catalogue (test_vectors/) with every derived vector, derived into a fresh cache."""
    from helpers import ROOT

    return load_catalogue(ROOT / "test_vectors", cache_a)
