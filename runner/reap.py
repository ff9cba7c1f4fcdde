"""Ending the processes a run leaves behind: what in-process adapters started and never stopped.

An adapter running in the harness's own process may start helpers (a batch tool, a
daemon, a stray ``subprocess.Popen``) and not stop them; nothing else would, so they
would outlive the run.  :func:`reap_new_children` ends every child of the harness that
appeared during the run, once the transports are closed, by ``/proc`` (Linux; elsewhere
nothing is reaped).  A child that leads its own process group takes the group with it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

PROC = Path("/proc")
#: How long a child has to end after SIGTERM before it gets SIGKILL.
GRACE_S = 3.0

#: A child: (pid, start time in clock ticks since boot), so a reused pid is not mistaken.
Child = tuple[int, int]


def _stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command name: state is [0], ppid [1], pgid [2]."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return text.rpartition(")")[2].split()


def children(parent: int | None = None) -> set[Child]:
    """The live (not zombie) children of ``parent`` (default: this process)."""
    parent = os.getpid() if parent is None else parent
    found: set[Child] = set()
    with contextlib.suppress(OSError):
        for entry in os.scandir(PROC):
            if not entry.name.isdigit():
                continue
            fields = _stat(int(entry.name))
            if fields and fields[1] == str(parent) and fields[0] not in ("Z", "X"):
                found.add((int(entry.name), int(fields[19])))
    return found


def _alive(child: Child) -> bool:
    fields = _stat(child[0])
    return fields is not None and int(fields[19]) == child[1] and fields[0] not in ("Z", "X")


def _leads_group(child: Child) -> bool:
    fields = _stat(child[0])
    return fields is not None and int(fields[19]) == child[1] and fields[2] == str(child[0])


def _signal(child: Child, sig: signal.Signals, group: bool) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if group:  # a group leader: its group (its own children) goes too
            os.killpg(child[0], sig)
        elif _alive(child):
            os.kill(child[0], sig)


def reap_new_children(before: set[Child], grace_s: float = GRACE_S) -> list[int]:
    """End the children of this process that are not in ``before``: SIGTERM, then SIGKILL
    after ``grace_s``.  Returns the pids that were ended."""
    leftover = {child: _leads_group(child) for child in children() - before}
    for child, group in leftover.items():
        _signal(child, signal.SIGTERM, group)
    deadline = time.monotonic() + grace_s
    while any(_alive(c) for c in leftover) and time.monotonic() < deadline:
        time.sleep(0.05)
    for child, group in leftover.items():
        _signal(child, signal.SIGKILL, group)  # a group's members may outlive its leader
    deadline = time.monotonic() + grace_s
    while any(_alive(c) for c in leftover) and time.monotonic() < deadline:
        time.sleep(0.05)
    for child in leftover:  # reap the zombies, so none lingers in a long-lived harness (tests)
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(child[0], os.WNOHANG)
    return sorted(pid for pid, _ in leftover)
