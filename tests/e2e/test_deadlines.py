"""Every call outside the harness ends by its deadline, whatever the other side does.

Real programs only: an HTTPS endpoint on loopback that trickles its answers a byte a
second (each read is quick, the whole answer takes minutes), a process server that
trickles its health, and in-process adapters that hang at import, in the constructor,
in health(), in implementation_version() and in close().
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiii_kit import Asset
from helpers import TESTS, aiii, cells, write_vendors

from runner.model import VendorManifest
from runner.transports import TransportError
from runner.transports.client import DeadlineError, Endpoint, ProtocolClient
from runner.transports.http import HttpTransport
from runner.transports.process import ProcessTransport
from runner.vendors import load_manifest

#: Generous bound on a whole `aiii run` here; before the fix these runs hung for many minutes.
RUN_LIMIT_S = 120


def bounded(fn: Callable[[], Any], limit: float = 60) -> Any:
    """``fn()``'s value or exception; fails the test if it is still running after ``limit`` s."""
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            box["exc"] = exc

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(limit)
    assert not thread.is_alive(), f"still waiting after {limit} s: no deadline"
    return box


def client(server: tuple[Path, int], mode: str) -> ProtocolClient:
    certs, port = server
    return ProtocolClient(mode, Endpoint(base_url=f"https://localhost:{port}/{mode}", ca_file=str(certs / "ca.pem")))


JPEG = Asset(b"\xff\xd8\xff\xe0" + bytes(2048), "image/jpeg", "x.jpg")  # the server never looks


@pytest.mark.parametrize("mode", ["trickle-head", "trickle-body"])
def test_an_answer_trickled_a_byte_a_second_is_cut_at_the_deadline(server: tuple[Path, int], mode: str) -> None:
    box = bounded(lambda: client(server, mode).call("metadata.read", JPEG, {}, 2.0))
    assert isinstance(box.get("exc"), DeadlineError), box
    assert "2 s deadline" in str(box["exc"])


def test_health_and_describe_trickled_at_start_up_end_within_the_start_up_time(server: tuple[Path, int], tmp_path: Path) -> None:
    certs, port = server
    manifest = VendorManifest(id="trickle-start", name="t", organisation="o", placement="http", folder=certs,
                              version_rule={"adapter": True}, capabilities=(),
                              http={"url": f"https://localhost:{port}/trickle-start", "ca_file": "ca.pem",
                                    "startup_timeout_s": 2, "rate_per_s": 50})
    box = bounded(lambda: HttpTransport(manifest).start())
    assert isinstance(box.get("exc"), TransportError) and "deadline" in str(box["exc"]), box


def test_a_process_server_trickling_its_health_is_given_up_at_its_start_up_time(aiii_home: Path, tmp_path: Path) -> None:
    aiii_home.mkdir(parents=True, exist_ok=True)
    transport = ProcessTransport(load_manifest(TESTS / "doubles_process" / "p-slowstart" / "vendor.toml"), tmp_path)
    try:
        box = bounded(transport.start)
    finally:
        transport.close()
    exc = box.get("exc")
    assert isinstance(exc, TransportError) and "not healthy within 4 s" in str(exc) and "deadline" in str(exc), box


def test_json_nested_past_the_recursion_limit_is_a_one_line_transport_error(server: tuple[Path, int]) -> None:
    box = bounded(lambda: client(server, "nested-json").call("metadata.read", JPEG, {}, 10.0))
    exc = box.get("exc")
    assert isinstance(exc, TransportError) and "nested too deeply" in str(exc) and "\n" not in str(exc), box


@pytest.fixture(scope="module")
def hostile_run(server: tuple[Path, int], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """`aiii run --timeout 3` with every hostile endpoint as a vendor, next to exiftool."""
    certs, port = server
    tmp = tmp_path_factory.mktemp("hostile-run")
    proc = aiii(tmp / "home", "run", "--profile", str(TESTS / "profiles" / "hostile-remote.toml"),
                "--vendor-dir", str(write_vendors(tmp / "vendors", certs / "ca.pem", port)), "--timeout", "3",
                "--out", str(tmp / "out"), "--store", str(tmp / "s.sqlite"), "-q", timeout=RUN_LIMIT_S)
    assert proc.returncode == 0, proc.stderr
    return tmp, {(c["producer"], c["consumer"]): c for c in cells(tmp / "s.sqlite").values()}


@pytest.mark.slow  # the hostile run
@pytest.mark.parametrize("vendor", ["trickle-head", "trickle-body"])
def test_a_trickling_endpoint_errors_its_cells_at_the_deadline(hostile_run: tuple[Path, dict[str, Any]], vendor: str) -> None:
    _, got = hostile_run
    cell = got[("exiftool", vendor)]
    assert cell["outcome"] == "error" and "3 s deadline" in cell["reason"], cell["reason"]


@pytest.mark.slow  # the hostile run
def test_an_endpoint_trickling_at_start_up_is_not_run(hostile_run: tuple[Path, dict[str, Any]]) -> None:
    tmp, got = hostile_run
    bundle = json.loads((tmp / "out" / "results.json").read_text())
    vendor = next(v for v in bundle["vendors"] if v["id"] == "trickle-start")
    assert not vendor["runnable"] and "deadline" in vendor["reason"] and "\n" not in vendor["reason"], vendor
    assert got[("exiftool", "trickle-start")]["outcome"] == "error"


@pytest.mark.slow  # the hostile run
def test_the_hostile_run_completes_and_writes_its_reports(hostile_run: tuple[Path, dict[str, Any]]) -> None:
    tmp, got = hostile_run
    assert "nested too deeply" in got[("exiftool", "nested-json")]["reason"]
    assert got[("exiftool", "exiftool")]["outcome"] == "pass", got[("exiftool", "exiftool")]["reason"]
    for name in ("results.json", "junit.xml", "summary.md", "site/index.html"):
        assert (tmp / "out" / name).is_file(), name


HANGS = {
    "hang-import": "importing adapter.py:Double",
    "hang-init": "the constructor of Double",
    "hang-health": "health()",
    "hang-version": "implementation_version()",
}


@pytest.mark.slow  # runs that wait out hanging adapters
def test_adapters_that_hang_at_start_up_or_close_do_not_hold_up_the_run(tmp_path: Path) -> None:
    proc = aiii(tmp_path / "home", "run", "--profile", str(TESTS / "profiles" / "hangs.toml"),
                "--vendor-dir", str(TESTS / "doubles"),
                "--out", str(tmp_path / "out"), "--store", str(tmp_path / "s.sqlite"), "-q", timeout=RUN_LIMIT_S)
    assert proc.returncode == 0, proc.stderr
    vendors = {v["id"]: v for v in json.loads((tmp_path / "out" / "results.json").read_text())["vendors"]}
    got = {(c["producer"], c["consumer"]): c for c in cells(tmp_path / "s.sqlite").values()}
    for vid, what in HANGS.items():
        reason = vendors[vid]["reason"] or ""
        assert not vendors[vid]["runnable"], vid
        assert reason.startswith(f"vendor {vid}: ") and what in reason and "3 s" in reason and "\n" not in reason, reason
        assert got[("exiftool", vid)]["outcome"] == "error", got[("exiftool", vid)]
    # close() hangs: the vendor ran as usual, and the command still ended (with a note)
    assert vendors["hang-close"]["runnable"] and got[("exiftool", "hang-close")]["outcome"] != "error"
    assert "hang-close: close() did not finish within 10 s" in proc.stderr
    assert got[("exiftool", "exiftool")]["outcome"] == "pass"
