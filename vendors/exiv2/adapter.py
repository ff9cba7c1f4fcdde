"""Exiv2 adapter: XMP metadata write/read through pyexiv2 (which bundles libexiv2 0.28).

Works on bytes with ``pyexiv2.ImageData``; no temporary files.  Exiv2 0.28 already knows
the ``plus`` and ``iptcExt`` namespaces, so nothing is registered.
"""

from __future__ import annotations

from typing import Any

import pyexiv2
from aiii_kit import Adapter, AdapterError, Asset, Unsupported
from aiii_kit.metadata import IDENTIFIER_FIELDS, identifier_bag, identifier_from_bag

#: Canonical field -> (Exiv2 XMP key, kind): "text" simple property, "seq" first item
#: of an rdf:Seq, "alt" the x-default item of an rdf:Alt.
XMP_KEYS: dict[str, tuple[str, str]] = {
    "digital_source_type": ("Xmp.iptcExt.DigitalSourceType", "text"),
    "data_mining": ("Xmp.plus.DataMining", "text"),
    "creator": ("Xmp.dc.creator", "seq"),
    "copyright_notice": ("Xmp.dc.rights", "alt"),
    "web_statement": ("Xmp.xmpRights.WebStatement", "text"),
    "title": ("Xmp.dc.title", "alt"),
    "description": ("Xmp.dc.description", "alt"),
}

#: The identifier fields (iscc, isrc, iswc) are ``<SCHEME>:<value>`` items of this rdf:Bag.
IDENTIFIER_KEY = "Xmp.xmp.Identifier"

MEDIA_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/tiff"})
X_DEFAULT = 'lang="x-default"'


class Exiv2Adapter(Adapter):
    """libexiv2 through pyexiv2; the harness serialises calls (max_concurrency = 1)."""

    def health(self) -> None:
        pyexiv2.set_log_level(3)

    def implementation_version(self) -> str | None:
        return str(pyexiv2.__exiv2_version__)

    @staticmethod
    def _check_type(asset: Asset, image: pyexiv2.ImageData) -> None:
        found = image.get_mime_type()
        if found != asset.media_type:
            raise AdapterError(f"Exiv2 sees {found!r}, not {asset.media_type!r}")

    @staticmethod
    def _open(asset: Asset) -> pyexiv2.ImageData:
        if asset.media_type not in MEDIA_TYPES:
            raise Unsupported(f"no XMP support for {asset.media_type} in this adapter")
        # pyexiv2 prints Exiv2 warnings to stdout; errors still raise.
        pyexiv2.set_log_level(3)
        try:
            return pyexiv2.ImageData(asset.data)
        except (RuntimeError, ValueError) as exc:
            raise AdapterError(f"Exiv2 cannot open the file: {exc}") from exc

    def metadata_write(self, asset: Asset, params: dict[str, Any]) -> Asset:
        """Set the given fields in the XMP packet; other metadata is left alone."""
        changes: dict[str, Any] = {}
        identifiers = {name: value for name, value in params["fields"].items() if name in IDENTIFIER_FIELDS}
        for name, value in params["fields"].items():
            if name in identifiers:
                continue
            if name not in XMP_KEYS:
                raise Unsupported(f"unknown field {name!r}")
            key, kind = XMP_KEYS[name]
            if kind == "text":
                # Exiv2's XmpTextValue::read takes a leading 'type=...' as an array type.
                if len(value) > 5 and value.startswith("type="):
                    raise AdapterError(f"{key}: Exiv2 reads a value starting with 'type=' as a type qualifier")
                changes[key] = value
            elif kind == "seq":
                if not value:
                    raise AdapterError(f"{key}: Exiv2 cannot write an empty rdf:Seq item")
                changes[key] = [value]
            else:
                if not value:
                    # pyexiv2 takes an empty item as "delete the property": the write would
                    # succeed while the file ends up without it (or loses the old value).
                    raise AdapterError(f"{key}: Exiv2 (pyexiv2) deletes the property for an empty x-default item")
                changes[key] = {X_DEFAULT: value}
        image = self._open(asset)
        try:
            self._check_type(asset, image)
            if identifiers:
                changes.update(self._identifier_changes(image, identifiers))
            image.modify_xmp(changes)
            data = image.get_bytes()
        except (RuntimeError, UnicodeDecodeError) as exc:
            raise AdapterError(f"Exiv2 could not write: {exc}") from exc
        finally:
            image.close()
        return Asset(data=data, media_type=asset.media_type, name=asset.name)

    @staticmethod
    def _identifier_changes(image: pyexiv2.ImageData, identifiers: dict[str, str]) -> dict[str, str]:
        """The whole new ``xmp:Identifier`` bag: the image's items of other schemes, kept in
        order, then one item per identifier written."""
        items = identifier_bag(_items(image.read_xmp().get(IDENTIFIER_KEY)), identifiers)
        # pyexiv2 writes a list as an rdf:Seq, whatever the property's type.  An rdf:Bag is
        # made the way Exiv2 itself spells one: an empty text value "type=Bag" for the
        # property, then its items as text values of "KEY[1]", "KEY[2]", ...  (modify_xmp
        # first removes the old property, all its items with it).
        changes = {IDENTIFIER_KEY: "type=Bag"}
        for i, item in enumerate(items, 1):
            if item.startswith("type="):
                raise AdapterError(f"{IDENTIFIER_KEY}: Exiv2 reads an item starting with 'type=' as a type qualifier")
            changes[f"{IDENTIFIER_KEY}[{i}]"] = item
        return changes

    def metadata_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        """The canonical fields found in the XMP packet."""
        image = self._open(asset)
        try:
            self._check_type(asset, image)
            xmp = image.read_xmp()
        except (RuntimeError, UnicodeDecodeError) as exc:
            raise AdapterError(f"Exiv2 could not read: {exc}") from exc
        finally:
            image.close()
        fields: dict[str, str] = {}
        notes: list[str] = []
        for name, (key, kind) in XMP_KEYS.items():
            value = xmp.get(key)
            if value is None:
                continue
            if kind == "alt":
                if isinstance(value, dict):
                    if X_DEFAULT not in value:
                        notes.append(f"{key} has no x-default item")
                    value = value.get(X_DEFAULT)
            elif isinstance(value, list):
                value = value[0] if value else None
            if isinstance(value, str):
                fields[name] = value
        fields.update(identifier_from_bag(_items(xmp.get(IDENTIFIER_KEY))))
        answer: dict[str, Any] = {"fields": fields}
        if notes:
            answer["notes"] = notes
        return answer


def _items(value: Any) -> list[str]:
    """The items of an array property as pyexiv2 gives it (a simple value is one item)."""
    if isinstance(value, str):
        return [value]
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


