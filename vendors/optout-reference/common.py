"""What the reference's modules share: its version, the families it reads, namespaces, limits."""

from __future__ import annotations

import base64
from typing import Any

from aiii_kit.optout import optout_decision

REFERENCE_VERSION = "1.2"
FAMILIES = ("tdmrep", "aipref", "robots", "content-signal", "x-robots-tag", "plus")
PLUS_NS = "http://ns.useplus.org/ldf/xmp/1.0/"
ROBOTS_PARSE_LIMIT = 500 * 1024  # [RFC9309] 2.5: parse at least 500 KiB; this parser stops there
OPF_NS = "http://www.idpf.org/2007/opf"

Decisions = dict[str, dict[str, Any]]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unknown(purposes: list[str], channel: str, why: str) -> Decisions:
    return {p: optout_decision("unknown", channel, None, why) for p in purposes}
