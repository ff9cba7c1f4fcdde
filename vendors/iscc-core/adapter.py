"""iscc-core, the ISO 24138 reference implementation, behind the adapter kit."""

from __future__ import annotations

from typing import Any

import iscc_core
from aiii_kit import Adapter, AdapterError, Asset, Unsupported
from aiii_kit.iscc import iscc_generate


class IsccCoreAdapter(Adapter):
    def identifier_generate(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        return iscc_generate(iscc_core, asset, params, str(self.config.get("fpcalc", "fpcalc")))

    def identifier_validate(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        if params["scheme"] != "iscc":
            raise Unsupported(f"iscc-core validates ISCCs, not {params['scheme']}")
        value = params["value"]
        try:
            iscc_core.iscc_validate(value, strict=True)  # raises ValueError with the reason
        except ValueError as exc:
            return {"scheme": "iscc", "valid": False, "normalised": None, "reason": str(exc)[:2000]}
        return {"scheme": "iscc", "valid": True, "normalised": iscc_core.iscc_normalize(value), "reason": None}

    def identifier_compare(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        try:
            found = iscc_core.iscc_compare(params["a"], params["b"])
        except ValueError as exc:
            raise AdapterError(f"iscc_compare refused the codes: {exc}") from exc
        distances = {unit: int(found[f"{unit}_dist"]) for unit in ("meta", "semantic", "content", "data")
                     if f"{unit}_dist" in found}
        answer: dict[str, Any] = {"scheme": "iscc", "distances": distances, "same": None}
        if "instance_match" in found:
            answer["instance_match"] = bool(found["instance_match"])
        return answer
