"""RFC 9651 dictionaries (the subset of bare items preferences use, strictly parsed)."""

from __future__ import annotations

import re
from typing import Any

from aiii_kit.optout import aipref_decisions


class SFError(ValueError):
    """Not a valid structured-field dictionary ([RFC9651] 4.2: the field is then ignored)."""


_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_TOKEN = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
_NUMBER = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,3})?")


def parse_sf_dictionary(text: str) -> dict[str, Any]:
    """[RFC9651] 4.2.2 parsing a dictionary: members by key, the last duplicate winning
    (3.2); each value a bare item (token as ("token", t), others as Python values) or an
    inner list; parameters are parsed and dropped."""
    if any(ord(c) > 126 or (ord(c) < 32 and c != "\t") for c in text):
        raise SFError("non-ASCII or control character")  # 4.2: fields are ASCII
    s, i, out = text.strip(" \t"), 0, {}
    if not s:
        return {}
    while True:
        m = _KEY.match(s, i)
        if not m:
            raise SFError(f"bad key at {i}")  # 3.1.2: keys start with lcalpha or "*"
        key, i = m.group(), m.end()
        if i < len(s) and s[i] == "=":
            value, i = _bare_or_inner(s, i + 1)
        else:
            value = True
        i = _parameters(s, i)
        out.pop(key, None)
        out[key] = value  # 3.2: the last instance of a duplicate key wins
        while i < len(s) and s[i] in " \t":
            i += 1
        if i == len(s):
            return out
        if s[i] != ",":
            raise SFError(f"expected ',' at {i}")
        i += 1
        while i < len(s) and s[i] in " \t":
            i += 1
        if i == len(s):
            raise SFError("trailing comma")


def _bare_or_inner(s: str, i: int) -> tuple[Any, int]:
    if i < len(s) and s[i] == "(":
        items, i = [], i + 1
        while True:
            while i < len(s) and s[i] == " ":
                i += 1
            if i < len(s) and s[i] == ")":
                return items, _parameters(s, i + 1)
            item, i = _bare(s, i)
            items.append(item)
            i = _parameters(s, i)
            if i >= len(s) or s[i] not in " )":
                raise SFError("bad inner list")
    return _bare(s, i)


def _bare(s: str, i: int) -> tuple[Any, int]:
    if i >= len(s):
        raise SFError("missing value")
    c = s[i]
    if c == '"':
        j, buf = i + 1, []
        while j < len(s):
            if s[j] == "\\":
                if j + 1 >= len(s) or s[j + 1] not in '"\\':
                    raise SFError("bad escape")
                buf.append(s[j + 1])
                j += 2
            elif s[j] == '"':
                return "".join(buf), j + 1
            else:
                buf.append(s[j])
                j += 1
        raise SFError("unterminated string")
    if c == "?":
        if s[i + 1:i + 2] in ("0", "1"):
            return s[i + 1] == "1", i + 2
        raise SFError("bad boolean")
    if c == ":":
        end = s.find(":", i + 1)
        if end < 0:
            raise SFError("unterminated byte sequence")
        return ("bytes", s[i + 1:end]), end + 1
    m = _NUMBER.match(s, i)
    if m and (c.isdigit() or c == "-"):
        return float(m.group()) if m.group(1) else int(m.group()), m.end()
    m = _TOKEN.match(s, i)
    if m:
        return ("token", m.group()), m.end()
    raise SFError(f"bad item at {i}")


def _parameters(s: str, i: int) -> int:
    while i < len(s) and s[i] == ";":
        i += 1
        while i < len(s) and s[i] == " ":
            i += 1
        m = _KEY.match(s, i)
        if not m:
            raise SFError("bad parameter key")
        i = m.end()
        if i < len(s) and s[i] == "=":
            _value, i = _bare(s, i + 1)
    return i


def aipref_from_text(text: str) -> dict[str, str]:
    """Per purpose, what one preferences string says ([AIPREF-VOCAB]); a parse failure
    says nothing ([RFC9651] 4.2)."""
    members = parse_sf_dictionary(text)
    tokens = {k: v[1] for k, v in members.items() if isinstance(v, tuple) and v[0] == "token"}
    return aipref_decisions({k: tokens.get(k) for k in members})
