"""Floods: answers with an enormous value (16 MiB), far over the protocol's limit."""

from typing import Any

from aiii_kit import Adapter, Asset


class Double(Adapter):
    version_hint = "1.0-flood"

    def metadata_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        return {"fields": {"title": "A" * (16 * 1024 * 1024)}}
