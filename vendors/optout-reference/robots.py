"""RFC 9309 robots.txt."""

from __future__ import annotations

import re
from typing import Any

from aiii_kit.optout import material_body

from .common import ROBOTS_PARSE_LIMIT

#: The rules of a group: [RFC9309] 2.2.2's and [AIPREF-ATTACH]'s Content-Usage (which
#: updates RFC 9309); other records are dropped.
GROUP_FIELDS = ("allow", "disallow", "content-usage")
#: Other records a group keeps without being closed by them ([RFC9309] 2.2.4: parsing
#: other records must not interfere with the protocol's): [CONTENT-SIGNALS]' lines.
GROUP_RECORDS = ("content-signal",)


def robots_groups(text: str) -> list[tuple[list[str], list[tuple[str, str]]]]:
    """Groups of (user agents, [(field, value)]): consecutive user-agent lines start one
    group ([RFC9309] 2.1); comments and unknown lines are dropped."""
    groups: list[tuple[list[str], list[tuple[str, str]]]] = []
    last_was_agent = False
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        field, _, value = line.partition(":")
        field, value = field.strip().lower(), value.strip()
        if field == "user-agent":
            if not last_was_agent:
                groups.append(([], []))
            groups[-1][0].append(value)
            last_was_agent = True
        elif groups and field in GROUP_FIELDS:
            groups[-1][1].append((field, value))
            last_was_agent = False
        elif groups and field in GROUP_RECORDS:
            groups[-1][1].append((field, value))
        else:
            last_was_agent = False if field in GROUP_FIELDS else last_was_agent
    return groups


def group_rules(text: str, agent: str) -> tuple[list[tuple[str, str]], str]:
    """The rules of every group naming the agent's product token, case-insensitively
    ([RFC9309] 2.2.1), all groups combined; else the ``*`` groups'."""
    token = agent.split("/", 1)[0].strip().lower()
    groups = robots_groups(text)
    mine = [rules for agents, rules in groups if any(a.lower() == token for a in agents)]
    if mine:
        return [r for rules in mine for r in rules], f"group User-agent: {agent}"
    star = [rules for agents, rules in groups if "*" in agents]
    return [r for rules in star for r in rules], "group User-agent: *"


def pattern_matches(pattern: str, path: str) -> bool:
    """[RFC9309] 2.2.3: ``*`` matches any sequence, a final ``$`` anchors the end."""
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    regex = ".*".join(re.escape(part) for part in body.split("*"))
    return re.match(regex + ("$" if anchored else ""), path, re.DOTALL) is not None


def url_path(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def robots_text(fetched: dict[str, Any]) -> str:
    data = material_body(fetched)[:ROBOTS_PARSE_LIMIT]  # [RFC9309] 2.5
    return data.decode("utf-8", "replace")  # 2.2: UTF-8; undecodable bytes cannot match anything


#: ASCII that stays as it is: everything printable (reserved characters are compared as
#: written, "%" keeps existing escapes).
_ASCII_SAFE = "".join(chr(c) for c in range(0x21, 0x7F))


def percent_encoded(path: str) -> str:
    """[RFC9309] 2.2.2: octets outside ASCII, in the URI and in robots.txt paths, are
    percent-encoded (UTF-8, [RFC3986] 2.1) before they are compared."""
    from urllib.parse import quote

    return quote(path, safe=_ASCII_SAFE)


def robots_allowed(text: str, agent: str, path: str) -> tuple[bool, str]:
    """[RFC9309] 2.2.2: the longest matching allow/disallow rule wins; on a tie allow
    (the least restrictive); no match allows; /robots.txt is always allowed."""
    if path == "/robots.txt":
        return True, "2.2.2: /robots.txt is implicitly allowed"
    rules, group = group_rules(text, agent)
    best: tuple[int, bool, str] | None = None
    path = percent_encoded(path)
    for field, value in rules:
        if field not in ("allow", "disallow") or not value:
            continue  # an empty disallow allows everything: it matches nothing
        pattern = percent_encoded(value)
        if pattern_matches(pattern, path):
            candidate = (len(pattern), field == "allow", f"{field}: {value}")
            if best is None or candidate[:2] > best[:2]:
                best = candidate
    if best is None:
        return True, f"{group}: no rule matches (2.2.2)"
    return best[1], f"{group}: {best[2]} is the longest match (2.2.2)"
