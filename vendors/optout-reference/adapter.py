"""The harness's own reference declarer and evaluator of rights reservations (opt-out).

Written from the specifications with the standard library only; every rule cites where
it comes from:

- [TDMRep]: W3C TDM Reservation Protocol, Community Group Final Report (2024):
  "TDM File" (/.well-known/tdmrep.json), "HTTP headers", "HTML" (meta), "EPUB",
  "PDF" (XMP), "Priority" (file, then header, then embedded), "tdm-reservation"
  (0 or 1; any other value leaves the reservation unset);
- [RFC9309]: Robots Exclusion Protocol (2.2.1 user-agent line, 2.2.2 allow and disallow
  lines, 2.2.3 special characters, 2.3.1 access results, 2.5 limits);
- [RFC9651]: Structured Field Values for HTTP (3.2 dictionaries, 4.2 parsing);
  [RFC9110] 5.3 (a repeated field is one comma-separated list);
- [AIPREF-VOCAB], [AIPREF-ATTACH]: the IETF AI preferences drafts: keys ``train-ai`` and
  ``search`` with ``y``/``n``; the ``Content-Usage`` header; ``Content-Usage`` rules in
  robots.txt groups, matched like allow/disallow; combining preferences, any disallow wins;
- [PLUS]: PLUS LDF, property Data Mining (``plus:DataMining``), in XMP.

C2PA/CAWG training-mining is not read here: reading a manifest store is the C2PA
vendors' job (``provenance.read``); the check asks them.

Sibling modules: ``declaring.py``, ``evaluating.py``, ``sfv.py`` ([RFC9651]),
``robots.py`` ([RFC9309]) and ``common.py`` (what they share).
"""

from __future__ import annotations

from typing import Any

from aiii_kit import Adapter, Asset, Unsupported
from aiii_kit.optout import optout_material

from .common import FAMILIES, REFERENCE_VERSION, Decisions
from .declaring import declare
from .evaluating import combine, evaluate_aipref, evaluate_plus, evaluate_robots, evaluate_tdmrep


class OptoutReferenceAdapter(Adapter):
    version_hint = REFERENCE_VERSION

    def optout_declare(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        return declare(params)

    def optout_evaluate(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        families = [f for f in params.get("channels") or FAMILIES]
        unread = [f for f in families if f not in FAMILIES]
        families = [f for f in families if f in FAMILIES]
        if not families:
            raise Unsupported(f"the reference evaluator does not read {', '.join(unread)} (the C2PA vendors do)")
        material, body = optout_material(asset, params)
        purposes, agent, notes = list(params["purposes"]), str(params["agent"]), []
        per: dict[str, Decisions] = {}
        if "tdmrep" in families:
            per["tdmrep"] = evaluate_tdmrep(material, body, purposes, notes)
        if "aipref" in families:
            per["aipref"] = evaluate_aipref(material, purposes, agent, notes)
        if "robots" in families:
            per["robots"] = evaluate_robots(material, purposes, agent)
        if "plus" in families:
            per["plus"] = evaluate_plus(body, purposes)
        return {"decisions": combine(per, purposes),
                "channels": {f: {p: d[p]["decision"] for p in purposes} for f, d in per.items()},
                "notes": notes + [f"not read here: {f}" for f in unread]}
