"""The ``process`` placement: the adapter served by a local process over a unix socket.

The process runs the adapter kit's server (``python -m aiii_kit``) from the vendor's own
virtual environment, created once from the manifest's ``[process] requirements`` and the
kit's wheel (``runner/kit_wheel.py``), cached by their hash.  It holds only the kit,
never the rest of the harness, so the vendor's dependencies and ours cannot clash (a
vendor without requirements is served by the harness's own interpreter, which has the
kit installed).  A crash is noticed on the next call and the process restarted
with backoff; a hang is killed at the call's deadline.
"""

from __future__ import annotations

import collections
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

from runner.cpu import group_cpu_s
from runner.kit_wheel import kit_hash, kit_wheel
from runner.model import VendorManifest
from runner.paths import state_dir
from runner.text import printable
from runner.transports import TransportError
from runner.transports.served import ServedTransport

PIP_TIMEOUT_S = 1200


def venv_python(requirements: list[str], progress: IO[str] | None = None, no_deps: list[str] | None = None) -> str:
    """The interpreter of a cached virtual environment holding ``requirements``.

    ``no_deps``: distributions installed afterwards with ``pip install --no-deps`` (for
    packages whose declared pins conflict with the rest); they are part of the cache key.
    The adapter kit's wheel is installed last (without dependencies); its hash is part of
    the key too, so a change of the kit makes a new environment.
    With ``progress``, pip's own output of the (possibly long) first build goes there.
    """
    if not requirements and not no_deps:
        return sys.executable
    keyed: list[object] = [sys.version_info[:2], sorted(requirements)]
    if no_deps:
        keyed.append(sorted(no_deps))
    keyed.append({"kit": kit_hash()})
    key = hashlib.sha256(json.dumps(keyed).encode()).hexdigest()[:16]
    home = state_dir() / "venvs" / key
    python = home / "bin" / "python"
    if (home / ".ready").exists():
        return str(python)
    home.parent.mkdir(parents=True, exist_ok=True)
    with open(home.parent / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder per environment across processes
        if (home / ".ready").exists():
            return str(python)
        shutil.rmtree(home, ignore_errors=True)
        started = time.monotonic()
        if progress:
            extra = f", then without dependencies {', '.join(no_deps)}" if no_deps else ""
            progress.write(printable(f"creating the environment for {', '.join(requirements)}{extra} (once, in {home})") + "\n")
            progress.flush()
        _run([sys.executable, "-m", "venv", str(home)], "python -m venv")
        pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off"]
        if not progress:
            pip.append("--quiet")
        if requirements:
            _run([*pip, *requirements], f"pip install {' '.join(requirements)}", progress)
        if no_deps:
            _run([*pip, "--no-deps", *no_deps], f"pip install --no-deps {' '.join(no_deps)}", progress)
        _run([*pip, "--no-deps", str(kit_wheel())], "pip install the adapter kit's wheel", progress)
        (home / ".ready").write_text(json.dumps({"requirements": requirements, "no_deps": no_deps or []}))
        if progress:
            progress.write(f"environment ready after {time.monotonic() - started:.0f} s\n")
            progress.flush()
    return str(python)


def _run(cmd: list[str], what: str, progress: IO[str] | None = None) -> None:
    """Run a build step with a deadline; with ``progress``, its output is passed on line by line."""
    deadline = time.monotonic() + PIP_TIMEOUT_S
    last: collections.deque[str] = collections.deque(maxlen=3)
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                          text=True, errors="replace") as child:
        timer = threading.Timer(PIP_TIMEOUT_S, child.kill)  # a silent hang must not outlive the deadline
        timer.start()
        try:
            assert child.stdout is not None
            for line in child.stdout:
                if progress:  # pip's output names the vendor's packages: shown, never obeyed
                    progress.write(f"  | {printable(line.rstrip())}\n")
                    progress.flush()
                if line.strip():
                    last.append(line.strip())
            code = child.wait()
        finally:
            timer.cancel()
    if code != 0 and time.monotonic() >= deadline:
        raise TransportError(f"{what} did not finish within {PIP_TIMEOUT_S} s")
    if code != 0:
        raise TransportError(f"{what} failed: {' '.join(last)}")


class ProcessTransport(ServedTransport):
    placement = "process"
    what = "process"

    def __init__(self, manifest: VendorManifest, log_dir: Path | None = None) -> None:
        super().__init__(manifest, log_dir)
        self._python = ""

    def start(self) -> None:
        self._python = venv_python(list(self.manifest.process.get("requirements", [])), sys.stderr,
                                   list(self.manifest.process.get("no_deps", [])))
        with self._lock:
            self._spawn()

    def _startup_timeout(self) -> float:
        return float(self.manifest.process.get("startup_timeout_s", 60))

    def _command(self, socket_path: str) -> list[str]:
        custom = self.manifest.process.get("command")
        if custom:  # the vendor's own server, in any language
            values = {"socket": socket_path, "python": self._python, "vendor_dir": str(self.manifest.folder)}
            return [part.format(**values) for part in custom]
        assert self.manifest.adapter_entry
        return [self._python, "-m", "aiii_kit", "--entry", self.manifest.adapter_entry, "--base",
                str(self.manifest.folder), "--vendor", self.manifest.id, "--unix", socket_path,
                "--config", json.dumps(dict(self.manifest.config)),
                "--version-rule", json.dumps(dict(self.manifest.version_rule)), "--parent-pid", str(os.getpid())]

    def _environment(self) -> dict[str, str]:
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")
        env = {k: v for k, v in os.environ.items() if k in keep}
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        return env

    def _launch(self, socket_path: str) -> subprocess.Popen[bytes]:
        with open(self.log_path, "ab") as log:
            log.write(f"--- start {time.strftime('%H:%M:%S')} ---\n".encode())
            return subprocess.Popen(self._command(socket_path), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                    cwd=self.manifest.folder, env=self._environment(), start_new_session=True)

    def _instance_cpu_s(self, instance: subprocess.Popen[bytes]) -> float | None:
        return group_cpu_s(instance.pid)  # the server leads its own group: its helpers are counted too

    def process_groups(self) -> list[int]:
        instance = self._instance
        return [instance.pid] if instance is not None else []

    def _exit_status(self, instance: subprocess.Popen[bytes], wait_s: float = 0.0) -> tuple[bool, str]:
        if wait_s:
            with contextlib.suppress(subprocess.TimeoutExpired):
                instance.wait(timeout=wait_s)
        code = instance.poll()
        return code is None, f"code {code}"

    def _discard(self, instance: subprocess.Popen[bytes], gently: bool) -> None:
        # The whole process group, even when its leader (the server) already died: the
        # helpers the adapter started are still in it, and would outlive the run.  Its
        # id is not reused while any member lives, so a group gone empty is just ESRCH.
        if gently and instance.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(instance.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                instance.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(instance.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            instance.wait(timeout=10)
