"""Spawning's datadiligence as an opt-out evaluator: the X-Robots-Tag ``noai`` and
``noimageai`` rules, the ``tdm-reservation`` header (TDMRep) and the C2PA
``c2pa.training-mining`` assertion, each read by the library's own rule class.

Offline only.  The adapter fetches like a crawler (the kit's ``crawl``, requests) and hands
the rules what a requests user would: the response's headers as a ``CaseInsensitiveDict``
(repeated fields joined with ", ", as ``requests.Response.headers`` joins them) and the
body's bytes.  It never gives a rule a URL (``XRobotsTagHeader``, ``TDMRepHeader`` and
``C2PAMetadataRule`` would fetch it themselves) and never calls ``datadiligence.is_allowed``:
its ``preprocess`` evaluator posts URLs to Spawning's API, so it is deregistered at import.

Each rule answers one yes or no; the adapter gives it for the purposes its family can
express (``aiii_kit.vocab.OPTOUT_EXPRESSES``) and ``unknown`` for the rest.
"""

from __future__ import annotations

import contextlib
import io
import threading
from typing import Any

import requests.structures
from aiii_kit import Adapter, Asset, Unsupported
from aiii_kit.optout import optout_decision, optout_material
from aiii_kit.vocab import OPTOUT_EXPRESSES

# Importing the package runs its load_defaults(), which builds the Spawning API rule; that
# rule prints a notice to stdout when SPAWNING_OPTS_KEY is unset.  Nothing goes online at
# import (measured with an audit hook: no connect, no DNS lookup).
with contextlib.redirect_stdout(io.StringIO()):
    import datadiligence  # type: ignore[import-untyped]
    import datadiligence.rules._c2pa as dd_c2pa  # type: ignore[import-untyped]
    from datadiligence.rules import C2PAMetadataRule, TDMRepHeader, XRobotsTagHeader  # type: ignore[import-untyped]

if "preprocess" in datadiligence.list_evaluators():
    datadiligence.deregister_evaluator("preprocess")  # the Spawning API (online): unreachable from here

_CALL = threading.local()


class _RuleLog:
    """Stands in for ``logging`` inside datadiligence's C2PA rule.  The rule reports a file
    it cannot read with ``logging.error``, which would configure the root logger of the
    whole harness process (``logging.basicConfig``); its message becomes a note instead."""

    @staticmethod
    def error(msg: object, *args: object, **kwargs: object) -> None:
        notes = getattr(_CALL, "notes", None)
        if notes is not None:
            notes.append(f"datadiligence C2PAMetadataRule: {msg}")


dd_c2pa.logging = _RuleLog()

#: The signal families datadiligence reads, each through one rule class.
FAMILIES = ("tdmrep", "x-robots-tag", "c2pa")


def response_headers(fetched: dict[str, Any]) -> requests.structures.CaseInsensitiveDict[str]:
    """The headers as ``requests.Response.headers`` has them: case-insensitive names,
    repeated fields joined with ", " (RFC 9110 5.3)."""
    out: requests.structures.CaseInsensitiveDict[str] = requests.structures.CaseInsensitiveDict()
    for name, value in fetched.get("headers") or []:
        out[str(name)] = f"{out[str(name)]}, {value}" if str(name) in out else str(value)
    return out


def _rule_verdict(family: str, headers: requests.structures.CaseInsensitiveDict[str], body: bytes, agent: str,
                  notes: list[str]) -> tuple[str, str, str]:
    """(decision for the family's purposes, source, the rule asked)."""
    if family == "x-robots-tag":
        value = headers.get("X-Robots-Tag")
        ok = XRobotsTagHeader(user_agent=agent).is_allowed(headers=headers)
        return ("allowed" if ok else "denied"), f"X-Robots-Tag {value!r}" if value else "no X-Robots-Tag", \
            "XRobotsTagHeader.is_allowed(headers=...)"
    if family == "tdmrep":
        value = headers.get("tdm-reservation")
        ok = TDMRepHeader().is_allowed(headers=headers)
        return ("allowed" if ok else "denied"), f"tdm-reservation {value!r}" if value else "no tdm-reservation header", \
            "TDMRepHeader.is_allowed(headers=...)"
    _CALL.notes = notes
    try:
        ok = C2PAMetadataRule().is_allowed(body=body)
    except ValueError as exc:  # the body is not an image Pillow opens: the rule refuses it
        notes.append(f"datadiligence C2PAMetadataRule: {exc}")
        return "unknown", "the resource is not an image", "C2PAMetadataRule.is_allowed(body=...)"
    finally:
        _CALL.notes = None
    return ("allowed" if ok else "denied"), "c2pa.training-mining in the resource's manifest", "C2PAMetadataRule.is_allowed(body=...)"


class DatadiligenceAdapter(Adapter):
    def optout_evaluate(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        families = [f for f in (params.get("channels") or FAMILIES) if f in FAMILIES]
        if not families:
            raise Unsupported("datadiligence reads X-Robots-Tag (noai, noimageai), the tdm-reservation header and C2PA"
                              " training-mining only")
        material, body = optout_material(asset, params)
        resource = material["resource"]
        purposes, agent = list(params["purposes"]), str(params["agent"])
        notes: list[str] = []
        per: dict[str, dict[str, dict[str, Any]]] = {}
        headers = response_headers(resource)
        for family in families:
            if resource.get("status") is None or not headers:
                decision, source, rule = "unknown", f"no response ({resource.get('error')})", "nothing to hand datadiligence"
            else:
                decision, source, rule = _rule_verdict(family, headers, body, agent, notes)
            per[family] = {p: optout_decision(decision if p in OPTOUT_EXPRESSES[family] else "unknown", family, source, rule)
                           for p in purposes}
        return {"decisions": _combine(per, purposes), "channels": {f: {p: d[p]["decision"] for p in purposes} for f, d in per.items()},
                "notes": notes}


def _combine(per: dict[str, dict[str, dict[str, Any]]], purposes: list[str]) -> dict[str, dict[str, Any]]:
    """As datadiligence's own evaluators combine rules: any rule that says no wins."""
    out = {}
    for p in purposes:
        said = [d[p] for d in per.values()]
        out[p] = (next((s for s in said if s["decision"] == "denied"), None)
                  or next((s for s in said if s["decision"] == "allowed"), None)
                  or optout_decision("unknown", None, None, "no rule datadiligence has speaks to this purpose"))
    return out
