"""A live progress line with counts per outcome (a bar on a terminal, lines in logs)."""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import TextIO

from runner.text import printable

#: Outcomes in the order counts are shown: the verdicts (pass, fail, inconclusive) first.
OUTCOME_ORDER = ("pass", "fail", "inconclusive", "error", "unsupported", "blocked", "xfail", "xpass")


class Progress:
    def __init__(self, total: int, done: int = 0, enabled: bool = True, counts: Counter[str] | None = None,
                 stream: TextIO | None = None) -> None:
        self.total = total
        self.done = done
        self.counts: Counter[str] = counts or Counter()
        self.enabled = enabled and total > 0
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self._last = 0.0
        self._last_pct = -1
        self.steps = 0
        self.cached_steps = 0
        self._last_step_line = time.monotonic()

    def step(self, cached: bool) -> None:
        """One step computed (or served from the cache): long cells, which run many steps,
        show life between cell completions (a terminal redraws; a log gets a line every
        30 s without other news)."""
        self.steps += 1
        self.cached_steps += cached
        if not self.enabled:
            return
        now = time.monotonic()
        if self.tty and now - self._last >= 0.5:
            self._last = now
            self.stream.write("\r" + self._line(now) + "\x1b[K")
            self.stream.flush()
        elif not self.tty and now - self._last_step_line >= 30:
            self._last_step_line = now
            self.stream.write(self._line(now) + "\n")
            self.stream.flush()

    def update(self, outcome: str) -> None:
        self.done += 1
        self.counts[outcome] += 1
        if not self.enabled:
            return
        now = time.monotonic()
        pct = self.done * 100 // max(self.total, 1)
        if self.tty:
            if now - self._last >= 0.1 or self.done == self.total:
                self._last = now
                self.stream.write("\r" + self._line(now) + "\x1b[K")
                self.stream.flush()
        elif pct // 10 != self._last_pct // 10 or self.done == self.total:
            self._last_pct = pct
            self._last_step_line = now
            self.stream.write(self._line(now) + "\n")
            self.stream.flush()

    def _line(self, now: float) -> str:
        width = 24
        filled = width * self.done // max(self.total, 1)
        counts = " ".join(f"{o} {self.counts[o]}" for o in OUTCOME_ORDER if self.counts[o])
        elapsed = now - self.started
        steps = f"; {self.steps} steps, {self.cached_steps} cached" if self.steps else ""
        return printable(f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {counts} ({elapsed:.0f} s{steps})")

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()
