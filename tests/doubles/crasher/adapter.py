"""Crashes in the middle of every request: an unexpected exception, not a clean refusal."""

from typing import Any

from aiii_kit import Adapter, Asset


class Double(Adapter):
    version_hint = "1.0-crash"

    def metadata_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        header = asset.data[:4]
        raise RuntimeError(f"segfault-like crash while parsing {header!r}")
