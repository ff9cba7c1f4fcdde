"""python-stdnum as an identifier validator: each scheme's module ``validate()``, as it is.

stdnum cleans its input before it checks it (``stdnum.util.clean`` maps Unicode dashes,
spaces and digit look-alikes to ASCII, then the module drops its separators and upper-cases).
The adapter does not add or remove anything: that leniency is what the harness measures.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from aiii_kit import Adapter, Asset, Unsupported
from stdnum import grid, isan, isbn, ismn, isni, isrc, issn
from stdnum.exceptions import ValidationError

#: Scheme id -> stdnum module.  stdnum 2.2 has no ISWC module.
MODULES: dict[str, ModuleType] = {
    "isrc": isrc,
    "isni": isni,
    "isbn": isbn,
    "issn": issn,
    "ismn": ismn,
    "isan": isan,
    "grid": grid,
}


class StdnumAdapter(Adapter):
    """``stdnum.<scheme>.validate(value)``: its return value (the compact form) is the normal form."""

    def identifier_validate(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        scheme, value = str(params["scheme"]), str(params["value"])
        module = MODULES.get(scheme)
        if module is None:
            raise Unsupported(f"python-stdnum has no validator for {scheme!r} here")
        try:
            normalised = module.validate(value)
        except ValidationError as exc:
            return {"scheme": scheme, "valid": False, "normalised": None, "reason": f"{type(exc).__name__}: {exc}"}
        return {"scheme": scheme, "valid": True, "normalised": str(normalised), "reason": None}
