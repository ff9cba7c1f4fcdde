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
"""

from __future__ import annotations

import base64
import html.parser
import io
import json
import re
import xml.etree.ElementTree as ET
import zipfile
from typing import Any

from aiii_kit import Adapter, AdapterError, Asset, Unsupported
from aiii_kit.optout import aipref_decisions, header_values, material_body, optout_decision, optout_material, plus_decisions
from aiii_kit.vocab import OPTOUT_EXPRESSES, OPTOUT_PURPOSES, OPTOUT_SITE_CHANNELS, TDMREP_NS_EPUB3, TDMREP_NS_XMP

REFERENCE_VERSION = "1.0"
FAMILIES = ("tdmrep", "aipref", "robots", "plus")
PLUS_NS = "http://ns.useplus.org/ldf/xmp/1.0/"
ROBOTS_PARSE_LIMIT = 500 * 1024  # [RFC9309] 2.5: parse at least 500 KiB; this parser stops there
OPF_NS = "http://www.idpf.org/2007/opf"

Decisions = dict[str, dict[str, Any]]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unknown(purposes: list[str], channel: str, why: str) -> Decisions:
    return {p: optout_decision("unknown", channel, None, why) for p in purposes}


# -- declaring ---------------------------------------------------------------------------

def _one_value(intent: dict[str, str], family: str) -> str:
    """The single value a channel with one switch for several purposes can write."""
    said = {intent[p] for p in OPTOUT_EXPRESSES[family] if p in intent}
    if not said:
        raise Unsupported(f"the intent names none of the purposes {family} expresses ({', '.join(OPTOUT_EXPRESSES[family])})")
    if len(said) > 1:
        raise Unsupported(f"{family} has one switch for {', '.join(OPTOUT_EXPRESSES[family])}; the intent gives them different values")
    return said.pop()


PAGE = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>aiii-interop test page</title>{meta}</head>\n<body><p>A page of the opt-out test site.</p></body></html>\n"


def _epub(version: str, reservation: str, policy: str | None) -> bytes:
    """A minimal EPUB ([TDMRep] "EPUB": EPUB 2 uses meta name/content, EPUB 3 the
    ``tdm:`` prefix bound to the namespace with '#')."""
    if version == "3":
        meta = f'<meta property="tdm:reservation">{reservation}</meta>'
        if policy:
            meta += f'<meta property="tdm:policy">{policy}</meta>'
        package = (f'<package xmlns="{OPF_NS}" version="3.0" unique-identifier="id" prefix="tdm: {TDMREP_NS_EPUB3}">'
                   '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="id">urn:uuid:aiii-optout</dc:identifier>'
                   f'<dc:title>aiii-interop</dc:title><dc:language>en</dc:language>{meta}</metadata>')
    else:
        meta = f'<meta name="tdm-reservation" content="{reservation}"/>'
        if policy:
            meta += f'<meta name="tdm-policy" content="{policy}"/>'
        package = (f'<package xmlns="{OPF_NS}" version="2.0" unique-identifier="id">'
                   '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="id">urn:uuid:aiii-optout</dc:identifier>'
                   f'<dc:title>aiii-interop</dc:title><dc:language>en</dc:language>{meta}</metadata>')
    package += ('<manifest><item id="c" href="c.xhtml" media-type="application/xhtml+xml"/></manifest>'
                '<spine><itemref idref="c"/></spine></package>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")  # stored, first
        z.writestr("META-INF/container.xml",
                   '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
                   '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>')
        z.writestr("OEBPS/content.opf", '<?xml version="1.0" encoding="utf-8"?>' + package)
        z.writestr("OEBPS/c.xhtml", '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>c</title></head><body><p>text</p></body></html>')
    return buf.getvalue()


def xmp_packet(properties: str, namespaces: dict[str, str]) -> bytes:
    """An XMP packet with one rdf:Description holding ``properties`` (attributes)."""
    ns = " ".join(f'xmlns:{k}="{v}"' for k, v in namespaces.items())
    return ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            f'<rdf:Description rdf:about="" {ns} {properties}/></rdf:RDF></x:xmpmeta><?xpacket end="w"?>').encode()


def _pdf(reservation: str, policy: str | None, namespace: str = TDMREP_NS_XMP) -> bytes:
    """A one-page PDF whose catalogue's /Metadata stream is XMP ([TDMRep] "PDF")."""
    props = f'tdm:reservation="{reservation}"' + (f' tdm:policy="{policy}"' if policy else "")
    xmp = xmp_packet(props, {"tdm": namespace})
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /Metadata 4 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        b"<< /Type /Metadata /Subtype /XML /Length " + str(len(xmp)).encode() + b" >>\nstream\n" + xmp + b"\nendstream",
    ]
    out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def declare(params: dict[str, Any]) -> dict[str, Any]:
    channel = params["channel"]
    intent = dict(params["intent"]["purposes"])
    policy = params["intent"].get("policy")
    family = OPTOUT_SITE_CHANNELS[channel]
    files: list[dict[str, Any]] = []
    notes: list[str] = []
    html_page = {"path": "/article.html", "media_type": "text/html; charset=utf-8"}
    if family == "tdmrep":
        reservation = "1" if _one_value(intent, "tdmrep") == "denied" else "0"
        policy = policy if reservation == "1" else None  # [TDMRep] tdm-policy: meaningful with a reservation
        if channel == "tdmrep-file":
            rule: dict[str, Any] = {"location": "/*", "tdm-reservation": int(reservation)}
            if policy:
                rule["tdm-policy"] = policy
            files.append({"path": "/.well-known/tdmrep.json", "media_type": "application/json",
                          "body": json.dumps([rule], indent=1).encode()})
            files.append({**html_page, "body": PAGE.format(meta="").encode()})
        elif channel == "tdmrep-header":
            headers = [["tdm-reservation", reservation]] + ([["tdm-policy", policy]] if policy else [])
            files.append({**html_page, "headers": headers, "body": PAGE.format(meta="").encode()})
        elif channel == "tdmrep-html":
            meta = f'<meta name="tdm-reservation" content="{reservation}">'
            meta += f'<meta name="tdm-policy" content="{policy}">' if policy else ""
            files.append({**html_page, "body": PAGE.format(meta=meta).encode()})
        elif channel in ("tdmrep-epub2", "tdmrep-epub3"):
            files.append({"path": "/book.epub", "media_type": "application/epub+zip",
                          "body": _epub(channel[-1], reservation, policy)})
        else:
            files.append({"path": "/paper.pdf", "media_type": "application/pdf", "body": _pdf(reservation, policy)})
    elif channel == "aipref-header":
        files.append({**html_page, "headers": [["Content-Usage", _aipref_value(intent)]], "body": PAGE.format(meta="").encode()})
    elif channel == "aipref-robots":
        # [AIPREF-ATTACH]: a Content-Usage rule in a robots.txt group; no path: the whole site
        files.append({"path": "/robots.txt", "media_type": "text/plain",
                      "body": f"User-agent: *\nAllow: /\nContent-Usage: {_aipref_value(intent)}\n".encode()})
        files.append({**html_page, "body": PAGE.format(meta="").encode()})
    else:  # robots
        agents = params.get("agents") or {}
        lines = []
        for purpose in OPTOUT_PURPOSES:
            if purpose not in intent:
                continue
            if not agents.get(purpose):
                raise AdapterError(f"robots: no user agents given for {purpose}")
            lines += [f"User-agent: {a}" for a in agents[purpose]]
            lines += ["Disallow: /" if intent[purpose] == "denied" else "Allow: /", ""]
        files.append({"path": "/robots.txt", "media_type": "text/plain", "body": "\n".join(lines).encode()})
        files.append({**html_page, "body": PAGE.format(meta="").encode()})
    resource = params.get("resource") or next(f["path"] for f in files if f["path"] not in ("/robots.txt", "/.well-known/tdmrep.json"))
    if resource not in [f["path"] for f in files]:
        for f in files:  # the resource the harness asked for carries what the page would
            if f["path"] not in ("/robots.txt", "/.well-known/tdmrep.json"):
                f["path"] = resource
                break
    out = []
    for f in files:
        entry = {"path": f["path"], "media_type": f["media_type"], "headers": [["Content-Type", f["media_type"]], *f.get("headers", [])],
                 "body_base64": _b64(f["body"])}
        out.append(entry)
    return {"channel": channel, "resource": resource, "files": out, "notes": notes}


def _aipref_value(intent: dict[str, str]) -> str:
    """[AIPREF-VOCAB] keys; train-genai has no key of its own: it must agree with train-ai."""
    items = []
    train = {intent[p] for p in ("train-ai", "train-genai") if p in intent}
    if len(train) > 1:
        raise Unsupported("AI preferences have one train-ai key for all AI training; the intent splits train-ai and train-genai")
    if train:
        items.append("train-ai=" + ("n" if train.pop() == "denied" else "y"))
    if "search" in intent:
        items.append("search=" + ("n" if intent["search"] == "denied" else "y"))
    if not items:
        raise Unsupported("the intent names none of the purposes AI preferences express (train-ai, search)")
    return ", ".join(items)


# -- RFC 9651 dictionaries (the subset of bare items preferences use, strictly parsed) ----

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


# -- RFC 9309 robots.txt ------------------------------------------------------------------

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
        elif groups and field in ("allow", "disallow", "content-usage"):
            groups[-1][1].append((field, value))
            last_was_agent = False
        else:
            last_was_agent = False if field in ("allow", "disallow", "content-usage") else last_was_agent
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


def robots_allowed(text: str, agent: str, path: str) -> tuple[bool, str]:
    """[RFC9309] 2.2.2: the longest matching allow/disallow rule wins; on a tie allow
    (the least restrictive); no match allows; /robots.txt is always allowed."""
    if path == "/robots.txt":
        return True, "2.2.2: /robots.txt is implicitly allowed"
    rules, group = group_rules(text, agent)
    best: tuple[int, bool, str] | None = None
    for field, value in rules:
        if field not in ("allow", "disallow") or not value:
            continue  # an empty disallow allows everything: it matches nothing
        if pattern_matches(value, path):
            candidate = (len(value), field == "allow", f"{field}: {value}")
            if best is None or candidate[:2] > best[:2]:
                best = candidate
    if best is None:
        return True, f"{group}: no rule matches (2.2.2)"
    return best[1], f"{group}: {best[2]} is the longest match (2.2.2)"


# -- evaluating ---------------------------------------------------------------------------

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
