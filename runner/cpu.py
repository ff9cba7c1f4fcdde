"""CPU time by where it is spent: inside adapters (by placement), in the harness's transforms, elsewhere.

Wall time inside adapter calls, summed over threads, is no measure of work: it counts the
wait for a vendor's concurrency slot and the time other threads held the cores.  These are
CPU seconds, each measured where the work runs:

- ``inproc``: the calling thread's CPU (:func:`time.thread_time`) around ``adapter.call``.
  It misses native threads the adapter's libraries start (OpenCV's, a BLAS pool): their
  CPU is in the harness process's CPU, so it shows as harness overhead.  Subprocesses an
  adapter starts are counted under ``children``.
- ``process``: the adapter server's process group (it is started in a session of its own),
  from ``/proc``: user and system time of its members and of their reaped children, from
  when it answered its health check to when it is stopped.
- ``docker``: the container's cgroup CPU usage (the engine's ``stats``), over the same span.
- ``children``: the harness's other child processes (an in-process adapter's perl, a
  transform's ffmpeg): those reaped during the run (``RUSAGE_CHILDREN``) and those still
  running at its end.
- ``transforms``: the thread CPU of the harness's own transforms (channels, tampering).
"""

from __future__ import annotations

import contextlib
import os
import resource
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runner.executor import CallTiming
    from runner.transports import Transport

PROC = Path("/proc")
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _processes() -> dict[int, tuple[int, int, float]]:
    """Every process: pid -> (ppid, process group, CPU seconds of it and its reaped children)."""
    out: dict[int, tuple[int, int, float]] = {}
    with contextlib.suppress(OSError):
        for entry in os.scandir(PROC):
            if not entry.name.isdigit():
                continue
            try:
                fields = (PROC / entry.name / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue  # gone meanwhile
            # after the command name: ppid [1], pgrp [2], utime [11], stime [12], cutime [13], cstime [14]
            out[int(entry.name)] = (int(fields[1]), int(fields[2]), sum(int(f) for f in fields[11:15]) / _TICK)
    return out


def group_cpu_s(pgid: int) -> float | None:
    """CPU seconds of the live members of process group ``pgid`` and their reaped children
    (None where ``/proc`` cannot tell)."""
    if not PROC.is_dir():
        return None
    return sum(cpu for _ppid, group, cpu in _processes().values() if group == pgid)


def descendants_cpu_s(exclude_groups: set[int], root: int | None = None) -> float:
    """CPU seconds of the live descendants of ``root`` (this process) outside ``exclude_groups``."""
    root = os.getpid() if root is None else root
    procs = _processes()
    total = 0.0
    for pid, (ppid, group, cpu) in procs.items():
        if group in exclude_groups:
            continue
        seen = 0
        while ppid not in (0, 1, root) and seen < 64:  # up the chain, bounded against loops
            ppid = procs.get(ppid, (0, 0, 0.0))[0]
            seen += 1
        if ppid == root and pid != root:
            total += cpu
    return total


def container_cpu_s(container: Any) -> float | None:
    """The container's cgroup CPU usage in seconds, from the engine (None when it does not say)."""
    try:
        stats = container.stats(stream=False, one_shot=True)
        return float(stats["cpu_stats"]["cpu_usage"]["total_usage"]) / 1e9
    except Exception:  # noqa: BLE001 - stopped, or an engine without stats: unknown, not an error
        return None


class CpuAccount:
    """What one transport counts: CPU inside its adapter and the wait for its slots."""

    def __init__(self) -> None:
        self.cpu_s = 0.0
        self.slot_wait_s = 0.0
        self._lock = threading.Lock()

    def add(self, cpu_s: float = 0.0, slot_wait_s: float = 0.0) -> None:
        with self._lock:
            self.cpu_s += cpu_s
            self.slot_wait_s += slot_wait_s

    def acquire(self, slots: threading.BoundedSemaphore, timeout_s: float) -> bool:
        """``slots.acquire(timeout=timeout_s)``, its wait counted."""
        started = time.perf_counter()
        try:
            return slots.acquire(timeout=timeout_s)
        finally:
            self.add(slot_wait_s=time.perf_counter() - started)


def _rusage() -> tuple[float, float]:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime


@dataclass
class CpuMeter:
    """Started before a run's cells, finished after them (before the transports close)."""

    #: vendor id -> (placement, transport)
    transports: dict[str, tuple[str, Transport]]
    own_s: float = 0.0
    reaped_s: float = 0.0
    live_s: float = 0.0
    before: dict[str, tuple[float, float]] = field(default_factory=dict)

    @classmethod
    def start(cls, transports: dict[str, tuple[str, Transport]]) -> CpuMeter:
        meter = cls(transports)
        meter.own_s, meter.reaped_s = _rusage()
        meter.live_s = descendants_cpu_s(meter._adapter_groups()) if PROC.is_dir() else 0.0
        meter.before = {vid: (t.adapter_cpu_s() or 0.0, t.account.slot_wait_s) for vid, (_p, t) in transports.items()}
        return meter

    def _adapter_groups(self) -> set[int]:
        return {g for _p, t in self.transports.values() for g in t.process_groups()}

    def finish(self, timing: CallTiming) -> None:
        """Add what was spent since :meth:`start` to ``timing``."""
        own_s, reaped_s = _rusage()
        timing.process_cpu_s += own_s - self.own_s
        live_s = descendants_cpu_s(self._adapter_groups()) if PROC.is_dir() else 0.0
        timing.children_cpu_s += max(0.0, reaped_s - self.reaped_s + live_s - self.live_s)
        for vid, (placement, transport) in self.transports.items():
            cpu0, wait0 = self.before.get(vid, (0.0, 0.0))
            cpu = transport.adapter_cpu_s()
            if cpu is not None:
                timing.adapter_cpu_s[placement] = timing.adapter_cpu_s.get(placement, 0.0) + max(0.0, cpu - cpu0)
            timing.slot_wait_s += transport.account.slot_wait_s - wait0
