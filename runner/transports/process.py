"""The ``process`` placement: the adapter served by a local process over a unix socket.

The process runs the adapter kit's server (``runner/server.py``) from the vendor's own
virtual environment, created once from the manifest's ``[process] requirements`` and
cached by their hash.  It sees only the kit (``runner/adapter.py`` and
``runner/server.py``), never the rest of the harness, so the vendor's dependencies and
ours cannot clash.  A crash is noticed on the next call and the process restarted
with backoff; a hang is killed at the call's deadline.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

from runner.adapter import Asset
from runner.model import VendorManifest
from runner.paths import ROOT, state_dir
from runner.transports import Transport, TransportError
from runner.transports.client import Endpoint, ProtocolClient

KIT_FILES = ("__init__.py", "adapter.py", "server.py")
PIP_TIMEOUT_S = 1200
MAX_RESTARTS = 5


def kit_dir() -> Path:
    """A folder holding only the adapter kit, as an importable ``runner`` package."""
    digest = hashlib.sha256()
    for name in KIT_FILES:
        digest.update((ROOT / "runner" / name).read_bytes())
    target = state_dir() / "kit" / digest.hexdigest()[:16]
    if not (target / "runner" / "server.py").exists():
        tmp = Path(tempfile.mkdtemp(dir=state_dir(), prefix=".kit-"))
        (tmp / "runner").mkdir()
        for name in KIT_FILES:
            shutil.copyfile(ROOT / "runner" / name, tmp / "runner" / name)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(tmp, target)
        except OSError:  # another process made it first
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def venv_python(requirements: list[str], progress: IO[str] | None = None) -> str:
    """The interpreter of a cached virtual environment holding ``requirements``."""
    if not requirements:
        return sys.executable
    key = hashlib.sha256(json.dumps([sys.version_info[:2], sorted(requirements)]).encode()).hexdigest()[:16]
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
        if progress:
            progress.write(f"creating the environment for {', '.join(requirements)} (once)\n")
        _run([sys.executable, "-m", "venv", str(home)], "python -m venv")
        _run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *requirements],
             f"pip install {' '.join(requirements)}")
        (home / ".ready").write_text(json.dumps(requirements))
    return str(python)


def _run(cmd: list[str], what: str) -> None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise TransportError(f"{what} did not finish within {PIP_TIMEOUT_S} s") from None
    if proc.returncode != 0:
        tail = " ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
        raise TransportError(f"{what} failed: {tail}")


def log_tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    text = [line for line in text if not line.startswith("--- start")]
    tail = " | ".join(line.strip() for line in text[-lines:])[-600:]
    return f"{tail} (log: {path.name})" if tail else f"(log: {path.name}, empty)"


class ProcessTransport(Transport):
    placement = "process"

    def __init__(self, manifest: VendorManifest, log_dir: Path | None = None) -> None:
        super().__init__(manifest)
        self.log_dir = log_dir or state_dir() / "logs"
        self.log_path = self.log_dir / f"{manifest.id}.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._sock_dir: str | None = None
        self._client: ProtocolClient | None = None
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(manifest.max_concurrency)
        self._restarts = 0
        self._killed: set[int] = set()  # pids killed for hanging
        self._version: str | None = None
        self._python = ""

    # -- life cycle --------------------------------------------------------------------

    def start(self) -> None:
        self._python = venv_python(list(self.manifest.process.get("requirements", [])), sys.stderr)
        with self._lock:
            self._spawn()

    def _command(self, socket_path: str) -> list[str]:
        custom = self.manifest.process.get("command")
        if custom:  # the vendor's own server, in any language
            values = {"socket": socket_path, "python": self._python, "vendor_dir": str(self.manifest.folder)}
            return [part.format(**values) for part in custom]
        assert self.manifest.adapter_entry
        cmd = [self._python, "-m", "runner.server", "--entry", self.manifest.adapter_entry, "--base",
               str(self.manifest.folder), "--vendor", self.manifest.id, "--unix", socket_path,
               "--config", json.dumps(dict(self.manifest.config)),
               "--version-rule", json.dumps(dict(self.manifest.version_rule))]
        return cmd

    def _environment(self) -> dict[str, str]:
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")
        env = {k: v for k, v in os.environ.items() if k in keep}
        env["PYTHONPATH"] = str(kit_dir())
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        return env

    def _spawn(self) -> None:
        self._sock_dir = tempfile.mkdtemp(prefix="aiii-")  # short: unix socket paths are limited
        socket_path = os.path.join(self._sock_dir, "adapter.sock")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(f"--- start {time.strftime('%H:%M:%S')} ---\n".encode())
            self._proc = subprocess.Popen(self._command(socket_path), stdin=subprocess.DEVNULL, stdout=log,
                                          stderr=log, cwd=self.manifest.folder, env=self._environment(),
                                          start_new_session=True)
        self._client = ProtocolClient(self.manifest.id, Endpoint(unix_socket=socket_path))
        deadline = time.monotonic() + float(self.manifest.process.get("startup_timeout_s", 60))
        while True:
            if self._proc.poll() is not None:
                raise TransportError(f"vendor {self.manifest.id}: adapter process exited with code {self._proc.returncode}"
                                     f" at start-up: {log_tail(self.log_path)}")
            if os.path.exists(socket_path):
                try:
                    self._client.health(timeout=10)
                    self._version = self._client.describe(timeout=10)["implementation_version"]
                    return
                except TransportError as exc:
                    if time.monotonic() > deadline:
                        raise TransportError(f"vendor {self.manifest.id}: not healthy at start-up: {exc}") from None
            if time.monotonic() > deadline:
                self._kill()
                raise TransportError(f"vendor {self.manifest.id}: adapter process did not listen within the start-up deadline")
            time.sleep(0.05)

    def _kill(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
        if self._sock_dir:
            shutil.rmtree(self._sock_dir, ignore_errors=True)
            self._sock_dir = None

    def _ensure_running(self) -> ProtocolClient:
        with self._lock:
            if self._proc is not None and self._proc.poll() is None and self._client is not None:
                return self._client
            if self._restarts >= MAX_RESTARTS:
                raise TransportError(f"vendor {self.manifest.id}: gave up after {MAX_RESTARTS} restarts: {log_tail(self.log_path)}")
            time.sleep(min(8.0, 0.25 * 2 ** self._restarts))  # backoff
            self._restarts += 1
            self._kill()
            self._spawn()
            assert self._client is not None
            return self._client

    def implementation_version(self) -> str | None:
        return self._version

    @property
    def endpoint(self) -> Endpoint | None:
        """Where the running adapter listens (for `aiii adapter check`)."""
        return self._client.endpoint if self._client else None

    def call(self, operation: str, asset: Asset, params: dict[str, Any], timeout_s: float) -> Asset | dict[str, Any]:
        if not self._slots.acquire(timeout=timeout_s):
            raise TransportError(f"vendor {self.manifest.id}: no free slot within {timeout_s:.0f} s")
        try:
            client = self._ensure_running()
            try:
                return client.call(operation, asset, params, timeout_s)
            except TransportError as exc:
                timed_out = "no answer within" in str(exc) or "at the deadline" in str(exc)
                proc = self._proc
                if proc is not None and not timed_out:
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        proc.wait(timeout=1.0)  # a dropped connection: did the process die?
                if proc is not None and proc.poll() is not None:
                    if proc.pid in self._killed:
                        raise TransportError(f"vendor {self.manifest.id}: {operation} cut short: the adapter process was"
                                             " killed because another call to it hung") from None
                    raise TransportError(f"vendor {self.manifest.id}: adapter process died during {operation} "
                                         f"(exit code {proc.returncode}): {log_tail(self.log_path)}") from None
                if timed_out:
                    with self._lock:
                        if self._proc is not None:
                            self._killed.add(self._proc.pid)
                        self._kill()  # hung: the next call starts a fresh process
                    raise TransportError(f"vendor {self.manifest.id}: {operation} timed out after {timeout_s:.0f} s;"
                                         " the adapter process was killed") from None
                raise
        finally:
            self._slots.release()

    def close(self) -> None:
        with self._lock:
            proc = self._proc
            if proc is not None and proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=5)
            self._kill()
