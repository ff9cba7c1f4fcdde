"""Says which process answered and when; the asset's bytes say what to do first.

``sleep S``: sleep S seconds; ``crash``: exit without answering, as a segfaulting native
library would; anything else (an empty asset): burn half a second of this thread's CPU.
The answer's title is ``pid started ended`` (wall clock, seconds)."""

import os
import time
from typing import Any

from aiii_kit import Adapter, Asset

BURN_S = 0.5


class Double(Adapter):
    version_hint = "1.0-pool"

    def metadata_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        started = time.time()
        what = asset.data.decode("ascii", "replace").split()
        if what[:1] == ["crash"]:
            os._exit(139)
        if what[:1] == ["sleep"]:
            time.sleep(float(what[1]))
        else:  # by the thread's CPU clock: however loaded the machine, BURN_S of CPU is used
            end = time.thread_time() + BURN_S
            while time.thread_time() < end:
                pass
        return {"fields": {"title": f"{os.getpid()} {started} {time.time()}"}}
