"""The reference XMP reader (vendors/xmp-reference), flaky on request.

``AIII_FLIPPER_READS_NOTHING=1``: it reads no field at all (its round trips fail) while
it reports the same version as ever: between two runs of one plan and one version, its
cells flip, which is what the history's flake detection is for.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

from aiii_kit import Adapter, Asset

_REFERENCE = Path(__file__).resolve().parents[3] / "vendors" / "xmp-reference" / "adapter.py"
_spec = importlib.util.spec_from_file_location("_flipper_xmp_reference", _REFERENCE)
assert _spec is not None and _spec.loader is not None
_reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_reference)


class Double(Adapter):
    def implementation_version(self) -> str:
        return "1.0"

    def metadata_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        if os.environ.get("AIII_FLIPPER_READS_NOTHING") == "1":
            return {"fields": {}}
        return _reference.XmpReferenceAdapter().metadata_read(asset, params)  # type: ignore[no-any-return]
