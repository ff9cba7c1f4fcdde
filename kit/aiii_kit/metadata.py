"""Metadata helpers: the canonical field names and the ``xmp:Identifier`` bag.

Standard library only.
"""

from __future__ import annotations

from aiii_kit._core import AdapterError

#: Canonical metadata field names shared by every metadata writer and reader.
#: Values are plain strings.  ``digital_source_type`` and ``data_mining`` hold the
#: vocabulary URI or the bare code, exactly as the harness asked for it to be written.
METADATA_FIELDS: tuple[str, ...] = (
    "digital_source_type",  # Iptc4xmpExt:DigitalSourceType
    "data_mining",  # plus:DataMining
    "creator",  # dc:creator (first entry)
    "copyright_notice",  # dc:rights (x-default)
    "web_statement",  # xmpRights:WebStatement
    "title",  # dc:title (x-default)
    "description",  # dc:description (x-default)
    # Identifiers carried in metadata (mapping per format in IDENTIFIER_FIELDS' comment)
    "iscc",
    "isrc",
    "iswc",
)

#: The identifier fields of METADATA_FIELDS.  Where they go:
#: XMP (images): one ``xmp:Identifier`` bag item each, written as ``<SCHEME>:<value>``
#: with the scheme upper-case (``ISCC:...`` is already an ISCC's canonical form, so the
#: ISCC item is the code itself; ``ISRC:USRC17607839``, ``ISWC:T-034.524.680-1``);
#: ID3 (MP3, WAV): ``TSRC`` for the ISRC, ``TXXX:ISCC`` and ``TXXX:ISWC``;
#: Vorbis comments (FLAC): ``ISRC``, ``ISCC``, ``ISWC``.
IDENTIFIER_FIELDS: tuple[str, ...] = ("iscc", "isrc", "iswc")


def identifier_bag_item(field_name: str, value: str) -> str:
    """The ``xmp:Identifier`` bag item of an identifier field."""
    if field_name == "iscc" and value.upper().startswith("ISCC:"):
        return value
    return f"{field_name.upper()}:{value}"


def identifier_scheme(item: str) -> str | None:
    """The lower-case scheme of an ``xmp:Identifier`` item (``ISRC:...`` -> ``isrc``), if any."""
    scheme, sep, _rest = item.partition(":")
    return scheme.strip().lower() if sep else None


def identifier_from_bag(items: list[str]) -> dict[str, str]:
    """Identifier fields found among ``xmp:Identifier`` bag items (the first of each scheme)."""
    found: dict[str, str] = {}
    for item in items:
        name = identifier_scheme(item)
        if name is None or name not in IDENTIFIER_FIELDS or name in found:
            continue
        found[name] = item.strip() if name == "iscc" else item.partition(":")[2]
    return found


def identifier_bag(existing: list[str], identifiers: dict[str, str]) -> list[str]:
    """The new ``xmp:Identifier`` bag: the existing items of other schemes, kept in order,
    then one item per identifier written.  An empty identifier has no item: refused."""
    for name, value in identifiers.items():
        if not value:
            raise AdapterError(f"{name}: an empty identifier has no xmp:Identifier item")
    items = [item for item in existing if identifier_scheme(item) not in identifiers]
    return items + [identifier_bag_item(name, value) for name, value in identifiers.items()]
