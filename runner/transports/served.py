"""What the process and docker placements share: an adapter server the harness starts.

The server (the kit's, or a vendor's own) listens on a unix socket in a fresh folder.
The harness waits until it is healthy, talks the protocol to it, notices a crash on the
call it happens in and restarts the server with backoff for the next call, and kills a
server whose call ran past its deadline.  Subclasses say how to launch, inspect and
discard one server instance (a local process or a container).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import time
from abc import abstractmethod
from pathlib import Path
from typing import Any

from aiii_kit import Asset

from runner.model import VendorManifest
from runner.paths import state_dir
from runner.transports import Transport, TransportError
from runner.transports.client import DeadlineError, Endpoint, ProtocolClient

MAX_RESTARTS = 5
#: How long closing may take before the harness stops waiting (the instance is left to
#: the operating system, or to the next run's reaping of orphaned containers).
CLOSE_TIMEOUT_S = 30.0


def log_tail(path: Path, lines: int = 3) -> str:
    """The last lines of an adapter's log, for error reasons, naming the log."""
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    text = [line for line in text if not line.startswith("--- start")]
    tail = " | ".join(line.strip() for line in text[-lines:])[-600:]
    return f"{tail} (log: {path.name})" if tail else f"(log: {path.name}, empty)"


class ServedTransport(Transport):
    #: what one server instance is called in messages ("process", "container")
    what = "server"

    def __init__(self, manifest: VendorManifest, log_dir: Path | None = None) -> None:
        super().__init__(manifest, log_dir)
        self.log_dir = log_dir or state_dir() / "logs"
        self.log_path = self.log_dir / f"{manifest.id}.log"
        self._client: ProtocolClient | None = None
        self._sock_dir: str | None = None
        self._instance: Any = None  # the running process or container
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(manifest.max_concurrency)
        self._restarts = 0
        self._killed: list[Any] = []  # instances killed for hanging
        self._version: str | None = None
        self._cpu_mark: float | None = None  # the instance's CPU when it became healthy

    # -- what a placement provides -----------------------------------------------------

    @abstractmethod
    def _launch(self, socket_path: str) -> Any:
        """Start one server instance listening on ``socket_path``; return its handle."""

    @abstractmethod
    def _exit_status(self, instance: Any, wait_s: float = 0.0) -> tuple[bool, str]:
        """(still running, "code N ..." when not), waiting up to ``wait_s`` for an exit."""

    @abstractmethod
    def _discard(self, instance: Any, gently: bool) -> None:
        """Stop (gently) or kill the instance and keep its log."""

    def _startup_timeout(self) -> float:
        return 60.0

    def _instance_cpu_s(self, instance: Any) -> float | None:
        """CPU seconds the instance has used so far (None when unknown)."""
        return None

    def _looks_alive(self, instance: Any) -> bool:
        """A cheap check before each call; a death it misses shows on the call itself."""
        return self._exit_status(instance)[0]

    def _socket_folder(self) -> str:
        return tempfile.mkdtemp(prefix="aiii-")  # short: unix socket paths are limited

    # -- life cycle --------------------------------------------------------------------

    def _spawn(self) -> None:
        self._sock_dir = self._socket_folder()
        socket_path = os.path.join(self._sock_dir, "adapter.sock")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._instance = self._launch(socket_path)
        except TransportError:
            self._drop()
            raise
        self._client = ProtocolClient(self.manifest.id, Endpoint(unix_socket=socket_path))
        deadline = time.monotonic() + self._startup_timeout()
        last = ""
        while True:
            if os.path.exists(socket_path):
                try:  # each probe within what is left of the start-up time
                    self._client.health(timeout=min(10.0, max(0.05, deadline - time.monotonic())))
                    left = min(10.0, max(0.05, deadline - time.monotonic()))
                    self._version = self._client.describe(timeout=left)["implementation_version"]
                    self._cpu_mark = self._instance_cpu_s(self._instance)
                    return
                except TransportError as exc:
                    last = f"; last answer: {exc}"
            running, status = self._exit_status(self._instance)
            if not running:
                self._drop()
                raise TransportError(f"vendor {self.manifest.id}: adapter {self.what} exited with {status}"
                                     f" at start-up: {log_tail(self.log_path)}")
            if time.monotonic() > deadline:
                self._drop()
                raise TransportError(f"vendor {self.manifest.id}: adapter {self.what} not healthy within "
                                     f"{self._startup_timeout():.0f} s{last}: {log_tail(self.log_path)}")
            time.sleep(0.05)

    def _drop(self, gently: bool = False) -> None:
        """Discard the current instance (if any) and its socket folder."""
        instance, self._instance = self._instance, None
        if instance is not None:
            self._count_cpu(instance)
            self._discard(instance, gently)
        if self._sock_dir:
            shutil.rmtree(self._sock_dir, ignore_errors=True)
            self._sock_dir = None

    def _ensure_running(self) -> tuple[ProtocolClient, Any]:
        with self._lock:
            if self._instance is not None and self._client is not None and self._looks_alive(self._instance):
                return self._client, self._instance
            if self._restarts >= MAX_RESTARTS:
                raise TransportError(f"vendor {self.manifest.id}: gave up after {MAX_RESTARTS} restarts: {log_tail(self.log_path)}")
            time.sleep(min(8.0, 0.25 * 2 ** self._restarts))  # backoff
            self._restarts += 1
            self._drop()
            self._spawn()
            assert self._client is not None
            return self._client, self._instance

    def implementation_version(self) -> str | None:
        return self._version

    def _count_cpu(self, instance: Any) -> None:
        """Add what the instance spent since it became healthy, before it is stopped."""
        mark, self._cpu_mark = self._cpu_mark, None
        now = self._instance_cpu_s(instance) if mark is not None else None
        if now is not None and mark is not None:
            self.account.add(cpu_s=max(0.0, now - mark))

    def adapter_cpu_s(self) -> float | None:
        """The stopped instances' CPU since they became healthy, and the running one's so far."""
        instance, mark = self._instance, self._cpu_mark
        now = self._instance_cpu_s(instance) if instance is not None and mark is not None else None
        return self.account.cpu_s + (max(0.0, now - mark) if now is not None and mark is not None else 0.0)

    @property
    def endpoint(self) -> Endpoint | None:
        """Where the running adapter listens (for `aiii adapter check`)."""
        return self._client.endpoint if self._client else None

    def call(self, operation: str, asset: Asset, params: dict[str, Any], timeout_s: float) -> Asset | dict[str, Any]:
        if not self.account.acquire(self._slots, timeout_s):
            raise TransportError(f"vendor {self.manifest.id}: no free slot within {timeout_s:.0f} s")
        try:
            client, instance = self._ensure_running()
            try:
                return client.call(operation, asset, params, timeout_s)
            except TransportError as exc:
                self._after_failure(operation, instance, exc, timeout_s)
                raise
        finally:
            self._slots.release()

    def _after_failure(self, operation: str, instance: Any, exc: TransportError, timeout_s: float) -> None:
        """Turn a failed call into the instance's story: died, killed for another hang, or hung."""
        who = f"vendor {self.manifest.id}"
        if any(instance is k for k in self._killed):
            raise TransportError(f"{who}: {operation} cut short: the adapter {self.what} was killed because"
                                 " another call to it hung") from None
        if not isinstance(exc, DeadlineError):
            running, status = self._exit_status(instance, wait_s=1.0)  # a dropped connection: did it die?
            if not running:
                with self._lock:
                    if self._instance is instance:
                        self._drop()
                raise TransportError(f"{who}: adapter {self.what} died during {operation} (exit {status}): "
                                     f"{log_tail(self.log_path)}") from None
            return
        with self._lock:
            if self._instance is instance:
                self._killed.append(instance)
                self._drop()  # hung: the next call starts a fresh instance
        raise TransportError(f"{who}: {operation} timed out after {timeout_s:.0f} s; the adapter {self.what} was killed") from None

    def close(self) -> None:
        """Stop the instance; a stop that hangs (an engine that does not answer) never blocks the exit."""
        def stop() -> None:
            with self._lock:
                self._drop(gently=True)

        thread = threading.Thread(target=stop, name=f"{self.manifest.id}:close", daemon=True)
        thread.start()
        thread.join(CLOSE_TIMEOUT_S)
        if thread.is_alive():
            print(f"aiii: vendor {self.manifest.id}: stopping its adapter {self.what} took over "
                  f"{CLOSE_TIMEOUT_S:.0f} s; left behind", file=sys.stderr)
