"""Dies in the middle of a request: the whole process exits without answering."""

import os
from typing import Any

from aiii_kit import Adapter, Asset


class Double(Adapter):
    version_hint = "1.0-crash"

    def metadata_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        os._exit(139)  # as a segfaulting native library would
