"""Declaring: the material that expresses an intent in each channel."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from aiii_kit import AdapterError, Unsupported
from aiii_kit.vocab import (
    CONTENT_SIGNAL_PURPOSES,
    OPTOUT_EXPRESSES,
    OPTOUT_PURPOSES,
    OPTOUT_SITE_CHANNELS,
    TDMREP_NS_EPUB3,
    TDMREP_NS_XMP,
)

from .common import OPF_NS, _b64


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
    elif channel == "content-signal":
        # [CONTENT-SIGNALS]: the line sits in the group every crawler reads; crawling stays allowed
        files.append({"path": "/robots.txt", "media_type": "text/plain",
                      "body": f"User-agent: *\nContent-Signal: {_content_signal_value(intent)}\nAllow: /\n".encode()})
        files.append({**html_page, "body": PAGE.format(meta="").encode()})
    elif channel == "x-robots-tag":
        # [X-ROBOTS-TAG], [NOAI]: one switch for AI training; "all" is the default, written out
        value = "noai, noimageai" if _one_value(intent, "x-robots-tag") == "denied" else "all"
        files.append({**html_page, "headers": [["X-Robots-Tag", value]], "body": PAGE.format(meta="").encode()})
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


def _preference_value(intent: dict[str, str], name: str, keys: dict[str, tuple[str, ...]], yes: str, no: str) -> str:
    """A preferences line, ``key=yes|no`` for each key whose purposes the intent names.  A
    key that speaks for several purposes (one training key for train-ai and train-genai)
    needs them to agree: a split intent is refused, not rounded."""
    items = []
    for key, purposes in keys.items():
        said = {intent[p] for p in purposes if p in intent}
        if len(said) > 1:
            raise Unsupported(f"{name}: one {key} key for {' and '.join(purposes)}; the intent gives them different values")
        if said:
            items.append(f"{key}=" + (no if said.pop() == "denied" else yes))
    if not items:
        named = ", ".join(p for purposes in keys.values() for p in purposes)
        raise Unsupported(f"the intent names none of the purposes {name} can express ({named})")
    return ", ".join(items)


def _aipref_value(intent: dict[str, str]) -> str:
    """[AIPREF-VOCAB] keys; train-genai has no key of its own: it must agree with train-ai."""
    return _preference_value(intent, "AI preferences", {"train-ai": ("train-ai", "train-genai"), "search": ("search",)}, "y", "n")


def _content_signal_value(intent: dict[str, str]) -> str:
    """[CONTENT-SIGNALS] keys: ai-train (all AI training: train-ai and train-genai must
    agree), search, ai-input (inference); data mining has no key."""
    return _preference_value(intent, "Content-Signal", CONTENT_SIGNAL_PURPOSES, "yes", "no")
