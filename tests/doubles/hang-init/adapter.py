"""Hangs in its constructor."""

import time
from typing import Any

from aiii_kit import Adapter, Asset


class Double(Adapter):
    version_hint = "1.0-hang-init"

    def __init__(self, config: dict[str, Any]) -> None:
        time.sleep(3600)

    def metadata_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        return {"fields": {}}
