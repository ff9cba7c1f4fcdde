"""Placements: the same adapters in their own processes, misbehaving servers, adapter check."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from helpers import ROOT, TESTS, aiii, cells, placement_differences


@pytest.mark.slow  # a run through every misbehaving process double
def test_misbehaving_adapter_processes_become_errors(home: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    proc = aiii(home, "run", "--profile", str(TESTS / "profiles" / "process-doubles.toml"),
                "--vendor-dir", str(TESTS / "doubles_process"), "--timeout", "5",
                "--out", str(tmp_path / "out"), "--store", str(tmp_path / "s.sqlite"), "-q")
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    got = {(c["producer"], c["consumer"]): c for c in cells(tmp_path / "s.sqlite").values()}
    expect = {
        "p-crash": "adapter process died during metadata.read (exit code 139)",
        "p-hang": "timed out after 5 s; the adapter process was killed",
        "p-liar": "violates the protocol schema",
        "p-endless": "exceeds the 16777216-byte limit",
        "p-bomb": "compression bomb",
    }
    for consumer, text in expect.items():
        cell = got[("exiftool", consumer)]
        assert cell["outcome"] == "error" and text in cell["reason"], (consumer, cell["reason"])
    # every honest pairing kept its result
    for pair in [("exiftool", "exiv2"), ("exiv2", "xmp-reference"), ("exiftool", "exiftool")]:
        assert got[pair]["outcome"] == "pass", got[pair]["reason"]
    # an XML entity bomb written into an asset: readers answer or refuse, none hangs or crashes
    bombed = [got[("p-xmlbomb", r)] for r in ("exiftool", "exiv2", "xmp-reference")]
    assert all(c["outcome"] in ("fail", "error") and "timed out" not in c["reason"] for c in bombed)
    assert "amplification" in got[("p-xmlbomb", "xmp-reference")]["reason"]
    # a crashed adapter is restarted for later calls, a hung one is killed: bounded time
    assert elapsed < 180
    logs = list((home / "logs").rglob("p-crash.log"))
    assert logs, "the crashed adapter's log is kept per run"


@pytest.mark.slow
@pytest.mark.timeout(3600)  # builds each vendor's environment, then runs the default profile twice
def test_process_placement_gives_the_same_outcomes_as_in_process(default_inproc: dict[str, dict], tmp_path: Path) -> None:
    """The default profile itself, every in-process vendor moved to its own process: not one
    cell's outcome may differ."""
    # a home of its own: no answer cached by the in-process run may stand in for a process call
    process = aiii(tmp_path / "process-home", "run", "--placement", "process", "--out", str(tmp_path / "b"),
                   "--store", str(tmp_path / "b.sqlite"), "--fail-on", "never", "-q", timeout=2400)
    assert process.returncode == 0, process.stderr[-3000:]
    assert placement_differences(default_inproc, cells(tmp_path / "b.sqlite")) == {}
    bundle = json.loads((tmp_path / "b" / "results.json").read_text())
    assert {v["transport"] for v in bundle["vendors"]} == {"process"}
    assert all(v["runnable"] for v in bundle["vendors"]), [v["reason"] for v in bundle["vendors"]]


def test_adapter_check_passes_an_honest_adapter(home: Path) -> None:
    proc = aiii(home, "adapter", "check", "exiftool")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "FAIL" not in proc.stdout and "a body over the size limit gives 413" in proc.stdout


@pytest.mark.parametrize(("vendor", "complaint"), [
    ("p-liar", "answer violates the schema at"),
    ("p-endless", "unknown operation gives 404: status 200"),
])
def test_adapter_check_names_what_breaks_the_protocol(home: Path, vendor: str, complaint: str) -> None:
    proc = aiii(home, "adapter", "check", vendor, "--vendor-dir", str(TESTS / "doubles_process"), "--timeout", "10")
    assert proc.returncode == 1
    assert complaint in proc.stdout, proc.stdout


def test_a_served_adapter_ends_when_the_harness_is_killed(home: Path, tmp_path: Path) -> None:
    """A harness killed mid-run (SIGKILL: no cleanup at all) leaves no adapter process
    behind computing: the server watches its parent and exits."""
    import os
    import signal
    import subprocess
    import sys

    root = ROOT
    script = tmp_path / "harness.py"
    script.write_text(
        "import sys, time\n"
        f"sys.path.insert(0, {str(root)!r})\n"
        "from pathlib import Path\n"
        "from runner.transports import make_transport\n"
        "from runner.vendors import load_manifest\n"
        f"m = load_manifest(Path({str(root / 'tests' / 'doubles_process' / 'p-liar' / 'vendor.toml')!r}))\n"
        f"t = make_transport(m, 'process', Path({str(tmp_path)!r}))\n"
        "t.start()\n"
        "print(t._instance.pid, flush=True)\n"
        "time.sleep(600)\n")
    harness = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "AIII_HOME": str(home)})
    assert harness.stdout is not None
    server = int(harness.stdout.readline())
    os.kill(server, 0)  # alive while the harness is
    harness.send_signal(signal.SIGKILL)
    harness.wait(10)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.kill(server, 0)
        except ProcessLookupError:
            return
        with open(f"/proc/{server}/stat") as stat:  # a zombie waiting for init counts as gone
            if stat.read().split(")")[-1].split()[0] == "Z":
                return
        time.sleep(0.2)
    os.kill(server, signal.SIGKILL)
    pytest.fail("the adapter server outlived the harness by 20 s")


def test_a_placement_is_one_entry_of_the_registry(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A class named in ``PLACEMENTS`` is a placement: the CLI offers it, manifests may
    name it, and make_transport builds it; nothing else lists placements."""
    from runner import schema, transports
    from runner.cli import build_parser
    from runner.transports.inproc import InprocTransport
    from runner.vendors import load_manifest

    class Carrier(InprocTransport):
        placement = "carrier"

    monkeypatch.setitem(transports.PLACEMENTS, "carrier", Carrier)
    monkeypatch.setattr(schema, "_registry", schema._registry.__wrapped__)  # not the cached, registry-less schemas
    monkeypatch.setattr(schema, "validator", schema.validator.__wrapped__)
    assert build_parser().parse_args(["run", "--placement", "carrier"]).placement == "carrier"
    assert "carrier" not in transports.served_placements()  # a Python call: nothing for adapter check to probe
    folder = tmp_path / "registry-reference"
    folder.mkdir()
    text = (ROOT / "vendors" / "registry-reference" / "vendor.toml").read_text()
    (folder / "vendor.toml").write_text(text.replace('placement = "inproc"', 'placement = "carrier"'))
    manifest = load_manifest(folder / "vendor.toml")
    assert manifest.placement == "carrier" and isinstance(transports.make_transport(manifest), Carrier)
