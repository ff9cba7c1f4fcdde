"""The harness's own reference XMP reader (consumer only).

Finds the XMP packet in JPEG (APP1, with ExtendedXMP), PNG (iTXt ``XML:com.adobe.xmp``),
WebP (RIFF ``XMP `` chunk) and TIFF (IFD0 tag 700), parses it with lxml with entity
resolution, DTD loading and network access off, and extracts the canonical fields.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from typing import Any

from aiii_kit import Adapter, AdapterError, Asset, Unsupported
from aiii_kit.metadata import identifier_from_bag
from lxml import etree

READER_VERSION = "1.0"
MAX_PACKET = 16 * 1024 * 1024

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
DC = "http://purl.org/dc/elements/1.1/"
XMP_NOTE = "http://ns.adobe.com/xmp/note/"
#: xmp:Identifier, an rdf:Bag whose ``<SCHEME>:<value>`` items hold iscc, isrc and iswc.
XMP_IDENTIFIER = "{http://ns.adobe.com/xap/1.0/}Identifier"

#: Canonical field -> (namespace URI, local name, kind): "text" simple value, "seq"
#: first rdf:li, "alt" the x-default rdf:li.
PROPERTIES: dict[str, tuple[str, str, str]] = {
    "digital_source_type": ("http://iptc.org/std/Iptc4xmpExt/2008-02-29/", "DigitalSourceType", "text"),
    "data_mining": ("http://ns.useplus.org/ldf/xmp/1.0/", "DataMining", "text"),
    "creator": (DC, "creator", "seq"),
    "copyright_notice": (DC, "rights", "alt"),
    "web_statement": ("http://ns.adobe.com/xap/1.0/rights/", "WebStatement", "text"),
    "title": (DC, "title", "alt"),
    "description": (DC, "description", "alt"),
}

JPEG_XMP = b"http://ns.adobe.com/xap/1.0/\x00"
JPEG_EXT_XMP = b"http://ns.adobe.com/xmp/extension/\x00"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_KEYWORD = b"XML:com.adobe.xmp"


# -- locating the packet ----------------------------------------------------------


def jpeg_packets(data: bytes) -> list[bytes]:
    """The standard XMP packet and, when present, the reassembled ExtendedXMP."""
    if not data.startswith(b"\xff\xd8"):
        raise AdapterError("not a JPEG file")
    pos, main = 2, None
    extended: dict[bytes, dict[int, bytes]] = {}
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise AdapterError(f"JPEG marker expected at offset {pos}")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            pos += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, start of scan: no metadata after
            break
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if length < 2 or pos + 2 + length > len(data):
            raise AdapterError(f"truncated JPEG segment at offset {pos}")
        body = data[pos + 4 : pos + 2 + length]
        if marker == 0xE1 and body.startswith(JPEG_XMP) and main is None:
            main = body[len(JPEG_XMP) :]
        elif marker == 0xE1 and body.startswith(JPEG_EXT_XMP) and len(body) >= len(JPEG_EXT_XMP) + 40:
            head = len(JPEG_EXT_XMP)
            guid = body[head : head + 32]
            _total, offset = struct.unpack(">II", body[head + 32 : head + 40])
            extended.setdefault(guid, {})[offset] = body[head + 40 :]
        pos += 2 + length
    if main is None:
        return []
    packets = [main]
    wanted = _extended_guid(main)
    if wanted is not None and wanted in extended:
        chunks = extended[wanted]
        packets.append(b"".join(chunks[k] for k in sorted(chunks)))
    return packets


def _extended_guid(packet: bytes) -> bytes | None:
    """The ``xmpNote:HasExtendedXMP`` GUID named by the standard packet, if any."""
    try:
        root = parse_packet(packet)
    except AdapterError:
        return None
    qname = f"{{{XMP_NOTE}}}HasExtendedXMP"
    for desc in _descriptions(root):
        value = desc.get(qname)
        if value is None:
            node = desc.find(qname)
            value = node.text if node is not None else None
        if value is not None:
            guid = value.strip().encode("ascii", "replace")
            return guid if len(guid) == 32 else None
    return None


def png_packets(data: bytes) -> list[bytes]:
    """The text of the first iTXt chunk with keyword ``XML:com.adobe.xmp``."""
    if not data.startswith(PNG_SIGNATURE):
        raise AdapterError("not a PNG file")
    pos = len(PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if len(body) < length:
            raise AdapterError(f"truncated PNG chunk {kind!r}")
        if kind == b"iTXt" and body.startswith(PNG_KEYWORD + b"\x00"):
            rest = body[len(PNG_KEYWORD) + 1 :]
            if len(rest) < 2:
                raise AdapterError("truncated iTXt chunk")
            compressed, method = rest[0], rest[1]
            # language tag and translated keyword, both NUL-terminated
            parts = rest[2:].split(b"\x00", 2)
            if len(parts) < 3:
                raise AdapterError("malformed iTXt chunk")
            text = parts[2]
            if compressed:
                if method != 0:
                    raise AdapterError(f"unknown iTXt compression method {method}")
                inflater = zlib.decompressobj()
                try:
                    text = inflater.decompress(text, MAX_PACKET)
                except zlib.error as exc:
                    raise AdapterError(f"bad compressed iTXt: {exc}") from exc
                if inflater.unconsumed_tail:
                    raise AdapterError("compressed XMP packet over the size limit")
            return [text]
        if kind == b"IEND":
            break
        pos += 12 + length
    return []


def webp_packets(data: bytes) -> list[bytes]:
    """The payload of the RIFF ``XMP `` chunk."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise AdapterError("not a WebP file")
    end = min(len(data), 8 + struct.unpack("<I", data[4:8])[0])
    pos = 12
    while pos + 8 <= end:
        kind, size = struct.unpack("<4sI", data[pos : pos + 8])
        if pos + 8 + size > end:
            raise AdapterError(f"truncated WebP chunk {kind!r}")
        if kind == b"XMP ":
            return [data[pos + 8 : pos + 8 + size]]
        pos += 8 + size + (size & 1)
    return []


def tiff_packets(data: bytes) -> list[bytes]:
    """The value of tag 700 (XMLPacket) in IFD0; classic TIFF and BigTIFF."""
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None or len(data) < 8:
        raise AdapterError("not a TIFF file")
    (magic,) = struct.unpack(order + "H", data[2:4])
    if magic == 42:
        (ifd,) = struct.unpack(order + "I", data[4:8])
        count_fmt, entry_fmt, entry_size, inline = "H", "HHI", 12, 4
    elif magic == 43 and len(data) >= 16:
        (ifd,) = struct.unpack(order + "Q", data[8:16])
        count_fmt, entry_fmt, entry_size, inline = "Q", "HHQ", 20, 8
    else:
        raise AdapterError("not a TIFF file")
    count_size = struct.calcsize(count_fmt)
    if ifd + count_size > len(data):
        raise AdapterError("TIFF IFD0 outside the file")
    (entries,) = struct.unpack(order + count_fmt, data[ifd : ifd + count_size])
    for i in range(min(entries, 4096)):
        at = ifd + count_size + i * entry_size
        if at + entry_size > len(data):
            raise AdapterError("truncated TIFF IFD0")
        tag, kind, count = struct.unpack(order + entry_fmt, data[at : at + entry_size - inline])
        if tag != 700:
            continue
        if kind not in (1, 7):
            raise AdapterError(f"TIFF tag 700 has type {kind}, not BYTE/UNDEFINED")
        value_at = at + entry_size - inline
        if count > inline:
            (value_at,) = struct.unpack(order + ("I" if inline == 4 else "Q"), data[value_at : value_at + inline])
        if count > MAX_PACKET or value_at + count > len(data):
            raise AdapterError("TIFF tag 700 points outside the file")
        return [data[value_at : value_at + count]]
    return []


LOCATORS = {
    "image/jpeg": jpeg_packets,
    "image/png": png_packets,
    "image/webp": webp_packets,
    "image/tiff": tiff_packets,
}


# -- parsing ----------------------------------------------------------------------


def parse_packet(packet: bytes) -> etree._Element:
    """Parse one packet with an XXE-safe parser."""
    if len(packet) > MAX_PACKET:
        raise AdapterError("XMP packet over the size limit")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_pis=True, remove_comments=True
    )
    start = packet.find(b"<")
    if start < 0:
        raise AdapterError("XMP packet holds no XML")
    try:
        root = etree.fromstring(packet[start:].rstrip(b"\x00"), parser)
    except etree.XMLSyntaxError as exc:
        raise AdapterError(f"XMP packet is not well-formed XML: {exc}") from exc
    if root.getroottree().docinfo.doctype:
        # Entities are never expanded here, so a value holding one would be cut short.
        raise AdapterError("XMP packet has a DOCTYPE; refused")
    return root


def _descriptions(root: etree._Element) -> Iterator[etree._Element]:
    """The top-level rdf:Description elements (children of rdf:RDF)."""
    for rdf in root.iter(f"{{{RDF}}}RDF"):
        yield from rdf.iterchildren(f"{{{RDF}}}Description")


def _node_text(node: etree._Element) -> str:
    """The value of a property or rdf:li node: rdf:resource, rdf:value or its text."""
    resource = node.get(f"{{{RDF}}}resource")
    if resource is not None:
        return resource
    value = node.find(f"{{{RDF}}}value")
    if value is None:
        inner = node.find(f"{{{RDF}}}Description")
        if inner is not None:
            attr = inner.get(f"{{{RDF}}}value")
            if attr is not None:
                return attr
            value = inner.find(f"{{{RDF}}}value")
    if value is not None:
        return value.text or ""
    return node.text or ""


def _array(node: etree._Element) -> tuple[str, list[etree._Element]] | None:
    """(kind, items) when the property holds an rdf:Alt, rdf:Seq or rdf:Bag."""
    for kind in ("Alt", "Seq", "Bag"):
        container = node.find(f"{{{RDF}}}{kind}")
        if container is not None:
            return kind, container.findall(f"{{{RDF}}}li")
    return None


def extract(root: etree._Element, notes: list[str]) -> dict[str, str]:
    """The canonical fields found in one parsed packet."""
    fields: dict[str, str] = {}
    for name, (ns, local, kind) in PROPERTIES.items():
        qname = f"{{{ns}}}{local}"
        for desc in _descriptions(root):
            attr = desc.get(qname)
            if attr is not None:
                fields[name] = attr
                if kind != "text":
                    notes.append(f"{local} is a simple attribute, not an rdf:{'Seq' if kind == 'seq' else 'Alt'}")
                break
            node = desc.find(qname)
            if node is None:
                continue
            value = _property_value(node, local, kind, notes)
            if value is not None:
                fields[name] = value
            break
    fields.update(identifier_from_bag(identifier_items(root, notes)))
    return fields


def identifier_items(root: etree._Element, notes: list[str]) -> list[str]:
    """The items of xmp:Identifier (the first top-level description that has it)."""
    for desc in _descriptions(root):
        attr = desc.get(XMP_IDENTIFIER)
        if attr is not None:
            notes.append("Identifier is a simple attribute, not an rdf:Bag")
            return [attr]
        node = desc.find(XMP_IDENTIFIER)
        if node is None:
            continue
        array = _array(node)
        if array is None:
            notes.append("Identifier is a simple value, not an rdf:Bag")
            return [_node_text(node)]
        found, items = array
        if found != "Bag":
            notes.append(f"Identifier is an rdf:{found}, not an rdf:Bag")
        return [_node_text(item) for item in items]
    return []


def _property_value(node: etree._Element, local: str, kind: str, notes: list[str]) -> str | None:
    array = _array(node)
    if array is None:
        if kind != "text":
            notes.append(f"{local} is a simple value, not an rdf:{'Seq' if kind == 'seq' else 'Alt'}")
        return _node_text(node)
    found, items = array
    if not items:
        notes.append(f"{local}: empty rdf:{found}")
        return None
    if kind == "alt":
        if found != "Alt":
            notes.append(f"{local} is an rdf:{found}, not an rdf:Alt")
        for item in items:
            if (item.get(XML_LANG) or "").lower() == "x-default":
                return _node_text(item)
        notes.append(f"{local}: no x-default item")
        return None
    if kind == "text" or found != "Seq":
        notes.append(f"{local} is an rdf:{found}; first item taken")
    return _node_text(items[0])


class XmpReferenceAdapter(Adapter):
    """Reference reader: packet location by hand, parsing by lxml."""

    def implementation_version(self) -> str | None:
        return f"{READER_VERSION} (lxml {etree.__version__})"

    def metadata_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        """The canonical fields of the file's XMP (absent fields are not listed)."""
        locate = LOCATORS.get(asset.media_type)
        if locate is None:
            raise Unsupported(f"no XMP reader for {asset.media_type}")
        try:
            packets = locate(asset.data)
        except struct.error as exc:
            raise AdapterError(f"truncated {asset.media_type} structure: {exc}") from exc
        fields: dict[str, str] = {}
        notes: list[str] = []
        for i, packet in enumerate(packets):
            found = extract(parse_packet(packet), notes)
            for name, value in found.items():
                fields.setdefault(name, value)
            if i and found:
                notes.append(f"from ExtendedXMP: {', '.join(sorted(found))}")
        answer: dict[str, Any] = {"fields": fields}
        if notes:
            answer["notes"] = notes[:100]
        return answer
