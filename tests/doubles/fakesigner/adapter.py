"""Says it signed, but hands the input back untouched."""

from typing import Any

from aiii_kit import Adapter, Asset


class Double(Adapter):
    version_hint = "1.0-fake"

    def provenance_sign(self, asset: Asset, params: dict[str, Any]) -> Asset:
        return asset
