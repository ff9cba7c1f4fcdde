"""Hangs in health()."""

import time
from typing import Any

from aiii_kit import Adapter, Asset


class Double(Adapter):
    version_hint = "1.0-hang-health"

    def health(self) -> None:
        time.sleep(3600)

    def metadata_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        return {"fields": {}}
