"""xmp-reference alone: entities in XMP are refused and never leak, in plain and extended XMP,
and the version names its reader and lxml.

Its place in the metadata matrix is in tests/test_vendors_metadata.py, whose fixtures and
helpers this module shares.
"""

from __future__ import annotations

import re

import pytest
from aiii_kit import AdapterError, Asset
from lxml import etree
from test_vendors_metadata import (  # noqa: F401 - fixtures and helpers of the family's matrix module
    JPEG_XMP,
    _leak_markers,
    fields_of,
    hostile_doctype,
    media,
    read,
    reported_version,
    secret,
    transports,
    with_extended_xmp,
    with_jpeg_app1,
    with_png_itxt,
    xmp_packet,
)

from runner.transports.inproc import InprocTransport


@pytest.mark.parametrize("target", ["file:///etc/passwd", "secret"])
@pytest.mark.parametrize("kind", ["external-entity", "external-dtd", "parameter-entity", "billion-laughs"])
@pytest.mark.parametrize("media_type", ["image/jpeg", "image/png"])
def test_entities_in_xmp_are_refused_by_xmp_reference_and_never_leak(
    transports: dict[str, InprocTransport], media: dict[str, bytes], secret: tuple[str, str], media_type: str, kind: str, target: str  # noqa: F811
) -> None:
    uri, marker = secret
    doctype, title = hostile_doctype(kind, uri if target == "secret" else target)
    packet = xmp_packet(title, doctype)
    data = with_jpeg_app1(media[media_type], JPEG_XMP + packet) if media_type == "image/jpeg" else with_png_itxt(media[media_type], packet)
    asset = Asset(data, media_type)
    with pytest.raises(AdapterError) as info:
        read(transports["xmp-reference"], asset)
    said = [str(info.value)]
    for reader in ("exiftool", "exiv2"):  # the other XMP readers: a report or a clean error
        try:
            said.append(repr(read(transports[reader], asset)))
        except AdapterError as exc:
            said.append(str(exc))
    for text in said:
        for leak in _leak_markers(marker):
            assert leak not in text


@pytest.mark.parametrize("hostile", [False, True], ids=["plain", "doctype"])
def test_xmp_reference_applies_the_same_rule_to_extended_xmp(
    transports: dict[str, InprocTransport], media: dict[str, bytes], secret: tuple[str, str], hostile: bool  # noqa: F811
) -> None:
    """ExtendedXMP is parsed too (the plain case finds its description), so a DOCTYPE there is refused."""
    uri, marker = secret
    doctype = f'<!DOCTYPE x:xmpmeta [<!ENTITY xxe SYSTEM "{uri}">]>' if hostile else ""
    extension = (
        "<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>"
        "<rdf:Description rdf:about='' xmlns:dc='http://purl.org/dc/elements/1.1/'>"
        f"<dc:description><rdf:Alt><rdf:li xml:lang='x-default'>extended {'&xxe;' if hostile else 'text'}</rdf:li></rdf:Alt>"
        "</dc:description></rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    asset = Asset(with_extended_xmp(media["image/jpeg"], (doctype + extension).encode()), "image/jpeg")
    if not hostile:
        assert fields_of(transports["xmp-reference"], asset) == {"title": "main title", "description": "extended text"}
        return
    with pytest.raises(AdapterError) as info:
        read(transports["xmp-reference"], asset)
    assert marker not in str(info.value)


def test_xmp_reference_version_names_its_reader_and_lxml(transports: dict[str, InprocTransport]) -> None:  # noqa: F811

    version = reported_version(transports["xmp-reference"])
    assert version is not None and re.fullmatch(r"\d+\.\d+ \(lxml [\d.]+\)", version)
    assert f"lxml {etree.__version__}" in version
