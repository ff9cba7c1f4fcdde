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
import time
from pathlib import Path
from typing import IO

from runner.model import VendorManifest
from runner.paths import ROOT, state_dir
from runner.transports import TransportError
from runner.transports.served import ServedTransport

KIT_FILES = ("__init__.py", "adapter.py", "server.py")
PIP_TIMEOUT_S = 1200


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


class ProcessTransport(ServedTransport):
    placement = "process"
    what = "process"

    def __init__(self, manifest: VendorManifest, log_dir: Path | None = None) -> None:
        super().__init__(manifest, log_dir)
        self._python = ""

    def start(self) -> None:
        self._python = venv_python(list(self.manifest.process.get("requirements", [])), sys.stderr)
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
        return [self._python, "-m", "runner.server", "--entry", self.manifest.adapter_entry, "--base",
                str(self.manifest.folder), "--vendor", self.manifest.id, "--unix", socket_path,
                "--config", json.dumps(dict(self.manifest.config)),
                "--version-rule", json.dumps(dict(self.manifest.version_rule))]

    def _environment(self) -> dict[str, str]:
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")
        env = {k: v for k, v in os.environ.items() if k in keep}
        env["PYTHONPATH"] = str(kit_dir())
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        return env

    def _launch(self, socket_path: str) -> subprocess.Popen[bytes]:
        with open(self.log_path, "ab") as log:
            log.write(f"--- start {time.strftime('%H:%M:%S')} ---\n".encode())
            return subprocess.Popen(self._command(socket_path), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                    cwd=self.manifest.folder, env=self._environment(), start_new_session=True)

    def _exit_status(self, instance: subprocess.Popen[bytes], wait_s: float = 0.0) -> tuple[bool, str]:
        if wait_s:
            with contextlib.suppress(subprocess.TimeoutExpired):
                instance.wait(timeout=wait_s)
        code = instance.poll()
        return code is None, f"code {code}"

    def _discard(self, instance: subprocess.Popen[bytes], gently: bool) -> None:
        if instance.poll() is None:
            if gently:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(instance.pid, signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    instance.wait(timeout=5)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(instance.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                instance.wait(timeout=10)
