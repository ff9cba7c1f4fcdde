"""Rights reservation and opt-out helpers (optout.declare, optout.evaluate).

One intent, {purpose: "allowed" | "denied"}, written through a channel and read back
by evaluators.  The purposes and which of them each signal family can express are
the harness's mapping of the channels' vocabularies (in :mod:`aiii_kit.vocab`).
:func:`crawl` needs requests (the kit's ``optout`` extra), imported when first used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiii_kit._core import Asset, Unsupported
from aiii_kit.vocab import (
    CONTENT_SIGNAL_PURPOSES,
    OPTOUT_DECISIONS,
    OPTOUT_EXPRESSES,
    OPTOUT_PURPOSES,
    PLUS_DATA_MINING,
    PLUS_VOCAB,
    TRAINING_MINING_PURPOSES,
)

#: What a crawl keeps of a response body (robots.txt limits parsing at 500 KiB anyway).
CRAWL_MAX_BYTES = 2 * 1024 * 1024


def optout_decision(decision: str, channel: str | None = None, source: str | None = None,
                    rule: str | None = None) -> dict[str, Any]:
    """One entry of ``decisions`` in an optout.evaluate answer."""
    if decision not in OPTOUT_DECISIONS:
        raise ValueError(f"decision {decision!r} is not one of {OPTOUT_DECISIONS}")
    return {"decision": decision, "channel": channel, "source": source, "rule": rule}


def crawl(url: str, agent: str, timeout_s: float = 5.0) -> tuple[dict[str, Any], bytes]:
    """What a crawler sees for ``url``, fetched with requests as ``agent``: the origin's
    ``/robots.txt`` and ``/.well-known/tdmrep.json`` and the resource itself.

    Returns the material (the JSON form optout.evaluate also accepts inline) and the
    resource's body.  Redirects are followed up to five (RFC 9309 2.3.1.2); a failure is
    recorded as the fetch's ``error`` (``timeout``, ``too-many-redirects``,
    ``connection: ...``), never raised.
    """
    import base64
    from urllib.parse import urlsplit, urlunsplit

    import requests  # imported here: the kit itself needs only the standard library

    parts = urlsplit(url)
    origin = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    session = requests.Session()
    session.max_redirects = 5
    session.headers["User-Agent"] = agent

    def fetch(target: str) -> tuple[dict[str, Any], bytes]:
        try:
            with session.get(target, timeout=timeout_s, stream=True, allow_redirects=True) as resp:
                body = b""
                for chunk in resp.iter_content(65536):
                    body += chunk
                    if len(body) >= CRAWL_MAX_BYTES:
                        body = body[:CRAWL_MAX_BYTES]
                        break
                return {"url": resp.url, "status": resp.status_code, "headers": [[k, v] for k, v in resp.raw.headers.items()],
                        "redirects": [r.url for r in resp.history], "error": None}, body
        except requests.TooManyRedirects:
            error = "too-many-redirects"
        except requests.Timeout:
            error = "timeout"
        except requests.RequestException as exc:
            error = f"connection: {type(exc).__name__}"
        return {"url": target, "status": None, "headers": [], "redirects": [], "error": error}, b""

    robots, robots_body = fetch(origin + "/robots.txt")
    tdmrep, tdmrep_body = fetch(origin + "/.well-known/tdmrep.json")
    resource, body = fetch(url)
    robots["body_base64"] = base64.b64encode(robots_body).decode()
    tdmrep["body_base64"] = base64.b64encode(tdmrep_body).decode()
    return {"robots": robots, "tdmrep": tdmrep, "resource": resource}, body


def optout_material(asset: Asset, params: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """The material of an optout.evaluate call: inline (``params.material``, the asset is
    the resource's body) or crawled from ``params.url``."""
    if params.get("material") is not None:
        return params["material"], asset.data
    return crawl(str(params["url"]), str(params.get("agent", "*")), float(params.get("timeout_s", 5.0)))


def material_body(fetched: dict[str, Any]) -> bytes:
    """The body of a robots.txt or tdmrep.json fetch in the material."""
    import base64

    return base64.b64decode(fetched.get("body_base64") or "")


def header_values(fetched: dict[str, Any], name: str) -> list[str]:
    """Every value of one response header (case-insensitive name), in order."""
    return [str(v) for k, v in fetched.get("headers") or [] if str(k).lower() == name.lower()]



def plus_decisions(value: str | None) -> dict[str, str]:
    """Per purpose, what a ``plus:DataMining`` value (vocabulary URI or bare code) says."""
    out = dict.fromkeys(OPTOUT_PURPOSES, "unknown")
    code = (value or "").strip()
    code = code[len(PLUS_VOCAB):] if code.startswith(PLUS_VOCAB) else code
    if code not in PLUS_DATA_MINING:
        return out
    default, exceptions = PLUS_DATA_MINING[code]
    for purpose in OPTOUT_EXPRESSES["plus"]:
        out[purpose] = exceptions.get(purpose, default)
    return out


def training_mining_decisions(entries: dict[str, Any] | None) -> dict[str, str]:
    """Per purpose, what normalised training-mining entries say: ``allowed``; ``notAllowed``
    and ``constrained`` without constraint information are denied (CAWG training and data
    mining assertion); ``constrained`` with information depends on terms a machine cannot
    read here: unknown.  A missing entry and the search purpose: unknown."""
    out = dict.fromkeys(OPTOUT_PURPOSES, "unknown")
    for key, purpose in TRAINING_MINING_PURPOSES.items():
        entry = (entries or {}).get(key)
        if not isinstance(entry, dict):
            continue
        use = entry.get("use")
        if use == "allowed":
            out[purpose] = "allowed"
        elif use == "notAllowed" or (use == "constrained" and not entry.get("constraint_info")):
            out[purpose] = "denied"
    return out


def aipref_decisions(prefs: dict[str, str | None]) -> dict[str, str]:
    """Per purpose, what parsed AI-preference keys say: ``prefs`` maps each dictionary key
    to its token value (None when the value is not a token).  ``y`` allows, ``n`` denies,
    anything else is unknown; ``train-ai`` covers generative training too (the vocabulary's
    categories nest); keys are case-sensitive."""
    out = dict.fromkeys(OPTOUT_PURPOSES, "unknown")
    meaning = {"y": "allowed", "n": "denied"}
    train = meaning.get(prefs.get("train-ai") or "", "unknown")
    out["train-ai"] = out["train-genai"] = train
    out["search"] = meaning.get(prefs.get("search") or "", "unknown")
    return out


def content_signal_decisions(signals: dict[str, bool | None]) -> dict[str, str]:
    """Per purpose, what a Content-Signal says: ``signals`` maps each key (``ai-train``,
    ``ai-input``, ``search``) to True (yes), False (no) or None (not given).  Yes allows and
    no denies the key's purposes (contentsignals.org (a), (b)); a key not given neither
    grants nor restricts (c): unknown, as is every purpose no key speaks to."""
    out = dict.fromkeys(OPTOUT_PURPOSES, "unknown")
    for key, purposes in CONTENT_SIGNAL_PURPOSES.items():
        said = signals.get(key)
        for purpose in purposes:
            out[purpose] = "unknown" if said is None else "allowed" if said else "denied"
    return out


def robots_fetch_decision(fetched: dict[str, Any]) -> str | None:
    """RFC 9309 2.3.1: what the fetch of robots.txt alone decides for every path:
    ``allowed`` (unavailable: 4xx, or more than five redirects), ``denied`` (unreachable:
    5xx, timeout, network error), or None (a file to parse)."""
    if fetched.get("error") == "too-many-redirects":
        return "allowed"
    if fetched.get("error") or fetched.get("status") is None:
        return "denied"
    status = int(fetched["status"])
    if 400 <= status < 500:
        return "allowed"
    if status >= 500:
        return "denied"
    return None


def robots_answer(asset: Asset, params: dict[str, Any], library: str,
                  can_fetch: Callable[[str, str, str], tuple[bool, list[str]]]) -> dict[str, Any]:
    """A whole optout.evaluate answer for an evaluator of robots.txt alone, as a crawler
    would reach it: the material fetched (or inline), RFC 9309 2.3.1's access results for a
    robots.txt that could not be read, and ``can_fetch(text, agent, url)`` (the library's
    verdict and any notes) for the rest.  The decision is the same for every purpose asked:
    a crawler's user agent acts for one purpose."""
    if params.get("channels") and "robots" not in params["channels"]:
        raise Unsupported(f"{library} reads robots.txt only")
    material, _body = optout_material(asset, params)
    agent, purposes = str(params["agent"]), list(params["purposes"])
    fetched = material["robots"]
    preset = robots_fetch_decision(fetched)
    notes: list[str] = []
    if preset is not None:
        decision, source = preset, f"robots.txt {fetched.get('error') or fetched.get('status')}"
    else:
        ok, notes = can_fetch(material_body(fetched).decode("utf-8", "replace"), agent, material["resource"]["url"])
        decision, source = ("allowed" if ok else "denied"), f"robots.txt ({library})"
    decisions = {p: optout_decision(decision, "robots", source, library) for p in purposes}
    return {"decisions": decisions, "channels": {"robots": {p: decision for p in purposes}}, "notes": notes}
