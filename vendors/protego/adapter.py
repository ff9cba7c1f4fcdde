"""Protego (Scrapy's robots.txt parser) as an opt-out evaluator for the robots channel.

The adapter is a crawler's glue: it fetches with the kit's ``crawl`` (requests), applies
RFC 9309 2.3.1's access results for a robots.txt that could not be read (the kit's
``robots_fetch_decision``), and asks ``Protego.can_fetch`` for everything else.  The
answer is the same for every purpose asked: a crawler's user agent acts for one purpose.
"""

from __future__ import annotations

from typing import Any

from aiii_kit import Adapter, Asset, Unsupported
from aiii_kit.optout import material_body, optout_decision, optout_material, robots_fetch_decision
from protego import Protego  # type: ignore[import-untyped]


class ProtegoAdapter(Adapter):
    def optout_evaluate(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("channels") and "robots" not in params["channels"]:
            raise Unsupported("Protego reads robots.txt only")
        material, _body = optout_material(asset, params)
        agent, purposes = str(params["agent"]), list(params["purposes"])
        fetched = material["robots"]
        preset = robots_fetch_decision(fetched)
        if preset is not None:
            source = f"robots.txt {fetched.get('error') or fetched.get('status')}"
            decision = preset
        else:
            rules = Protego.parse(material_body(fetched).decode("utf-8", "replace"))
            decision = "allowed" if rules.can_fetch(material["resource"]["url"], agent) else "denied"
            source = "robots.txt (Protego.can_fetch)"
        decisions = {p: optout_decision(decision, "robots", source, "Protego.can_fetch") for p in purposes}
        return {"decisions": decisions, "channels": {"robots": {p: decision for p in purposes}}, "notes": []}
