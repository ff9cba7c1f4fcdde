"""Hangs while its module is imported."""

import time
from typing import Any

from aiii_kit import Adapter, Asset

time.sleep(3600)  # at import: start-up never finishes


class Double(Adapter):
    version_hint = "1.0-hang-import"

    def metadata_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        return {"fields": {}}
