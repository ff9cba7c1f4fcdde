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
- [CONTENT-SIGNALS]: Cloudflare's Content Signals Policy (contentsignals.org; "Giving users
  choice with Cloudflare's new Content Signals Policy", blog.cloudflare.com, 2025-09-24):
  ``Content-Signal: search=yes, ai-train=no, ai-input=no`` in robots.txt groups;
- [X-ROBOTS-TAG]: Google Search Central, "Robots meta tag, data-nosnippet, and X-Robots-Tag
  specifications" (developers.google.com/search/docs/crawling-indexing/robots-meta-tag):
  comma-separated rules, an optional ``agent:`` prefix, case-insensitive; [NOAI]: the
  ``noai`` and ``noimageai`` rules (DeviantArt, 2022; Spawning's datadiligence reads them):
  no AI training;
- [PLUS]: PLUS LDF, property Data Mining (``plus:DataMining``), in XMP.

C2PA/CAWG training-mining is not read here: reading a manifest store is the C2PA
vendors' job (``provenance.read``); the check asks them.

Sibling modules: ``declaring.py``, ``evaluating.py``, ``sfv.py`` ([RFC9651]),
``robots.py`` ([RFC9309]), ``contentsignal.py`` ([CONTENT-SIGNALS]), ``xrobotstag.py``
([X-ROBOTS-TAG], [NOAI]) and ``common.py`` (what they share).
"""

from __future__ import annotations

from typing import Any

from aiii_kit import Adapter, Asset, Unsupported
from aiii_kit.optout import optout_material

from .common import FAMILIES, REFERENCE_VERSION, Decisions
from .contentsignal import evaluate_content_signal
from .declaring import declare
from .evaluating import combine, evaluate_aipref, evaluate_plus, evaluate_robots, evaluate_tdmrep
from .xrobotstag import evaluate_x_robots_tag


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
        if "content-signal" in families:
            per["content-signal"] = evaluate_content_signal(material, purposes, agent)
        if "x-robots-tag" in families:
            per["x-robots-tag"] = evaluate_x_robots_tag(material, purposes, agent)
        if "plus" in families:
            per["plus"] = evaluate_plus(body, purposes)
        return {"decisions": combine(per, purposes),
                "channels": {f: {p: d[p]["decision"] for p in purposes} for f, d in per.items()},
                "notes": notes + [f"not read here: {f}" for f in unread]}
