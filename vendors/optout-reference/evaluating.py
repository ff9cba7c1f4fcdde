"""Evaluating: the decisions the material expresses, per family, and their combination."""

from __future__ import annotations

import html.parser
import io
import json
import re
import xml.etree.ElementTree as ET
import zipfile
from typing import Any

from aiii_kit.optout import header_values, material_body, optout_decision, plus_decisions
from aiii_kit.vocab import OPTOUT_EXPRESSES, TDMREP_NS_EPUB3, TDMREP_NS_XMP

from .common import OPF_NS, PLUS_NS, Decisions, _unknown
from .robots import group_rules, pattern_matches, robots_allowed, robots_text, url_path
from .sfv import SFError, aipref_from_text


class _Meta(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta":
            a = dict(attrs)
            name = (a.get("name") or "").lower()
            if name in ("tdm-reservation", "tdm-policy") and name not in self.meta:
                self.meta[name] = a.get("content") or ""


def _reservation(value: Any) -> str | None:
    """[TDMRep] tdm-reservation: 0 or 1; anything else leaves it unset (None)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value in (0, 1):
        return str(value)
    if isinstance(value, str) and value.strip() in ("0", "1"):
        return value.strip()
    return None


def _xmp_root(data: bytes) -> ET.Element | None:
    m = re.search(rb"<x:xmpmeta[\s>].*?</x:xmpmeta>", data, re.DOTALL)
    if not m:
        return None
    try:
        return ET.fromstring(m.group())  # noqa: S314 - no DTDs are read: ElementTree does not fetch entities
    except ET.ParseError:
        return None


def _xmp_property(root: ET.Element, namespace: str, name: str) -> str | None:
    tag = f"{{{namespace}}}{name}"
    for el in root.iter():
        if tag in el.attrib:
            return el.attrib[tag]
        if el.tag == tag:
            return (el.text or "").strip() or None
    return None


def _embedded_tdmrep(body: bytes, content_type: str) -> tuple[str | None, str]:
    """The reservation in the resource itself and where it was found."""
    if body.startswith(b"%PDF"):
        root = _xmp_root(body)
        value = _xmp_property(root, TDMREP_NS_XMP, "reservation") if root is not None else None
        return _reservation(value), f"PDF XMP tdm:reservation in {TDMREP_NS_XMP} ([TDMRep] PDF)"
    if body[:4] == b"PK\x03\x04":
        return _epub_reservation(body)
    if "html" in content_type or body.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html")):
        parser = _Meta()
        parser.feed(body.decode("utf-8", "replace"))
        return _reservation(parser.meta.get("tdm-reservation")), "HTML <meta name=\"tdm-reservation\"> ([TDMRep] HTML)"
    return None, "no embedded carrier"


def _epub_reservation(body: bytes) -> tuple[str | None, str]:
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as z:
            container = ET.fromstring(z.read("META-INF/container.xml"))  # noqa: S314
            rootfile = next(el.get("full-path") for el in container.iter() if el.tag.endswith("rootfile"))
            opf = ET.fromstring(z.read(str(rootfile)))  # noqa: S314
    except (KeyError, StopIteration, zipfile.BadZipFile, ET.ParseError):
        return None, "EPUB without a readable package document"
    version = opf.get("version", "")
    metas = [el for el in opf.iter() if el.tag == f"{{{OPF_NS}}}meta"]
    if version.startswith("3"):
        prefixes = dict(zip(*[iter(opf.get("prefix", "").split())] * 2, strict=False))
        bound = [p.rstrip(":") for p, ns in prefixes.items() if ns == TDMREP_NS_EPUB3]
        for el in metas:
            prop = el.get("property", "")
            if any(prop == f"{p}:reservation" for p in bound):
                return _reservation(el.text or ""), f"EPUB 3 meta property bound to {TDMREP_NS_EPUB3} ([TDMRep] EPUB)"
        return None, f"EPUB 3: no meta property in {TDMREP_NS_EPUB3} ([TDMRep] EPUB)"
    for el in metas:
        if el.get("name") == "tdm-reservation":
            return _reservation(el.get("content")), "EPUB 2 <meta name=\"tdm-reservation\"> ([TDMRep] EPUB)"
    return None, "EPUB 2: no tdm-reservation meta"


def _tdmrep_file(material: dict[str, Any], path: str, notes: list[str]) -> tuple[str | None, str] | None:
    """[TDMRep] TDM File: the rule whose location matches most specifically (the longest
    pattern) decides; None when the file is absent or unusable."""
    fetched = material["tdmrep"]
    if fetched.get("status") != 200:
        return None
    try:
        rules = json.loads(material_body(fetched).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        notes.append("tdmrep.json is not JSON: ignored")
        return None
    if not isinstance(rules, list):
        notes.append("tdmrep.json is not an array: ignored")
        return None
    best: tuple[int, dict[str, Any]] | None = None
    for rule in rules:
        loc = rule.get("location") if isinstance(rule, dict) else None
        if isinstance(loc, str) and pattern_matches(loc, path) and (best is None or len(loc) > best[0]):
            best = (len(loc), rule)
    if best is None:
        return None
    return _reservation(best[1].get("tdm-reservation")), f"/.well-known/tdmrep.json location {best[1]['location']}"


def evaluate_tdmrep(material: dict[str, Any], body: bytes, purposes: list[str], notes: list[str]) -> Decisions:
    """[TDMRep] Priority: the TDM file at the origin, then the HTTP header, then the
    carrier embedded in the resource; an unset value gives way to the next."""
    path = url_path(material["resource"]["url"])
    found: list[tuple[str | None, str]] = []
    file_says = _tdmrep_file(material, path, notes)
    if file_says:
        found.append(file_says)
    headers = header_values(material["resource"], "tdm-reservation")
    if headers:
        found.append((_reservation(headers[0]), "HTTP header tdm-reservation ([TDMRep] HTTP headers)"))
    if material["resource"].get("status") == 200:
        content_type = ",".join(header_values(material["resource"], "content-type")).lower()
        found.append(_embedded_tdmrep(body, content_type))
    elif material["resource"].get("error"):
        notes.append(f"resource not fetched: {material['resource']['error']}")
    for value, where in found:
        if value is None:
            continue
        decision = "denied" if value == "1" else "allowed"
        out = {p: optout_decision(decision if p in OPTOUT_EXPRESSES["tdmrep"] else "unknown", "tdmrep", where,
                                  f"[TDMRep] tdm-reservation={value}; priority file > header > embedded")
               for p in purposes}
        return out
    why = "; ".join(w for _, w in found) or "no TDMRep carrier"
    return _unknown(purposes, "tdmrep", f"[TDMRep] no tdm-reservation of 0 or 1 ({why})")


def evaluate_aipref(material: dict[str, Any], purposes: list[str], agent: str, notes: list[str]) -> Decisions:
    """[AIPREF-ATTACH]: the Content-Usage header and robots.txt Content-Usage rules; when
    both speak, any disallow wins ([AIPREF-VOCAB] combining)."""
    statements: list[tuple[dict[str, str], str]] = []
    headers = header_values(material["resource"], "content-usage")
    if headers:
        joined = ", ".join(headers)  # [RFC9110] 5.3
        try:
            statements.append((aipref_from_text(joined), f"Content-Usage header {joined!r}"))
        except SFError as exc:
            notes.append(f"Content-Usage header ignored: not a structured-field dictionary ({exc}) [RFC9651 4.2]")
    robots = material["robots"]
    if robots_fetch_robots_ok(robots):
        path = url_path(material["resource"]["url"])
        rules, group = group_rules(robots_text(robots), agent)
        best: tuple[int, str] | None = None
        for field, value in rules:
            if field != "content-usage":
                continue
            scope, prefs = ("/", value)
            if value.startswith("/"):
                scope, _, prefs = value.partition(" ")
            if pattern_matches(scope, path) and (best is None or len(scope) >= best[0]):
                best = (len(scope), prefs.strip())
        if best is not None:
            try:
                statements.append((aipref_from_text(best[1]), f"robots.txt {group}: Content-Usage {best[1]!r} (longest match)"))
            except SFError as exc:
                notes.append(f"robots.txt Content-Usage ignored: {exc} [RFC9651 4.2]")
    out: Decisions = {}
    for p in purposes:
        said = [(s[p], where) for s, where in statements if s[p] != "unknown"]
        denied = [w for d, w in said if d == "denied"]
        if denied:
            out[p] = optout_decision("denied", "aipref", denied[0], "[AIPREF-VOCAB] any disallow wins")
        elif said:
            out[p] = optout_decision("allowed", "aipref", said[0][1], "[AIPREF-VOCAB] y")
        else:
            out[p] = optout_decision("unknown", "aipref", None, "[AIPREF-VOCAB] no preference for this purpose")
    return out


def robots_fetch_robots_ok(fetched: dict[str, Any]) -> bool:
    return fetched.get("status") == 200 and not fetched.get("error")


def evaluate_robots(material: dict[str, Any], purposes: list[str], agent: str) -> Decisions:
    fetched = material["robots"]
    status, error = fetched.get("status"), fetched.get("error")
    if error == "too-many-redirects":
        return {p: optout_decision("allowed", "robots", "robots.txt", "[RFC9309] 2.3.1.2: over five redirects, unavailable")
                for p in purposes}
    if error or status is None or status >= 500:
        return {p: optout_decision("denied", "robots", f"robots.txt: {error or status}",
                                   "[RFC9309] 2.3.1.4: unreachable, complete disallow") for p in purposes}
    if 400 <= status < 500:
        return {p: optout_decision("allowed", "robots", f"robots.txt: {status}", "[RFC9309] 2.3.1.3: unavailable, any path")
                for p in purposes}
    ok, why = robots_allowed(robots_text(fetched), agent, url_path(material["resource"]["url"]))
    return {p: optout_decision("allowed" if ok else "denied", "robots", f"robots.txt {why}", "[RFC9309] 2.2") for p in purposes}


def evaluate_plus(body: bytes, purposes: list[str]) -> Decisions:
    root = _xmp_root(body)
    value = _xmp_property(root, PLUS_NS, "DataMining") if root is not None else None
    said = plus_decisions(value)
    where = f"XMP plus:DataMining {value}" if value else None
    return {p: optout_decision(said[p], "plus", where, "[PLUS] Data Mining" if value else "[PLUS] no plus:DataMining")
            for p in purposes}


def combine(per_family: dict[str, Decisions], purposes: list[str]) -> Decisions:
    """Across families (the harness's rule, no spec combines them): any denial wins, then
    any allowance; otherwise unknown."""
    out: Decisions = {}
    for p in purposes:
        answers = [d[p] for d in per_family.values()]
        pick = (next((a for a in answers if a["decision"] == "denied"), None)
                or next((a for a in answers if a["decision"] == "allowed"), None))
        out[p] = pick or optout_decision("unknown", None, None, "no channel speaks to this purpose")
    return out
