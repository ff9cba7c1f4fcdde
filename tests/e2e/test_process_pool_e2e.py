"""A pool of adapter processes (``[adapter] processes``, runner/transports/pool.py): calls
spread over its servers and run at once, a killed server is started again, one version,
its CPU counted, nothing left after close; and blind-watermark gives the same outcomes
pooled as in the harness's own process."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiii_kit import Asset
from helpers import TESTS, aiii, cells, placement_differences

from runner.errors import TransportError
from runner.transports import make_transport
from runner.transports.pool import ProcessPool
from runner.vendors import load_manifest

PROBE = TESTS / "doubles" / "pool-probe" / "vendor.toml"


@pytest.fixture
def pool(tmp_path: Path) -> Iterator[ProcessPool]:
    transport = make_transport(load_manifest(PROBE), log_dir=tmp_path)
    assert isinstance(transport, ProcessPool)
    transport.start()
    try:
        yield transport
    finally:
        transport.close()


def _ask(pool: ProcessPool, what: str) -> tuple[int, float, float]:
    """One call (the asset says what the double does): (pid, started, ended) of its answer."""
    answer = pool.call("metadata.read", Asset(what.encode(), "image/jpeg", "x.jpg"), {}, 30.0)
    assert isinstance(answer, dict)
    pid, started, ended = answer["fields"]["title"].split()
    return int(pid), float(started), float(ended)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_two_calls_go_to_two_processes_and_run_at_once(pool: ProcessPool) -> None:
    assert pool.implementation_version() == "1.0-pool"
    assert len(pool.process_groups()) == 1, "the second server starts when a call needs it"
    answers: list[tuple[int, float, float]] = []
    threads = [threading.Thread(target=lambda: answers.append(_ask(pool, "sleep 1.5"))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    (pid_a, start_a, end_a), (pid_b, start_b, end_b) = answers
    assert pid_a != pid_b and os.getpid() not in (pid_a, pid_b)
    assert start_a < end_b and start_b < end_a, "the two calls did not overlap"
    assert len(pool.process_groups()) == 2
    assert pool.implementation_version() == "1.0-pool"
    # one call at a time per server: a third and fourth at once go one to each, again
    more: list[int] = []
    threads = [threading.Thread(target=lambda: more.append(_ask(pool, "sleep 0.2")[0])) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(more) == sorted([pid_a, pid_b])


def test_a_killed_server_is_started_again_and_a_crash_is_the_calls_error(pool: ProcessPool) -> None:
    first, _, _ = _ask(pool, "sleep 0")
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 10
    # until its exit can be collected (not merely its main thread a zombie): the next call
    # must find it dead, not reach a socket nobody answers on
    while os.waitid(os.P_PID, first, os.WEXITED | os.WNOWAIT | os.WNOHANG) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    again, _, _ = _ask(pool, "sleep 0")
    assert again != first and _alive(again)
    with pytest.raises(TransportError, match="died during metadata.read|connection failed mid-request"):
        _ask(pool, "crash")
    assert _ask(pool, "sleep 0")[0] not in (first, again)


def test_the_pool_counts_the_cpu_of_all_its_processes(pool: ProcessPool) -> None:
    before = pool.adapter_cpu_s() or 0.0
    threads = [threading.Thread(target=_ask, args=(pool, "burn")) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(pool.process_groups()) == 2
    assert (pool.adapter_cpu_s() or 0.0) - before >= 0.5  # two half-second burns, in two processes


def test_close_leaves_no_process(tmp_path: Path) -> None:
    pool = make_transport(load_manifest(PROBE), log_dir=tmp_path)
    pool.start()
    threads = [threading.Thread(target=_ask, args=(pool, "sleep 0.3")) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    groups = pool.process_groups()
    assert len(groups) == 2 and all(_alive(pid) for pid in groups)
    pool.close()
    assert not any(_alive(pid) for pid in groups)
    assert pool.process_groups() == []
    assert sorted(p.name for p in tmp_path.glob("*.log")) == ["pool-probe.2.log", "pool-probe.log"]


@pytest.mark.slow  # two small watermark runs
def test_blind_watermark_pooled_gives_the_outcomes_of_in_process(tmp_path: Path) -> None:
    """The same plan of blind-watermark cells, served by its pool and in the harness's own
    process: not one cell's outcome may differ."""
    runs = {}
    for label, extra in (("pool", ()), ("inproc", ("--placement", "inproc"))):
        # a home each: no answer cached by one run may stand in for the other's call
        done = aiii(tmp_path / f"home-{label}", "run", "--profile", str(TESTS / "profiles" / "wm-pool.toml"),
                    "--out", str(tmp_path / label), "--store", str(tmp_path / f"{label}.sqlite"), "-q", *extra)
        assert done.returncode == 0, done.stderr[-3000:]
        bundle = json.loads((tmp_path / label / "results.json").read_text())
        vendor = next(v for v in bundle["vendors"] if v["id"] == "blind-watermark")
        assert vendor["runnable"] and vendor["transport"] == ("process" if label == "pool" else "inproc"), vendor
        runs[label] = cells(tmp_path / f"{label}.sqlite")
    assert len(runs["pool"]) == 7
    assert placement_differences(runs["inproc"], runs["pool"]) == {}
    # the same answers: the measurements of every cell are equal too
    for cid, cell in runs["inproc"].items():
        assert cell["measurements"] == runs["pool"][cid]["measurements"], cid
