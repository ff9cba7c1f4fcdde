"""[CONTENT-SIGNALS]: Cloudflare's Content Signals Policy, ``Content-Signal`` lines in
robots.txt groups.

- Keys ``search``, ``ai-input`` and ``ai-train``; ``yes`` grants and ``no`` restricts the
  use, a use with no signal is neither granted nor restricted (the policy's (a), (b), (c)).
- A line belongs to its robots.txt group, and the group is chosen as for allow and
  disallow ([RFC9309] 2.2.1): every group naming the agent's product token, else ``*``.
- Several values for one use in the chosen groups: a ``no`` wins, since (b) says a ``no``
  means the content may not be collected for that use whatever else is said.
"""

from __future__ import annotations

from typing import Any

from aiii_kit.optout import content_signal_decisions, optout_decision
from aiii_kit.vocab import CONTENT_SIGNAL_PURPOSES

from .common import Decisions, _unknown
from .robots import group_rules, robots_text

CHANNEL = "content-signal"


def parse_content_signal(value: str) -> dict[str, bool]:
    """The signals of one line, ``key=value`` items separated by commas: keys and values
    compared case-insensitively, values other than yes and no ignored, and a no given
    anywhere in the line kept over a yes."""
    out: dict[str, bool] = {}
    for item in value.split(","):
        key, eq, said = item.partition("=")
        key, said = key.strip().lower(), said.strip().lower()
        if eq and key in CONTENT_SIGNAL_PURPOSES and said in ("yes", "no"):
            out[key] = out.get(key, True) and said == "yes"
    return out


def content_signals_for(text: str, agent: str) -> tuple[dict[str, bool | None], str, list[str]]:
    """Per key, what the agent's groups signal (None: nothing), the group read, and each line."""
    rules, group = group_rules(text, agent)
    lines = [value for field, value in rules if field == CHANNEL]
    said: dict[str, bool | None] = dict.fromkeys(CONTENT_SIGNAL_PURPOSES)
    for line in lines:
        for key, yes in parse_content_signal(line).items():
            said[key] = yes if said[key] is None else bool(said[key]) and yes
    return said, group, lines


def evaluate_content_signal(material: dict[str, Any], purposes: list[str], agent: str) -> Decisions:
    """What the Content-Signal lines of the agent's robots.txt group say, per purpose; a
    robots.txt that could not be read signals nothing."""
    fetched = material["robots"]
    if fetched.get("status") != 200 or fetched.get("error"):
        why = fetched.get("error") or fetched.get("status")
        return _unknown(purposes, CHANNEL, f"[CONTENT-SIGNALS] no robots.txt to read ({why})")
    said, group, lines = content_signals_for(robots_text(fetched), agent)
    if not lines:
        return _unknown(purposes, CHANNEL, f"[CONTENT-SIGNALS] (c): no Content-Signal in the {group}")
    decisions = content_signal_decisions(said)
    source = f"robots.txt {group}: Content-Signal {'; '.join(repr(line) for line in lines)}"
    rule = "[CONTENT-SIGNALS] (a) yes grants, (b) no restricts, (c) absent neither; group per [RFC9309] 2.2.1"
    return {p: optout_decision(decisions[p], CHANNEL, source, rule) for p in purposes}
