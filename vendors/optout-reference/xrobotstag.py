"""[X-ROBOTS-TAG]: the ``noai`` and ``noimageai`` rules of the X-Robots-Tag header.

The rules ([NOAI]: DeviantArt's 2022 directives, read by Spawning's tools) say "do not use
this for AI training"; they ride on the robots rules' syntax ([X-ROBOTS-TAG]: Google's
"Robots meta tag, data-nosnippet, and X-Robots-Tag specifications"):

- a field is a comma-separated list of rules; several X-Robots-Tag fields all apply;
- a field may begin with a user agent's name and a colon (``GPTBot: noai``): its rules are
  for that crawler only; names and rules are case-insensitive;
- a rule with a value (``unavailable_after: <date>``, ``max-snippet: 0``) is not an agent;
- ``all`` (no restrictions) is the default: without ``noai`` or ``noimageai`` for the
  agent, AI training is not reserved, so allowed.

One switch for all AI training: the family expresses train-ai and train-genai only.
"""

from __future__ import annotations

from typing import Any

from aiii_kit.optout import header_values, optout_decision
from aiii_kit.vocab import OPTOUT_EXPRESSES

from .common import Decisions

AI_RULES = ("noai", "noimageai")
#: Rules whose value follows a colon, so that the field's first word is no user agent.
VALUED_RULES = ("max-snippet", "max-image-preview", "max-video-preview", "unavailable_after", "indexifembedded")


def _field_rules(value: str) -> tuple[str | None, list[str]]:
    """(the agent the field is for, or None for every crawler; its rules, lowercased)."""
    head, sep, rest = value.partition(":")
    agent = head.strip().lower()
    if sep and agent and " " not in agent and "," not in agent and agent not in VALUED_RULES:
        return agent, [r.strip().lower() for r in rest.split(",")]
    return None, [r.strip().lower() for r in value.split(",")]


def evaluate_x_robots_tag(material: dict[str, Any], purposes: list[str], agent: str) -> Decisions:
    resource = material["resource"]
    if resource.get("status") is None:
        return {p: optout_decision("unknown", "x-robots-tag", None, "no response: nothing declared") for p in purposes}
    found = []
    for value in header_values(resource, "X-Robots-Tag"):
        for_agent, rules = _field_rules(value)
        if for_agent is not None and for_agent != agent.lower():
            continue
        found += [r for r in rules if r in AI_RULES]
    decision = "denied" if found else "allowed"
    why = f"X-Robots-Tag {', '.join(found)}" if found else "no noai or noimageai for this agent: all (the default)"
    return {p: optout_decision(decision if p in OPTOUT_EXPRESSES["x-robots-tag"] else "unknown", "x-robots-tag",
                               why, "[X-ROBOTS-TAG] [NOAI]") for p in purposes}
