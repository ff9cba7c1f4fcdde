"""Never answers a request (but answers health checks), unless the asset is named *survive*."""

import time
from typing import Any

from aiii_kit import Adapter, Asset


class Double(Adapter):
    version_hint = "1.0-hang"

    def metadata_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        if "survive" not in asset.name:
            time.sleep(3600)
        return {"fields": {}}
