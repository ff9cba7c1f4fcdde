"""iscc-lib, an independent Rust implementation of ISO 24138, behind the adapter kit.

It has no ``encode_seq``/``decode_seq`` (the conformance check shows those as
unsupported) and no comparison function (it declares no ``identifier.compare``).
"""

from __future__ import annotations

from typing import Any

import iscc_lib
from aiii_kit import Adapter, Asset, Unsupported
from aiii_kit.iscc import iscc_generate


class IsccLibAdapter(Adapter):
    def identifier_generate(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        return iscc_generate(iscc_lib, asset, params, str(self.config.get("fpcalc", "fpcalc")))

    def identifier_validate(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        """Valid when iscc_lib decodes it; the normal form is its re-encoding."""
        if params["scheme"] != "iscc":
            raise Unsupported(f"iscc-lib validates ISCCs, not {params['scheme']}")
        value = params["value"]
        try:
            mtype, stype, version, _length, digest = iscc_lib.iscc_decode(value)
        except ValueError as exc:
            return {"scheme": "iscc", "valid": False, "normalised": None, "reason": str(exc)[:2000]}
        if mtype == iscc_lib.MT.ISCC:
            # encode_component refuses composite codes; their normal form is the upper-case body.
            body = value.strip().upper().removeprefix("ISCC:")
        else:
            body = iscc_lib.encode_component(mtype, stype, version, len(digest) * 8, digest)
        return {"scheme": "iscc", "valid": True, "normalised": "ISCC:" + body, "reason": None}
