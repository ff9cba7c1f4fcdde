"""No process outlives the run: adapters' helpers, crashed servers' children, ExifTool.

Real runs of the CLI with doubles that start ``sleep 1000`` helpers and never stop them;
real signals (SIGKILL, SIGTERM, SIGINT) sent to the harness; processes found in ``/proc``.
A zombie waiting to be reaped counts as gone: it runs nothing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import ROOT, TESTS, aiii, cells

LIMIT_S = 20.0  # generous: each wait below ends as soon as its condition holds


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None


def running(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def processes() -> Iterator[tuple[int, list[str], list[str]]]:
    """(pid, command line, stat fields after the name) of every live process."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        fields = _stat(int(entry.name))
        if fields and fields[0] not in ("Z", "X"):
            yield int(entry.name), [a.decode(errors="replace") for a in argv if a], fields


def environ_has(pid: int, key: str, value: str) -> bool:
    try:
        return f"{key}={value}".encode() in (Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"))
    except OSError:
        return False


def wait_for(condition: Callable[[], bool], limit: float = LIMIT_S) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def helper_pids(pid_file: Path) -> list[int]:
    return [int(line) for line in pid_file.read_text().split()] if pid_file.exists() else []


@contextlib.contextmanager
def killed_afterwards(pid_file: Path) -> Iterator[None]:
    """A failing test must not leave its helpers running."""
    try:
        yield
    finally:
        for pid in helper_pids(pid_file):
            with contextlib.suppress(OSError):
                if "sleep" in Path(f"/proc/{pid}/cmdline").read_text():
                    os.kill(pid, signal.SIGKILL)


def vendor_copy(tmp_path: Path, source: Path, pid_file: Path, **config: object) -> Path:
    """The double in a vendor folder of its own, writing its helpers' pids to ``pid_file``."""
    folder = tmp_path / "vendors"
    target = folder / source.name
    shutil.copytree(source, target)
    lines = [f"pid_file = {str(pid_file)!r}", *(f"{k} = {v!r}" for k, v in config.items())]
    with (target / "vendor.toml").open("a") as fh:
        fh.write("\n[adapter.config]\n" + "\n".join(lines) + "\n")
    return folder


def profile(tmp_path: Path, reader: str, vectors: list[str], value_sets: list[str]) -> Path:
    path = tmp_path / "profile.toml"
    path.write_text(
        f'name = "processes"\ndescription = "ExifTool writes, {reader} reads."\nvendors = ["exiftool", "{reader}"]\n'
        'fail_on = "never"\n\n[[checks]]\nid = "metadata.roundtrip"\nlevel = "MUST"\n'
        f"vectors = {{ ids = {vectors!r} }}\nparams = {{ value_sets = {value_sets!r} }}\n".replace("'", '"'))
    return path


def start_run(home: Path, tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "AIII_HOME": str(home), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "runner.cli", "run", "--out", str(tmp_path / "out"),
                             "--store", str(tmp_path / "s.sqlite"), "-q", *args],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stored_cells(store: Path) -> int:
    try:
        return len(cells(store))
    except sqlite3.Error:
        return 0


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    return tmp_path / "aiii-home"


def test_a_crashed_adapter_process_takes_its_helpers_with_it(home: Path, tmp_path: Path) -> None:
    pid_file = tmp_path / "helpers.txt"
    vendors = vendor_copy(tmp_path, TESTS / "doubles_process" / "p-spawncrash", pid_file)
    with killed_afterwards(pid_file):
        proc = aiii(home, "run", "--profile", str(profile(tmp_path, "p-spawncrash", ["kodim01-jpg"], ["ascii"])),
                    "--vendor-dir", str(vendors), "--out", str(tmp_path / "out"), "--store", str(tmp_path / "s.sqlite"), "-q")
        assert proc.returncode == 0, proc.stderr
        crashed = [c for c in cells(tmp_path / "s.sqlite").values() if c["consumer"] == "p-spawncrash"]
        assert crashed and all("died during metadata.read" in c["reason"] for c in crashed)
        helpers = helper_pids(pid_file)
        assert helpers, "the double started its helper before crashing"
        assert wait_for(lambda: not any(running(p) for p in helpers)), "a crashed server's helper outlived it"


def test_sigkill_of_the_harness_ends_a_served_adapter_and_its_helpers(home: Path, tmp_path: Path) -> None:
    pid_file = tmp_path / "helpers.txt"
    vendors = vendor_copy(tmp_path, TESTS / "doubles_process" / "p-spawner", pid_file, delay_s=1.0)
    with killed_afterwards(pid_file):
        harness = start_run(home, tmp_path, "--profile", str(profile(tmp_path, "p-spawner", ["kodim01-jpg"], ["ascii"])),
                            "--vendor-dir", str(vendors), "--jobs", "1")
        assert wait_for(lambda: bool(helper_pids(pid_file)), 120), harness.communicate()
        servers = [pid for pid, argv, _ in processes() if "aiii_kit" in argv and str(harness.pid) in argv]
        assert servers
        harness.send_signal(signal.SIGKILL)
        harness.wait(30)
        left = [*servers, *helper_pids(pid_file)]
        assert wait_for(lambda: not any(running(p) for p in left)), "an adapter process or its helper outlived the harness"


def test_sigterm_stops_the_run_its_adapters_and_their_helpers_and_keeps_it(home: Path, tmp_path: Path) -> None:
    pid_file = tmp_path / "helpers.txt"
    store = tmp_path / "s.sqlite"
    vendors = vendor_copy(tmp_path, TESTS / "doubles_process" / "p-spawner", pid_file, delay_s=1.0)
    with killed_afterwards(pid_file):
        harness = start_run(home, tmp_path, "--profile", str(profile(tmp_path, "p-spawner", ["kodim01-jpg"], ["ascii", "unicode"])),
                            "--vendor-dir", str(vendors), "--jobs", "1")
        assert wait_for(lambda: stored_cells(store) >= 2, 180), harness.communicate()
        servers = [pid for pid, argv, _ in processes() if "aiii_kit" in argv and str(harness.pid) in argv]
        assert servers
        before = cells(store)
        harness.send_signal(signal.SIGTERM)
        _, err = harness.communicate(timeout=120)
        assert harness.returncode == 128 + signal.SIGTERM, err
        assert len(err.strip().splitlines()) == 1 and "SIGTERM" in err and "--resume" in err, err
        left = [*servers, *helper_pids(pid_file)]
        assert not any(running(p) for p in left), "an adapter process or its helper outlived the run"
        after = cells(store)
        assert all(after[cid] == rec for cid, rec in before.items()), "every finished cell is kept"
        with sqlite3.connect(store) as db:
            (run_id, status), = db.execute("SELECT id, status FROM runs").fetchall()
        assert status == "interrupted"
    # resumable: the rest of the run finishes, nothing finished before is redone
    with killed_afterwards(pid_file):
        proc = aiii(home, "run", "--resume", run_id, "--store", str(store), "-q")
        assert proc.returncode == 0, proc.stderr
    resumed = cells(store)
    assert len(resumed) > len(after) and all(resumed[cid] == rec for cid, rec in after.items())


@pytest.mark.parametrize("ending", ["normal", "SIGINT", "SIGTERM"])
def test_an_in_process_adapters_helper_ends_with_the_run(home: Path, tmp_path: Path, ending: str) -> None:
    pid_file = tmp_path / "helpers.txt"
    store = tmp_path / "s.sqlite"
    delay = 0.0 if ending == "normal" else 1.0
    vendors = vendor_copy(tmp_path, TESTS / "doubles" / "spawner", pid_file, delay_s=delay)
    with killed_afterwards(pid_file):
        harness = start_run(home, tmp_path, "--profile", str(profile(tmp_path, "spawner", ["kodim01-jpg"], ["ascii", "unicode"])),
                            "--vendor-dir", str(vendors), "--jobs", "1")
        if ending != "normal":
            assert wait_for(lambda: stored_cells(store) >= 2, 180), harness.communicate()
            harness.send_signal(getattr(signal, ending))
        _, err = harness.communicate(timeout=300)
        assert harness.returncode == (0 if ending == "normal" else 128 + getattr(signal, ending)), err
        helpers = helper_pids(pid_file)
        assert helpers
        assert wait_for(lambda: not any(running(p) for p in helpers)), "an in-process adapter's helper outlived the run"


def test_exiftool_ends_when_the_harness_is_killed(home: Path, tmp_path: Path) -> None:
    """ExifTool's -stay_open process ignores the end of its input: it must still go when
    the harness is killed without any chance to stop it."""
    store = tmp_path / "s.sqlite"
    harness = start_run(home, tmp_path, "--profile", str(TESTS / "profiles" / "resume.toml"),
                        "--vendor-dir", str(TESTS / "doubles"), "--jobs", "1")

    def exiftools() -> list[int]:
        return [pid for pid, argv, _ in processes()
                if "-stay_open" in argv and any(a.endswith("exiftool") for a in argv) and environ_has(pid, "AIII_HOME", str(home))]

    try:
        assert wait_for(lambda: bool(exiftools()) and stored_cells(store) >= 1, 180), harness.communicate()
        found = exiftools()
        harness.send_signal(signal.SIGKILL)
        harness.wait(30)
        assert wait_for(lambda: not any(running(p) for p in found)), "ExifTool outlived the killed harness"
    finally:
        for pid in exiftools():
            os.kill(pid, signal.SIGKILL)
