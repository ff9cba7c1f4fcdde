"""``[adapter] processes``: which placement a vendor that declares it runs in, and the
manifests that may declare it.  Nothing is started here (tests/e2e/test_process_pool_e2e.py
starts the pools)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from helpers import ROOT, SAMPLE_VENDOR, TESTS

from runner.errors import ConfigError
from runner.transports import make_transport, placement_of
from runner.transports.inproc import InprocTransport
from runner.transports.pool import ProcessPool, pool_size
from runner.transports.process import ProcessTransport
from runner.vendors import load_manifest

POOLED = load_manifest(TESTS / "doubles" / "pool-probe" / "vendor.toml")


def _vendor(tmp_path: Path, placement: str, extra: str) -> Path:
    text = SAMPLE_VENDOR.format(id="sample", name="Sample").replace('placement = "inproc"', f'placement = "{placement}"')
    text = text.replace('entry = "adapter.py:Sample"\n', f'entry = "adapter.py:Sample"\n{extra}')
    if placement == "docker":
        text += '\n[docker]\nwheels = []\n'
    path = tmp_path / "sample" / "vendor.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_an_inproc_vendor_declaring_processes_runs_as_a_pool_unless_a_run_says_inproc() -> None:
    assert POOLED.placement == "inproc" and POOLED.processes == 2
    assert placement_of(POOLED, None) == "process"
    assert placement_of(POOLED, "process") == "process"
    # --placement inproc: the adapter in the harness's own process after all, one adapter
    assert placement_of(POOLED, "inproc") == "inproc"
    assert isinstance(make_transport(POOLED, "inproc"), InprocTransport)
    # --placement docker: one container (its concurrency is max_concurrency)
    assert placement_of(POOLED, "docker") == "docker"
    pool = make_transport(POOLED)
    assert isinstance(pool, ProcessPool) and pool.size == 2 and len(pool.servers) == 2
    assert all(isinstance(s, ProcessTransport) for s in pool.servers)
    # one log per server: the first keeps the vendor's name
    assert [s.log_path.name for s in pool.servers] == ["pool-probe.log", "pool-probe.2.log"]


def test_without_processes_placements_are_as_before() -> None:
    plain = replace(POOLED, processes=None)
    assert placement_of(plain, None) == "inproc" and placement_of(plain, "inproc") == "inproc"
    assert isinstance(make_transport(plain), InprocTransport)
    assert type(make_transport(plain, "process")) is ProcessTransport
    one = replace(POOLED, processes=1)
    assert placement_of(one, None) == "process" and type(make_transport(one)) is ProcessTransport


def test_a_process_vendor_declaring_processes_is_a_pool_and_stays_a_process_vendor() -> None:
    served = replace(POOLED, placement="process", processes=3)
    assert placement_of(served, None) == placement_of(served, "inproc") == "process"
    pool = make_transport(served)
    assert isinstance(pool, ProcessPool) and pool.size == 3


def test_a_vendors_own_server_moves_to_docker_only_with_a_dockerfile(tmp_path: Path) -> None:
    """``--placement docker`` moves a process vendor that serves the protocol itself when it
    ships a Dockerfile (its server in that image); without one it stays in its process."""
    rust = load_manifest(ROOT / "vendors" / "rust-recognition" / "vendor.toml")
    assert rust.placement == "process" and not rust.adapter_entry
    assert placement_of(rust, "docker") == "docker"
    assert placement_of(rust, "inproc") == placement_of(rust, "process") == placement_of(rust, None) == "process"
    bare = replace(rust, folder=tmp_path)  # the same manifest, no Dockerfile beside it
    assert placement_of(bare, "docker") == "process"


def test_processes_cores_is_the_cores_the_harness_may_use() -> None:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert pool_size(replace(POOLED, processes="cores")) == cores
    assert pool_size(replace(POOLED, processes=None)) == 1


def test_processes_loads_from_the_manifest_and_bad_values_name_the_key(tmp_path: Path) -> None:
    assert load_manifest(_vendor(tmp_path / "a", "inproc", 'processes = "cores"\n')).processes == "cores"
    assert load_manifest(_vendor(tmp_path / "b", "process", "processes = 4\n")).processes == 4
    for bad in ("processes = 0\n", 'processes = "many"\n', "processes = 1.5\n"):
        with pytest.raises(ConfigError, match=r"adapter\.processes"):
            load_manifest(_vendor(tmp_path / bad.split()[-1].strip('"'), "inproc", bad))


def test_processes_is_refused_where_there_is_no_process_to_multiply(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"adapter\.processes: only for placements 'inproc' and 'process', not 'docker'"):
        load_manifest(_vendor(tmp_path, "docker", "processes = 2\n"))


def test_blind_watermark_is_served_by_a_pool_of_one_process_a_core() -> None:
    manifest = load_manifest(ROOT / "vendors" / "blind-watermark" / "vendor.toml")
    assert manifest.processes == "cores" and manifest.max_concurrency == 1
    assert placement_of(manifest, None) == "process" and placement_of(manifest, "inproc") == "inproc"
