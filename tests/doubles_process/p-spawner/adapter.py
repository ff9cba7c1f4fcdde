"""Starts a helper (``sleep 1000``) it never stops, then answers slowly with nothing found.

Each helper's pid is appended to the file named by ``[adapter.config] pid_file``, so a
test can tell whether the helper outlived the harness.
"""

import subprocess
import time
from typing import Any

from aiii_kit import Adapter, Asset


class Double(Adapter):
    version_hint = "1.0-spawner"
    _helper: "subprocess.Popen[bytes] | None" = None

    def health(self) -> None:
        if self._helper is None:
            self._helper = subprocess.Popen(["sleep", "1000"], stdin=subprocess.DEVNULL)
            if self.config.get("pid_file"):
                with open(self.config["pid_file"], "a") as fh:
                    fh.write(f"{self._helper.pid}\n")

    def metadata_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        time.sleep(float(self.config.get("delay_s", 0.5)))
        return {"fields": {}}
