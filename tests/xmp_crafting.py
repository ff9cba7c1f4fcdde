"""Crafted XMP for the metadata vendors' tests: packets, JPEG APP1 and PNG iTXt carriers,
extended XMP, and entity attacks (shared by the metadata matrix and the vendors' own tests)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

JPEG_XMP = b"http://ns.adobe.com/xap/1.0/\x00"
JPEG_EXT_XMP = b"http://ns.adobe.com/xmp/extension/\x00"
EXT_GUID = "0123456789ABCDEF0123456789ABCDEF"


def xmp_packet(title: str, doctype: str = "", main_attrs: str = "") -> bytes:
    return (
        "<?xpacket begin='\ufeff' id='W5M0MpCehiHzreSzNTczkc9d'?>\n"
        f"{doctype}\n"
        "<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>"
        "<rdf:Description rdf:about='' xmlns:dc='http://purl.org/dc/elements/1.1/' "
        f"xmlns:xmpNote='http://ns.adobe.com/xmp/note/' {main_attrs}>"
        f"<dc:title><rdf:Alt><rdf:li xml:lang='x-default'>{title}</rdf:li></rdf:Alt></dc:title>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>\n<?xpacket end='w'?>"
    ).encode()


def with_jpeg_app1(jpeg: bytes, *bodies: bytes) -> bytes:
    segments = b"".join(b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body for body in bodies)
    return jpeg[:2] + segments + jpeg[2:]


def with_png_itxt(png: bytes, text: bytes) -> bytes:
    assert png[12:16] == b"IHDR"
    data = b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + text
    chunk = struct.pack(">I", len(data)) + b"iTXt" + data + struct.pack(">I", zlib.crc32(b"iTXt" + data))
    return png[:33] + chunk + png[33:]


def with_extended_xmp(jpeg: bytes, extension: bytes) -> bytes:
    main = xmp_packet("main title", main_attrs=f"xmpNote:HasExtendedXMP='{EXT_GUID}'")
    ext = JPEG_EXT_XMP + EXT_GUID.encode() + struct.pack(">II", len(extension), 0) + extension
    return with_jpeg_app1(jpeg, JPEG_XMP + main, ext)


def hostile_doctype(kind: str, target: str) -> tuple[str, str]:
    """(DOCTYPE, title text referencing it) for one kind of entity attack."""
    if kind == "external-entity":
        return f'<!DOCTYPE x:xmpmeta [<!ENTITY xxe SYSTEM "{target}">]>', "before &xxe; after"
    if kind == "external-dtd":
        return f'<!DOCTYPE x:xmpmeta SYSTEM "{target}">', "plain"
    if kind == "parameter-entity":
        return f'<!DOCTYPE x:xmpmeta [<!ENTITY % p SYSTEM "{target}"> %p;]>', "plain"
    lol = "<!ENTITY l0 'lol'>" + "".join(f"<!ENTITY l{i} '{f'&l{i - 1};' * 10}'>" for i in range(1, 10))
    return f"<!DOCTYPE x:xmpmeta [{lol}]>", "&l9;"


def _leak_markers(marker: str) -> list[str]:
    found = [marker]
    passwd = Path("/etc/passwd")
    if passwd.is_file():
        found += [line for line in passwd.read_text(errors="replace").splitlines() if line.startswith("root:")]
    return found
