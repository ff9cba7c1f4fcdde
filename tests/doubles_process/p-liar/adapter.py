"""Answers JSON that breaks the protocol schema: an unknown field name and a list value."""

from typing import Any

from aiii_kit import Adapter, Asset


class Double(Adapter):
    version_hint = "1.0-lie"

    def metadata_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        return {"fields": {"creator": ["Jane", "Example"]}, "confidence": "very"}
