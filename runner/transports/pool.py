"""Several processes of one adapter: the ``process`` placement for ``[adapter] processes = N``.

A CPU-bound adapter in the harness's own process uses one core, however many calls the
executor makes at once: its calls contend for the interpreter lock (blind-watermark took
0.68 s a call with two at once against 0.30 s alone).  Declared with ``processes``, it is
served instead by a pool of N servers of the ``process`` placement (each a
:class:`ProcessTransport`: the kit's server, in the vendor's environment or the harness's
interpreter), and a call goes to a server with a free slot, the least busy first, so two
calls run on two cores.  ``max_concurrency`` holds per server: the pool takes
N x ``max_concurrency`` calls at once.

The first server starts with the pool (its version is the vendor's); the others start
when a call finds every running one busy, so a run that never makes two calls at once
(a Dask worker runs one cell at a time) starts one.  Each server restarts after a crash
and is killed at a call's deadline as a lone process server is; a server that cannot
start is left out, and the pool goes on with the others.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiii_kit import Asset

from runner.model import VendorManifest
from runner.transports import Transport, TransportError
from runner.transports.client import Endpoint
from runner.transports.process import ProcessTransport


def pool_size(manifest: VendorManifest) -> int:
    """How many servers ``[adapter] processes`` asks for here (1 when it is not declared);
    ``"cores"``: the cores this process may run on."""
    declared = manifest.processes
    if declared is None:
        return 1
    if declared == "cores":
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, int(declared))


@dataclass
class _Server:
    """One server of the pool and what the pool knows of it."""

    transport: ProcessTransport
    busy: int = 0  # calls it is serving
    started: bool = False
    broken: str | None = None  # why it could not start: left out of the pool
    starting: threading.Lock = field(default_factory=threading.Lock)


class ProcessPool(Transport):
    """N process servers of one adapter behind one transport."""

    placement = "process"

    def __init__(self, manifest: VendorManifest, log_dir: Path | None = None) -> None:
        super().__init__(manifest, log_dir)
        self.size = pool_size(manifest)
        self._servers: list[_Server] = []
        for i in range(self.size):
            server = ProcessTransport(manifest, log_dir)
            if i:  # the first keeps the vendor's own log name
                server.log_path = server.log_path.with_name(f"{manifest.id}.{i + 1}.log")
            self._servers.append(_Server(server))
        self._free = threading.Condition()
        self._version: str | None = None

    @property
    def servers(self) -> list[ProcessTransport]:
        """The pool's servers, started or not."""
        return [s.transport for s in self._servers]

    def start(self) -> None:
        """Start the first server; its version is the vendor's."""
        self._start(self._servers[0])
        self._version = self._servers[0].transport.implementation_version()

    def _start(self, server: _Server) -> None:
        """Start ``server`` once (concurrent callers wait for the first)."""
        with server.starting:
            if server.started:
                return
            try:
                server.transport.start()
                version = server.transport.implementation_version()
                if self._version is not None and version != self._version:
                    server.transport.close()
                    raise TransportError(f"vendor {self.manifest.id}: a second adapter process reports version"
                                         f" {version}, the first {self._version}")
            except TransportError as exc:
                server.broken = str(exc)
                with self._free:
                    self._free.notify_all()
                raise
            server.started = True

    def implementation_version(self) -> str | None:
        return self._version

    def _checkout(self, timeout_s: float) -> _Server:
        """A server with a free slot, the least busy first and a running one before one to start."""
        started = time.perf_counter()
        deadline = time.monotonic() + timeout_s
        limit = self.manifest.max_concurrency
        try:
            with self._free:
                while True:
                    open_ = [s for s in self._servers if s.broken is None and s.busy < limit]
                    if open_:
                        server = min(open_, key=lambda s: (s.busy, not s.started))
                        server.busy += 1
                        return server
                    if all(s.broken is not None for s in self._servers):
                        raise TransportError(f"vendor {self.manifest.id}: no adapter process could start:"
                                             f" {self._servers[0].broken}")
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise TransportError(f"vendor {self.manifest.id}: no free slot within {timeout_s:.0f} s")
                    self._free.wait(left)
        finally:
            self.account.add(slot_wait_s=time.perf_counter() - started)

    def _checkin(self, server: _Server) -> None:
        with self._free:
            server.busy -= 1
            self._free.notify()

    def call(self, operation: str, asset: Asset, params: dict[str, Any], timeout_s: float) -> Asset | dict[str, Any]:
        while True:
            server = self._checkout(timeout_s)
            try:
                if not server.started:
                    try:
                        self._start(server)
                    except TransportError:
                        continue  # left out of the pool: the call goes to another server
                return server.transport.call(operation, asset, params, timeout_s)
            finally:
                self._checkin(server)

    def adapter_cpu_s(self) -> float | None:
        """The CPU of every server of the pool (runner/cpu.py), each from when it became healthy."""
        return sum(s.transport.adapter_cpu_s() or 0.0 for s in self._servers if s.started)

    def process_groups(self) -> list[int]:
        return [group for s in self._servers for group in s.transport.process_groups()]

    @property
    def endpoint(self) -> Endpoint | None:
        """Where the first server listens (for `aiii adapter check`)."""
        return self._servers[0].transport.endpoint

    def close(self) -> None:
        """Stop every server at once (each within its own bound)."""
        stops = [threading.Thread(target=s.transport.close, name=f"{self.manifest.id}:close:{i}", daemon=True)
                 for i, s in enumerate(self._servers)]
        for thread in stops:
            thread.start()
        for thread in stops:
            thread.join()
