"""The ``process`` placement: the adapter served by a local process over a unix socket.

The process runs the adapter kit's server (``python -m aiii_kit``) from the vendor's own
virtual environment, created once from the manifest's ``[process] requirements`` and the
kit's wheel (``runner/kit_wheel.py``), cached by their hash.  It holds only the kit,
never the rest of the harness, so the vendor's dependencies and ours cannot clash (a
vendor without requirements is served by the harness's own interpreter, which has the
kit installed).  A vendor's own server (``[process] command``) may be built from its
sources first (``[process] build``, :mod:`runner.builds`), or a published program
the adapter runs installed first (``build = "cargo-install"``, given to the adapter as
``{binary}`` in its config).  A crash is noticed on the next call and the process
restarted with backoff; a hang is killed at the call's deadline.
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
import time
from pathlib import Path
from typing import IO

from runner.builds import built_binary, run_step
from runner.cpu import group_cpu_s
from runner.kit_wheel import kit_hash, kit_wheel
from runner.model import VendorManifest
from runner.paths import state_dir
from runner.text import printable
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
    if _ready(home):
        return str(python)
    home.parent.mkdir(parents=True, exist_ok=True)
    with open(home.parent / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder per environment across processes
        if _ready(home):
            return str(python)
        shutil.rmtree(home, ignore_errors=True)
        started = time.monotonic()
        if progress:
            extra = f", then without dependencies {', '.join(no_deps)}" if no_deps else ""
            progress.write(printable(f"creating the environment for {', '.join(requirements)}{extra} (once, in {home})") + "\n")
            progress.flush()
        env = _build_environment()
        run_step([sys.executable, "-m", "venv", str(home)], "python -m venv", None, PIP_TIMEOUT_S, env)
        pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off"]
        if not progress:
            pip.append("--quiet")
        if requirements:
            run_step([*pip, *requirements], f"pip install {' '.join(requirements)}", progress, PIP_TIMEOUT_S, env)
        if no_deps:
            run_step([*pip, "--no-deps", *no_deps], f"pip install --no-deps {' '.join(no_deps)}", progress, PIP_TIMEOUT_S, env)
        run_step([*pip, "--no-deps", str(kit_wheel())], "pip install the adapter kit's wheel", progress, PIP_TIMEOUT_S, env)
        (home / ".ready").write_text(json.dumps({"requirements": requirements, "no_deps": no_deps or []}))
        if progress:
            progress.write(f"environment ready after {time.monotonic() - started:.0f} s\n")
            progress.flush()
    return str(python)


def _ready(home: Path) -> bool:
    """Built, and holding the kit (an environment built under an older harness whose pip saw
    the caller's ``PYTHONPATH`` could lack it: rebuilt)."""
    return (home / ".ready").exists() and any(home.glob("lib/python*/site-packages/aiii_kit/__init__.py"))


def _build_environment() -> dict[str, str]:
    """The environment pip builds a vendor's environment in: the caller's, without the
    variables that point Python at other code.  With the harness's own folders on
    ``PYTHONPATH`` (as a checkout's tests put them), pip would find the kit there, call it
    already installed and skip it, and the adapter would then fail with "No module named
    aiii_kit"."""
    drop = {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "PYTHONNOUSERSITE", "VIRTUAL_ENV"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def with_binary(config: dict[str, object], binary: str) -> dict[str, object]:
    """``[adapter.config]`` with ``{binary}`` in its string values replaced by the program
    ``[process] build`` made (``build = "cargo-install"``: a tool the adapter runs)."""
    if not binary:
        return config
    return {k: v.replace("{binary}", binary) if isinstance(v, str) else v for k, v in config.items()}


class ProcessTransport(ServedTransport):
    placement = "process"
    what = "process"

    def __init__(self, manifest: VendorManifest, log_dir: Path | None = None) -> None:
        super().__init__(manifest, log_dir)
        self._python = ""
        self._binary = ""

    def start(self) -> None:
        self._python = venv_python(list(self.manifest.process.get("requirements", [])), sys.stderr,
                                   list(self.manifest.process.get("no_deps", [])))
        if self.manifest.process.get("build"):  # a server built from the vendor's sources
            self._binary = str(built_binary(self.manifest, sys.stderr))
        with self._lock:
            self._spawn()

    def _startup_timeout(self) -> float:
        return float(self.manifest.process.get("startup_timeout_s", 60))

    def _command(self, socket_path: str) -> list[str]:
        custom = self.manifest.process.get("command")
        if custom:  # the vendor's own server, in any language
            values = {"socket": socket_path, "python": self._python, "vendor_dir": str(self.manifest.folder),
                      "binary": self._binary}
            return [part.format(**values) for part in custom]
        assert self.manifest.adapter_entry
        return [self._python, "-m", "aiii_kit", "--entry", self.manifest.adapter_entry, "--base",
                str(self.manifest.folder), "--vendor", self.manifest.id, "--unix", socket_path,
                "--config", json.dumps(with_binary(dict(self.manifest.config), self._binary)),
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
