"""Answers empty reports after burning CPU: half a second of its own thread's CPU a call."""

import time
from typing import Any

from aiii_kit import Adapter, Asset

BURN_S = 0.5


class Double(Adapter):
    version_hint = "1.0-burn"

    def metadata_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        # by the thread's own CPU clock, not the wall: however loaded the machine, the call
        # has used BURN_S of CPU when it answers
        end = time.thread_time() + BURN_S
        n = 0
        while time.thread_time() < end:
            n += 1
        return {"fields": {}}
