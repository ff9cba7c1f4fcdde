"""idutils as an identifier validator: its ``is_<scheme>()`` tests, as they are.

idutils answers with a truth value (a ``re.Match`` or None for the regular-expression
schemes, a bool for the check-digit ones), so an invalid value's reason only names the
test.  The normal form comes from idutils' own ``normalize_<scheme>()`` where it has one;
ISNI and ARK have none, and their value is reported unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import idutils
from aiii_kit import Adapter, AdapterError, Asset, Unsupported

#: Scheme id -> (test, normaliser or None).
SCHEMES: dict[str, tuple[Callable[[str], Any], Callable[[str], str] | None]] = {
    "doi": (idutils.is_doi, idutils.normalize_doi),
    "orcid": (idutils.is_orcid, idutils.normalize_orcid),
    "isni": (idutils.is_isni, None),
    "isbn": (idutils.is_isbn, idutils.normalize_isbn),
    "issn": (idutils.is_issn, idutils.normalize_issn),
    "ark": (idutils.is_ark, None),
    "handle": (idutils.is_handle, idutils.normalize_handle),
}


class IdutilsAdapter(Adapter):
    """``idutils.is_<scheme>(value)``; valid values normalised by ``idutils.normalize_<scheme>``."""

    def identifier_validate(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        scheme, value = str(params["scheme"]), str(params["value"])
        entry = SCHEMES.get(scheme)
        if entry is None:
            raise Unsupported(f"idutils has no validator for {scheme!r} here")
        test, normalise = entry
        answer = test(value)
        if not answer:
            return {"scheme": scheme, "valid": False, "normalised": None,
                    "reason": f"idutils.{test.__name__} returned {answer!r}"}
        if normalise is None:
            return {"scheme": scheme, "valid": True, "normalised": value, "reason": None}
        try:
            normalised = normalise(value)
        except Exception as exc:  # idutils' normalisers raise whatever their helpers raise
            raise AdapterError(f"idutils.{normalise.__name__} failed on a value is_{scheme} accepted: {exc!r}") from exc
        return {"scheme": scheme, "valid": True, "normalised": str(normalised), "reason": None}
