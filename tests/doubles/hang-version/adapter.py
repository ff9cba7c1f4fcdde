"""Hangs in implementation_version()."""

import time
from typing import Any

from aiii_kit import Adapter, Asset


class Double(Adapter):
    def implementation_version(self) -> str | None:
        time.sleep(3600)
        return "1.0-hang-version"

    def metadata_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        return {"fields": {}}
