"""The standard library's ``urllib.robotparser`` as an opt-out evaluator for robots.txt.

Fetching is the crawler's (the kit's ``crawl``, with requests), and so are RFC 9309
2.3.1's access results for a robots.txt that could not be read; the parsed file is
``RobotFileParser.parse`` + ``can_fetch``, as the standard library does it.
"""

from __future__ import annotations

import platform
from typing import Any
from urllib.robotparser import RobotFileParser

from aiii_kit import Adapter, Asset, Unsupported
from aiii_kit.optout import material_body, optout_decision, optout_material, robots_fetch_decision


class RobotParserAdapter(Adapter):
    def implementation_version(self) -> str | None:
        return f"python-{platform.python_version()}"

    def optout_evaluate(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("channels") and "robots" not in params["channels"]:
            raise Unsupported("urllib.robotparser reads robots.txt only")
        material, _body = optout_material(asset, params)
        agent, purposes = str(params["agent"]), list(params["purposes"])
        fetched = material["robots"]
        preset = robots_fetch_decision(fetched)
        if preset is not None:
            decision, source = preset, f"robots.txt {fetched.get('error') or fetched.get('status')}"
        else:
            parser = RobotFileParser()
            parser.parse(material_body(fetched).decode("utf-8", "replace").splitlines())
            decision = "allowed" if parser.can_fetch(agent, material["resource"]["url"]) else "denied"
            source = "robots.txt (RobotFileParser.can_fetch)"
        decisions = {p: optout_decision(decision, "robots", source, "urllib.robotparser") for p in purposes}
        return {"decisions": decisions, "channels": {"robots": {p: decision for p in purposes}}, "notes": []}
