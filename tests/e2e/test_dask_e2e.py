"""``aiii run --executor dask|dask-local`` on real clusters on loopback: a ``dask scheduler``
and ``dask worker`` processes, each worker with its own ``AIII_HOME`` (no shared state
folder), compared cell by cell with the local thread executor's run of the same profile."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT, TESTS, aiii, cells

pytestmark = pytest.mark.slow

#: Small: writers, readers, signers and readers on a photo and a clip.
SMALL = ["--profile", str(TESTS / "profiles" / "shards.toml"), "-q"]
#: Slower: a reader that takes its time, so a worker can be killed mid-run.
SLOW = ["--profile", str(TESTS / "profiles" / "resume.toml"), "--vendor-dir", str(TESTS / "doubles"), "-q"]


@dataclass
class Cluster:
    address: str
    workers: list[subprocess.Popen[bytes]]
    homes: list[Path]


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "AIII_HOME": str(home), "PYTHONPATH": str(ROOT)}


@contextmanager
def dask_cluster(tmp: Path, resources: tuple[str | None, ...] = (None, None)) -> Iterator[Cluster]:
    """A scheduler and one single-threaded worker per entry of ``resources`` (what it
    declares, e.g. ``docker=1``), without nannies (a killed worker stays dead), each in
    its own session with its own ``AIII_HOME``."""
    from distributed import Client

    scheduler_file = tmp / "scheduler.json"
    procs: list[subprocess.Popen[bytes]] = []
    logs = tmp / "dask-logs"
    logs.mkdir()

    def start(name: str, *args: str, home: Path) -> subprocess.Popen[bytes]:
        with open(logs / f"{name}.log", "wb") as log:
            proc = subprocess.Popen([sys.executable, "-m", *args], cwd=ROOT, env=_env(home), stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        procs.append(proc)
        return proc

    try:
        start("scheduler", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
              "--no-dashboard", "--scheduler-file", str(scheduler_file), home=tmp / "scheduler-home")
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.2)  # written whole
        address = json.loads(scheduler_file.read_text())["address"]
        homes = [tmp / f"worker{i}-home" for i in range(len(resources))]
        started = [start(f"worker{i}", "distributed.cli.dask_worker", "--scheduler-file", str(scheduler_file),
                         "--nworkers", "1", "--nthreads", "1", "--no-nanny", "--no-dashboard",
                         "--local-directory", str(tmp / f"worker{i}-scratch"),
                         *(["--resources", declared] if declared else []), home=homes[i])
                   for i, declared in enumerate(resources)]
        with Client(address, timeout=60) as client:
            client.wait_for_workers(len(resources), timeout=60)
        yield Cluster(address, started, homes)
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def _outcomes(store: Path) -> dict[str, tuple[str, str]]:
    return {cid: (c["outcome"], c["reason"]) for cid, c in cells(store).items()}


def _run(home: Path, tmp: Path, name: str, *args: str) -> dict[str, tuple[str, str]]:
    store = tmp / f"{name}.sqlite"
    proc = aiii(home, "run", *args, "--out", str(tmp / name), "--store", str(store), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.splitlines()[-1].startswith("scorecard: ")
    return _outcomes(store)


def _cited_artifacts_present(out: Path) -> None:
    """Every artifact the bundle cites was brought home: the report links each one."""
    bundle: dict[str, Any] = json.loads((out / "results.json").read_text())
    for cell in bundle["cells"]:
        for role, art in cell["artifacts"].items():
            assert art["path"] and (out / art["path"]).is_file(), (cell["id"], role)


@pytest.fixture(scope="module")
def local_small(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, str]]:
    """The small profile by the local thread executor: what every Dask run must equal."""
    tmp = tmp_path_factory.mktemp("local-small")
    return _run(tmp / "home", tmp, "local", *SMALL)


def test_a_cluster_of_two_workers_equals_the_local_run_cell_by_cell(
        local_small: dict[str, tuple[str, str]], tmp_path: Path) -> None:
    with dask_cluster(tmp_path) as cluster:
        got = _run(tmp_path / "client-home", tmp_path, "dask", *SMALL, "--executor", "dask",
                   "--scheduler", cluster.address)
    assert len(got) == len(local_small) >= 20
    assert got == local_small
    _cited_artifacts_present(tmp_path / "dask")
    # both workers ran cells, each in its own state folder; the client's step cache holds
    # every step they kept, so a later run on the client's state folder reuses them
    kept = [_step_keys(home) for home in cluster.homes]
    assert all(kept), "each worker ran some of the cells"
    assert _step_keys(tmp_path / "client-home") == set().union(*kept)


def _step_keys(home: Path) -> set[str]:
    with sqlite3.connect(home / "cache" / "steps.sqlite") as db:
        return {key for (key,) in db.execute("SELECT key FROM steps_v2")}


@pytest.fixture(scope="module")
def local_slow(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, str]]:
    """The slower profile by the local thread executor."""
    tmp = tmp_path_factory.mktemp("local-slow")
    return _run(tmp / "home", tmp, "local", *SLOW)


def _wait_for_cells(store: Path, harness: subprocess.Popen[bytes], also: Callable[[], bool] = lambda: True) -> int:
    """Cells in ``store`` once some have arrived (and ``also`` holds), or 0 if the run ended first."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and harness.poll() is None:
        time.sleep(0.1)
        try:
            done = len(cells(store)) if store.exists() else 0
            if done and also():
                return done
        except sqlite3.Error:
            continue
    return 0


def test_a_worker_killed_mid_run_loses_and_doubles_no_cell(local_slow: dict[str, tuple[str, str]], tmp_path: Path) -> None:
    expected = local_slow
    store = tmp_path / "dask.sqlite"
    with dask_cluster(tmp_path) as cluster:
        harness = subprocess.Popen(
            [sys.executable, "-m", "runner.cli", "run", *SLOW, "--executor", "dask", "--scheduler", cluster.address,
             "--out", str(tmp_path / "dask"), "--store", str(store)],
            cwd=ROOT, env=_env(tmp_path / "client-home"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        victim_steps = cluster.homes[0] / "cache" / "steps.sqlite"
        # results have arrived, and the victim has been given cells
        before = _wait_for_cells(store, harness, lambda: victim_steps.exists() and bool(_step_keys(cluster.homes[0])))
        victim = cluster.workers[0]
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(timeout=30)
        out, err = harness.communicate(timeout=240)
    assert harness.returncode == 0, err.decode()[-3000:]
    assert 0 < before < len(expected), "the worker must die mid-run"
    got = _outcomes(store)
    assert got == expected
    bundle = json.loads((tmp_path / "dask" / "results.json").read_text())
    ids = [c["id"] for c in bundle["cells"]]
    assert len(ids) == len(set(ids)) == len(expected)
    assert out.decode().splitlines()[-2].startswith(f"run {bundle['run']['id']}: {len(expected)} cells")


def test_a_client_killed_mid_run_resumes_on_the_cluster(local_slow: dict[str, tuple[str, str]], tmp_path: Path) -> None:
    store = tmp_path / "dask.sqlite"
    client_home = tmp_path / "client-home"
    with dask_cluster(tmp_path) as cluster:
        harness = subprocess.Popen(
            [sys.executable, "-m", "runner.cli", "run", *SLOW, "--executor", "dask", "--scheduler", cluster.address,
             "--out", str(tmp_path / "dask"), "--store", str(store)],
            cwd=ROOT, env=_env(client_home), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for_cells(store, harness)
        harness.kill()
        harness.wait(timeout=30)
        before = cells(store)
        assert 0 < len(before) < len(local_slow), "the client must die mid-run"
        with sqlite3.connect(store) as db:
            (run_id,), = db.execute("SELECT id FROM runs").fetchall()
        proc = aiii(client_home, "run", "--resume", run_id, "--store", str(store), "-q", timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _outcomes(store) == local_slow
    after = cells(store)
    for cid, rec in before.items():  # nothing written before the kill was redone
        assert after[cid]["finished"] == rec["finished"]


def test_dask_local_with_two_workers_equals_the_local_run(
        local_small: dict[str, tuple[str, str]], tmp_path: Path) -> None:
    got = _run(tmp_path / "home", tmp_path, "dask-local", *SMALL, "--executor", "dask-local", "--workers", "2")
    assert got == local_small
    _cited_artifacts_present(tmp_path / "dask-local")


@pytest.mark.docker
def test_only_a_worker_with_the_docker_resource_runs_a_containerised_vendor(tmp_path: Path) -> None:
    from runner.vendors import docker_availability

    avail = docker_availability()
    if not avail.runnable:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI runs the Dask executor's docker test, but: {avail.reason}")
        pytest.skip(f"the docker placement needs a Docker engine: {avail.reason}")
    args = ["--profile", str(TESTS / "profiles" / "dask-docker.toml"), "--vendor-dir", str(TESTS / "doubles_docker"), "-q"]
    expected = _run(tmp_path / "local-home", tmp_path, "local", *args)
    assert {cid.split("/")[3] for cid in expected} == {"exiftool", "exiv2", "d-probe"}
    with dask_cluster(tmp_path, ("docker=1", None)) as cluster:
        got = _run(tmp_path / "client-home", tmp_path, "dask", *args, "--executor", "dask", "--scheduler", cluster.address)
    assert got == expected
    boxed, plain = cluster.homes
    assert list((boxed / "logs").rglob("d-probe.log")), "the docker worker ran the container"
    assert not list((plain / "logs").rglob("d-probe.log")), "the other worker never started it"
    assert _step_keys(plain), "the other worker ran the in-process cells it was given"


def test_dask_options_that_do_not_go_together_are_refused_in_one_line(tmp_path: Path) -> None:
    for args, says in ((["--executor", "dask"], "--scheduler"), (["--scheduler", "tcp://127.0.0.1:1"], "--scheduler"),
                       (["--executor", "dask-local", "--workers", "0"], "--workers 0")):
        proc = aiii(tmp_path / "home", "run", *SMALL, *args, "--out", str(tmp_path / "out"))
        assert proc.returncode == 2, (args, proc.stderr)
        assert says in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not (tmp_path / "out").exists()
