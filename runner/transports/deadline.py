"""A request's total deadline: connect, TLS handshake, request, headers and body together.

A socket timeout bounds one read, not a whole answer: a server that sends a byte a
second never trips it, and an answer could take as long as the server likes.  Here one
watchdog thread shuts each request's socket down at its deadline, which wakes whatever
the request is blocked in; the request sees ``fired`` and reports the deadline.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time


def seconds(value: float) -> str:
    """A duration for messages: "3", "2.5" (what is left of a deadline is rarely round)."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


class Deadline:
    """One request's deadline; use it as a context manager so that it is cancelled after."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.at = time.monotonic() + timeout
        self.fired = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        _WATCHDOG.watch(self)

    def remaining(self) -> float:
        """Seconds left (a little above zero once past, so a timeout stays valid)."""
        return max(0.01, self.at - time.monotonic())

    def adopt(self, sock: socket.socket) -> socket.socket:
        """Watch ``sock`` from now on (shut at once if the deadline has passed)."""
        sock.settimeout(self.remaining())
        with self._lock:
            self._sock = sock
            fired = self.fired
        if fired:
            _shut(sock)
        return sock

    def fire(self) -> None:
        with self._lock:
            self.fired = True
            sock, self._sock = self._sock, None
        if sock is not None:
            _shut(sock)

    def cancel(self) -> None:
        with self._lock:
            self._sock = None  # nothing to shut: the request is over
        _WATCHDOG.forget(self)

    def __enter__(self) -> Deadline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()


def _shut(sock: socket.socket) -> None:
    # socket.socket's own shutdown, not SSLSocket's, which drops the TLS state under a
    # thread that may be reading; the read then sees end-of-stream and fails.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watchdog:
    """One daemon thread firing every request's deadline (a thread per request costs more)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Deadline]] = []
        self._live: set[int] = set()
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def watch(self, deadline: Deadline) -> None:
        with self._cond:
            if self._thread is None or not self._thread.is_alive():  # also after a fork
                self._thread = threading.Thread(target=self._loop, name="aiii-deadlines", daemon=True)
                self._thread.start()
            heapq.heappush(self._heap, (deadline.at, next(self._seq), deadline))
            self._live.add(id(deadline))
            self._cond.notify()

    def forget(self, deadline: Deadline) -> None:
        with self._cond:
            self._live.discard(id(deadline))  # its heap entry is dropped when it comes due

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    self._cond.wait(self._heap[0][0] - time.monotonic() if self._heap else None)
                _, _, due = heapq.heappop(self._heap)
                live = id(due) in self._live
                self._live.discard(id(due))
            if live:
                due.fire()


_WATCHDOG = _Watchdog()
