"""Answers correctly shaped but empty reports, slowly (0.25 s a call)."""

import time
from typing import Any

from aiii_kit import Adapter, Asset


class Double(Adapter):
    version_hint = "1.0-slow"

    def metadata_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        time.sleep(0.25)
        return {"fields": {}}
