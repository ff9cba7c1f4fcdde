"""Dies in the middle of a request (the container's process exits), unless the asset is named *survive*."""

import os
from typing import Any

from aiii_kit import Adapter, Asset


class Double(Adapter):
    version_hint = "1.0-crash"

    def metadata_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        if "survive" in asset.name:
            return {"fields": {}, "notes": [f"pid={os.getpid()}"]}
        os._exit(139)  # as a segfaulting native library would
