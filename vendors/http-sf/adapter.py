"""http-sf (an RFC 9651 parser) reading AI preferences from the Content-Usage header.

Glue only: repeated header fields are joined with ", " (RFC 9110 5.3), the value is
parsed as a dictionary by ``http_sf.parse``; a parse error means the field says nothing;
each key's value counts when it is a token (the kit's ``aipref_decisions`` maps y/n).
"""

from __future__ import annotations

from typing import Any

import http_sf  # type: ignore[import-untyped]
from aiii_kit import Adapter, Asset, Unsupported
from aiii_kit.optout import aipref_decisions, header_values, optout_decision, optout_material


class HttpSfAdapter(Adapter):
    def optout_evaluate(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("channels") and "aipref" not in params["channels"]:
            raise Unsupported("http-sf reads the Content-Usage header only")
        material, _body = optout_material(asset, params)
        purposes, notes = list(params["purposes"]), []
        values = header_values(material["resource"], "content-usage")
        said = dict.fromkeys(purposes, "unknown")
        source = None
        if values:
            joined = ", ".join(values)
            try:
                parsed = http_sf.parse(joined.encode("latin-1"), tltype="dictionary")
            except (http_sf.StructuredFieldError, ValueError, UnicodeEncodeError) as exc:
                notes.append(f"Content-Usage not parsed by http-sf: {exc}")
            else:
                tokens = {k: (str(v[0]) if isinstance(v[0], http_sf.Token) else None) for k, v in parsed.items()}
                said = {p: aipref_decisions(tokens)[p] for p in purposes}
                source = f"Content-Usage header {joined!r}"
        decisions = {p: optout_decision(said[p], "aipref", source, "http_sf.parse dictionary") for p in purposes}
        return {"decisions": decisions, "channels": {"aipref": said}, "notes": notes}
