"""fast-robotstxt (ctypes bindings to a fork of Google's C++ robots.txt parser) as an
opt-out evaluator for robots.txt and Cloudflare's Content-Signal.

The adapter is a crawler's glue: it fetches with the kit's ``crawl`` (requests), applies
RFC 9309 2.3.1's access results for a robots.txt that could not be read (the kit's
``robots_fetch_decision``), and asks ``RobotsMatcher.is_allowed`` for the rest.  The same
match leaves the agent's ``content_signal`` on the matcher: ``ai_train``, ``ai_input`` and
``search`` as True, False or None, which the kit maps to purposes.  The robots answer is
the same for every purpose asked (a crawler's user agent acts for one purpose); where
both families are asked, a denial by either wins, then an allowance.
"""

from __future__ import annotations

from typing import Any

from aiii_kit import Adapter, Asset, Unsupported
from aiii_kit.optout import (
    content_signal_decisions,
    material_body,
    optout_decision,
    optout_material,
    robots_fetch_decision,
)
from robotstxt import RobotsMatcher  # type: ignore[import-untyped]

FAMILIES = ("robots", "content-signal")


class FastRobotstxtAdapter(Adapter):
    def optout_evaluate(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        families = [f for f in params.get("channels") or FAMILIES if f in FAMILIES]
        if not families:
            raise Unsupported("fast-robotstxt reads robots.txt and its Content-Signal lines only")
        material, _body = optout_material(asset, params)
        agent, purposes = str(params["agent"]), list(params["purposes"])
        fetched = material["robots"]
        preset = robots_fetch_decision(fetched)
        signal: dict[str, bool | None] | None = None
        if preset is not None:
            robots, source = preset, f"robots.txt {fetched.get('error') or fetched.get('status')}"
        else:
            matcher = RobotsMatcher()
            allowed = matcher.is_allowed(material_body(fetched).decode("utf-8", "replace"), agent, material["resource"]["url"])
            robots, source = ("allowed" if allowed else "denied"), f"robots.txt line {matcher.matching_line} (RobotsMatcher.is_allowed)"
            signal = matcher.content_signal
        per: dict[str, dict[str, dict[str, Any]]] = {}
        if "robots" in families:
            per["robots"] = {p: optout_decision(robots, "robots", source, "RobotsMatcher.is_allowed") for p in purposes}
        if "content-signal" in families:
            said = content_signal_decisions({"ai-train": (signal or {}).get("ai_train"), "ai-input": (signal or {}).get("ai_input"),
                                             "search": (signal or {}).get("search")})
            where = f"robots.txt Content-Signal {signal}" if signal else "no Content-Signal for this agent"
            per["content-signal"] = {p: optout_decision(said[p], "content-signal", where, "RobotsMatcher.content_signal")
                                     for p in purposes}
        decisions = {}
        for p in purposes:
            answers = [d[p] for d in per.values()]
            decisions[p] = (next((a for a in answers if a["decision"] == "denied"), None)
                            or next((a for a in answers if a["decision"] == "allowed"), None)
                            or optout_decision("unknown", None, None, "no family read speaks to this purpose"))
        return {"decisions": decisions, "channels": {f: {p: d[p]["decision"] for p in purposes} for f, d in per.items()},
                "notes": []}
