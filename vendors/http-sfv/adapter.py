"""http_sfv (an RFC 8941/9651 parser) reading AI preferences from the Content-Usage header.

Glue only: repeated header fields are joined with ", " (RFC 9110 5.3) and parsed with
``http_sfv.Dictionary().parse``; a parse error means the field says nothing; each key's
value counts when it is a token (the kit's ``aipref_decisions`` maps y/n).
"""

from __future__ import annotations

from typing import Any

import http_sfv  # type: ignore[import-untyped]
from aiii_kit import Adapter, Asset, Unsupported
from aiii_kit.optout import aipref_decisions, header_values, optout_decision, optout_material


class HttpSfvAdapter(Adapter):
    def optout_evaluate(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("channels") and "aipref" not in params["channels"]:
            raise Unsupported("http_sfv reads the Content-Usage header only")
        material, _body = optout_material(asset, params)
        purposes, notes = list(params["purposes"]), []
        values = header_values(material["resource"], "content-usage")
        said = dict.fromkeys(purposes, "unknown")
        source = None
        if values:
            joined = ", ".join(values)
            parsed = http_sfv.Dictionary()
            try:
                parsed.parse(joined.encode("latin-1"))
            except (ValueError, UnicodeEncodeError) as exc:
                notes.append(f"Content-Usage not parsed by http_sfv: {exc}")
            else:
                tokens = {k: (str(parsed[k].value) if isinstance(parsed[k].value, http_sfv.Token) else None) for k in parsed}
                said = {p: aipref_decisions(tokens)[p] for p in purposes}
                source = f"Content-Usage header {joined!r}"
        decisions = {p: optout_decision(said[p], "aipref", source, "http_sfv.Dictionary.parse") for p in purposes}
        return {"decisions": decisions, "channels": {"aipref": said}, "notes": notes}
