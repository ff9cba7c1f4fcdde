"""python-xmp-toolkit adapter: XMP write and read through ``libxmp`` over Debian's Exempi.

Exempi (Debian ``libexempi8``) is Adobe's XMP Toolkit (XMP Core and the XMPFiles smart
handlers) behind a C API; ``libxmp`` loads it with ctypes.  XMPFiles opens files by path
only, so each call works on a copy in a private temporary folder.  The smart handlers
reconcile legacy metadata (Exif, IPTC-IIM) with the XMP as the Metadata Working Group's
guidelines say: see README.md.
"""

from __future__ import annotations

import importlib.metadata
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aiii_kit import Adapter, AdapterError, Asset, Unsupported
from aiii_kit.metadata import IDENTIFIER_FIELDS, identifier_bag, identifier_from_bag
from libxmp import XMPError, XMPFiles, XMPMeta, consts, exempi

DC = consts.XMP_NS_DC
#: Canonical field -> (namespace URI, property, kind): "text" simple value, "seq" first
#: item of an rdf:Seq, "alt" the x-default item of an rdf:Alt.
PROPERTIES: dict[str, tuple[str, str, str]] = {
    "digital_source_type": ("http://iptc.org/std/Iptc4xmpExt/2008-02-29/", "DigitalSourceType", "text"),
    "data_mining": ("http://ns.useplus.org/ldf/xmp/1.0/", "DataMining", "text"),
    "creator": (DC, "creator", "seq"),
    "copyright_notice": (DC, "rights", "alt"),
    "web_statement": (consts.XMP_NS_XMP_Rights, "WebStatement", "text"),
    "title": (DC, "title", "alt"),
    "description": (DC, "description", "alt"),
}
#: The identifier fields (iscc, isrc, iswc) are ``<SCHEME>:<value>`` items of this rdf:Bag.
IDENTIFIER = (consts.XMP_NS_XMP, "Identifier")
X_DEFAULT = '[?xml:lang="x-default"]'

#: Media type -> (file name suffix, Exempi's file format code).  Writing WebP is refused:
#: Exempi 2.6's WebP handler corrupts a simple (VP8 or VP8L only) file (README.md).
READ_TYPES: dict[str, tuple[str, int]] = {
    "image/jpeg": (".jpg", consts.XMP_FT_JPEG),
    "image/png": (".png", consts.XMP_FT_PNG),
    "image/tiff": (".tif", consts.XMP_FT_TIFF),
    "image/webp": (".webp", 0x57454250),  # 'WEBP': libxmp's consts predate Exempi's WebP handler
}
WRITE_TYPES = frozenset({"image/jpeg", "image/png", "image/tiff"})
#: XML 1.0 (section 2.2) allows no other C0 control; Exempi would serialise them as
#: character references no XML parser accepts, and a NUL ends a C string early.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class PythonXmpToolkitAdapter(Adapter):
    """Exempi through libxmp; the harness serialises calls (max_concurrency = 1), as
    Exempi's error state is global to the library."""

    def health(self) -> None:
        try:
            XMPMeta()
        except (OSError, exempi.ExempiLoadError) as exc:
            raise AdapterError(f"python-xmp-toolkit cannot load Exempi (install Debian's libexempi8): {exc}") from exc

    def implementation_version(self) -> str | None:
        """python-xmp-toolkit's release and the toolkit Exempi names in every packet it
        writes (``x:xmptk``): Exempi has no version call."""
        self.health()
        packet = XMPMeta().serialize_to_unicode()
        toolkit = re.search(r'x:xmptk="([^"]+)"', packet)
        return f"{importlib.metadata.version('python-xmp-toolkit')} ({toolkit.group(1) if toolkit else 'Exempi'})"

    # -- files ------------------------------------------------------------------

    @contextmanager
    def _opened(self, asset: Asset, *, update: bool) -> Iterator[tuple[XMPFiles, Path]]:
        """The asset copied to a private folder and opened with its smart handler."""
        types = WRITE_TYPES if update else READ_TYPES
        if asset.media_type not in types:
            raise Unsupported(f"python-xmp-toolkit does not {'write' if update else 'read'} XMP in {asset.media_type}")
        suffix, code = READ_TYPES[asset.media_type]
        with tempfile.TemporaryDirectory(prefix="aiii-exempi-") as folder:
            path = Path(folder) / f"asset{suffix}"
            path.write_bytes(asset.data)
            try:
                found = exempi.files_check_file_format(str(path))
            except XMPError as exc:
                raise AdapterError(f"Exempi cannot identify the file: {exc}") from exc
            if found != code:
                raise AdapterError(f"Exempi sees format {_code(found)!r}, not {asset.media_type!r}")
            files = XMPFiles()
            try:
                files.open_file(str(path), open_forupdate=update, open_read=not update, open_usesmarthandler=True)
            except XMPError as exc:
                raise AdapterError(f"Exempi cannot open the file: {exc}") from exc
            try:
                yield files, path
            finally:
                if files._file_path is not None:  # still open: an error came before close
                    files.close_file()

    def metadata_write(self, asset: Asset, params: dict[str, Any]) -> Asset:
        """Set the given fields in the XMP packet; the rest of the packet is kept."""
        fields: dict[str, str] = params["fields"]
        for name, value in fields.items():
            if name not in PROPERTIES and name not in IDENTIFIER_FIELDS:
                raise Unsupported(f"unknown field {name!r}")
            bad = _NOT_XML.search(value)
            if bad:
                raise AdapterError(f"{name}: XML 1.0 cannot carry the character U+{ord(bad.group()):04X}")
        with self._opened(asset, update=True) as (files, path):
            try:
                xmp = files.get_xmp() or XMPMeta()
                for name, value in fields.items():
                    if name in PROPERTIES:
                        _set(xmp, name, value)
                identifiers = {n: v for n, v in fields.items() if n in IDENTIFIER_FIELDS}
                if identifiers:
                    items = identifier_bag(_items(xmp, *IDENTIFIER), identifiers)
                    xmp.delete_property(*IDENTIFIER)
                    for item in items:
                        xmp.append_array_item(*IDENTIFIER, item, {"prop_value_is_array": True})
                if not files.can_put_xmp(xmp):
                    raise AdapterError(f"Exempi cannot put this XMP packet into the {asset.media_type} file")
                files.put_xmp(xmp)
                files.close_file()
                _check_readable(path, asset.media_type)
            except (XMPError, UnicodeError) as exc:
                raise AdapterError(f"Exempi could not write: {exc}") from exc
            data = path.read_bytes()
        return Asset(data=data, media_type=asset.media_type, name=asset.name)

    def metadata_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        """The canonical fields of the XMP that Exempi's smart handler gives for the file."""
        with self._opened(asset, update=False) as (files, _path):
            try:
                xmp = files.get_xmp()
                files.close_file()
                if xmp is None:
                    return {"fields": {}}
                fields: dict[str, str] = {}
                notes: list[str] = []
                for name, (ns, prop, kind) in PROPERTIES.items():
                    value = _get(xmp, ns, prop, kind, notes)
                    if value is not None:
                        fields[name] = value
                fields.update(identifier_from_bag(_items(xmp, *IDENTIFIER)))
            except (XMPError, UnicodeError) as exc:
                raise AdapterError(f"Exempi could not read: {exc}") from exc
        answer: dict[str, Any] = {"fields": fields}
        if notes:
            answer["notes"] = notes
        return answer


def _check_readable(path: Path, media_type: str) -> None:
    """Exempi reads back the packet it wrote.  Its PNG handler rewrites a shorter packet in
    place and leaves the old packet's tail after it, which no XML parser accepts (README.md):
    that file is refused, not returned."""
    files = XMPFiles(file_path=str(path), open_read=True, open_usesmarthandler=True)
    try:
        written = files.get_xmp()
    finally:
        files.close_file()
    if written is None:
        why = ": its PNG handler left the old, longer packet's tail after the new one" if media_type == "image/png" else ""
        raise AdapterError(f"Exempi cannot read back the XMP packet it wrote{why}")


# -- properties -----------------------------------------------------------------------


def _set(xmp: XMPMeta, name: str, value: str) -> None:
    ns, prop, kind = PROPERTIES[name]
    if kind == "alt":
        # The toolkit's own rule (XMP Specification Part 1, 8.2.2.4 and its SetLocalizedText):
        # the x-default item is set, other languages are kept.
        xmp.set_localized_text(ns, prop, "", "x-default", value)
        return
    xmp.delete_property(ns, prop)  # a property of another form (an array) would refuse the set
    if kind == "seq":
        xmp.append_array_item(ns, prop, value, {"prop_array_is_ordered": True})
    else:
        xmp.set_property(ns, prop, value)


def _bits(xmp: XMPMeta, ns: str, path: str) -> int | None:
    """The property's option bits, or None when it does not exist."""
    if not xmp.does_property_exist(ns, path):
        return None
    _value, bits = exempi.get_property(xmp.xmpptr, ns, path)
    return int(bits)


def _get(xmp: XMPMeta, ns: str, prop: str, kind: str, notes: list[str]) -> str | None:
    bits = _bits(xmp, ns, prop)
    if bits is None or bits & consts.XMP_PROP_VALUE_IS_STRUCT:
        return None
    if not bits & consts.XMP_PROP_VALUE_IS_ARRAY:
        return str(xmp.get_property(ns, prop))
    if kind == "alt" and bits & consts.XMP_PROP_ARRAY_IS_ALT:
        if xmp.does_property_exist(ns, prop + X_DEFAULT):
            return str(xmp.get_property(ns, prop + X_DEFAULT))
        notes.append(f"{xmp.get_prefix_for_namespace(ns)}{prop} has no x-default item")
        return None
    items = _items(xmp, ns, prop)
    return items[0] if items else None


def _items(xmp: XMPMeta, ns: str, prop: str) -> list[str]:
    """The simple items of an array property (a simple property is one item)."""
    bits = _bits(xmp, ns, prop)
    if bits is None or bits & consts.XMP_PROP_VALUE_IS_STRUCT:
        return []
    if not bits & consts.XMP_PROP_VALUE_IS_ARRAY:
        return [str(xmp.get_property(ns, prop))]
    found = []
    for i in range(1, xmp.count_array_items(ns, prop) + 1):
        item_bits = _bits(xmp, ns, f"{prop}[{i}]")
        if item_bits is not None and not item_bits & (consts.XMP_PROP_VALUE_IS_STRUCT | consts.XMP_PROP_VALUE_IS_ARRAY):
            found.append(str(xmp.get_array_item(ns, prop, i)))
    return found


def _code(code: int) -> str:
    """Exempi's four-character file format code as text ('JPEG', 'PNG ')."""
    return code.to_bytes(4, "big").decode("latin-1") if 0 <= code < 2**32 else str(code)
