"""A live progress line with counts per outcome (a bar on a terminal, lines in logs)."""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import TextIO

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
            self.stream.write(self._line(now) + "\n")
            self.stream.flush()

    def _line(self, now: float) -> str:
        width = 24
        filled = width * self.done // max(self.total, 1)
        counts = " ".join(f"{o} {self.counts[o]}" for o in OUTCOME_ORDER if self.counts[o])
        elapsed = now - self.started
        return f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {counts} ({elapsed:.0f} s)"

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()
