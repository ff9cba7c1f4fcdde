"""robotspy (a pure-Python robots.txt parser written to RFC 9309) as an opt-out evaluator
for the robots channel.

The adapter is a crawler's glue, as Protego's is: the kit's ``robots_answer`` fetches
with requests (not ``RobotsParser.from_uri``'s urllib) and applies RFC 9309 2.3.1's
access results for a robots.txt that could not be read; ``RobotsParser.from_string(text)
.can_fetch(agent, url)`` decides the rest, and the lines it did not understand become notes.
"""

from __future__ import annotations

from typing import Any

from aiii_kit import Adapter, Asset
from aiii_kit.optout import robots_answer
from robots import RobotsParser  # type: ignore[import-untyped]


def _can_fetch(text: str, agent: str, url: str) -> tuple[bool, list[str]]:
    parser = RobotsParser.from_string(text)
    return bool(parser.can_fetch(agent, url)), [f"robotspy: {where}: {what}" for where, what in parser.warnings[:5]]


class RobotspyAdapter(Adapter):
    def optout_evaluate(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        return robots_answer(asset, params, "robotspy RobotsParser.can_fetch", _can_fetch)
