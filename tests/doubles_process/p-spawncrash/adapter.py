"""Starts a helper (``sleep 1000``) in the middle of a request, then dies without answering.

Each helper's pid is appended to the file named by ``[adapter.config] pid_file``.
"""

import os
import subprocess
from typing import Any

from aiii_kit import Adapter, Asset


class Double(Adapter):
    version_hint = "1.0-spawncrash"

    def metadata_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        helper = subprocess.Popen(["sleep", "1000"], stdin=subprocess.DEVNULL)
        if self.config.get("pid_file"):
            with open(self.config["pid_file"], "a") as fh:
                fh.write(f"{helper.pid}\n")
        os._exit(139)  # as a segfaulting native library would, its helper left running
