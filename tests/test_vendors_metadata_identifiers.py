"""Identifiers in embedded metadata (iscc, isrc, iswc): every writer against every reader, where
each format keeps them (xmp:Identifier, ID3, Vorbis), and what a second write replaces. The
fixtures and helpers are the metadata matrix's (tests/test_vendors_metadata.py); exiv2-cli
joins, served in process when the host has the exiv2 program, else in its image."""

# The matrix module's fixtures are imported by name and requested as parameters: F811 there is
# how pytest fixtures are shared, not a redefinition.
# ruff: noqa: F811

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from aiii_kit import Asset
from aiii_kit.metadata import IDENTIFIER_FIELDS
from lxml import etree
from test_vendors_metadata import (  # noqa: F401 - fixtures and helpers of the family's matrix module
    AUDIO_TYPES,
    IMAGE_TYPES,
    JPEG_XMP,
    MANIFESTS,
    METADATA_VENDOR_IDS,
    SCRIPTS,
    assert_fields_equal,
    debian,
    declared_types,
    field_values,
    fields_of,
    media,
    own_fields,
    passes,
    read,
    transports,
    with_jpeg_app1,
    with_png_itxt,
    write,
)

from conformance.fields import declared_fields
from runner.transports import Transport, make_transport
from runner.transports.inproc import InprocTransport
from runner.vendors import docker_availability

# -- identifiers (iscc, isrc, iswc) ------------------------------------------------------------

IDENTIFIERS = {
    "iscc": "ISCC:KACYPXW445FTYNJ3CYSXHAFJMA2HUWULUNRFE3BLHRSCXYH2M5AEGQY",
    "isrc": "USRC17607839",
    "iswc": "T-034.524.680-1",
}
#: IDENTIFIERS as xmp:Identifier items, spelt out here (not computed with the kit's helper).
IDENTIFIER_ITEMS = ["ISCC:KACYPXW445FTYNJ3CYSXHAFJMA2HUWULUNRFE3BLHRSCXYH2M5AEGQY", "ISRC:USRC17607839", "ISWC:T-034.524.680-1"]
assert set(IDENTIFIERS) == set(IDENTIFIER_FIELDS)
XMP_IDENTIFIER = "{http://ns.adobe.com/xap/1.0/}Identifier"
RDF_BAG = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}Bag"
RDF_LI = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}li"


def identifier_vendors(operation: str, media_type: str) -> list[str]:
    """The vendors that declare all three identifier fields for an operation on a media type."""
    return [v for v in METADATA_VENDOR_IDS if set(IDENTIFIERS) <= declared_fields(MANIFESTS[v], operation, media_type)]


def exiv2_program(*vendors: str) -> tuple[pytest.MarkDecorator, ...]:
    """A parameter set's marks: `debian` where exiv2-cli, which runs the exiv2 program, or a
    vendor needing a Debian package (python-xmp-toolkit: libexempi8) takes part."""
    return (pytest.mark.debian,) if "exiv2-cli" in vendors or debian(*vendors) else ()


IDENTIFIER_PAIRS = [
    pytest.param(w, r, mt, id=f"{w}-{r}-{mt}", marks=exiv2_program(w, r))
    for mt in (*IMAGE_TYPES, *AUDIO_TYPES)
    for w in identifier_vendors("metadata.write", mt)
    for r in identifier_vendors("metadata.read", mt)
]
IMAGE_IDENTIFIER_WRITERS = sorted({w for mt in IMAGE_TYPES for w in identifier_vendors("metadata.write", mt)})


@pytest.fixture(scope="module")
def exiv2_cli() -> Iterator[Transport]:
    """exiv2-cli's adapter: in process where the host has the exiv2 program (Debian's exiv2),
    otherwise in the vendor's Docker image, which the harness builds; so a host without the
    program skips nothing CI runs, and one with neither it nor an engine skips (CI fails)."""
    placement = "inproc"
    if shutil.which("exiv2") is None:
        availability = docker_availability()
        if not availability.runnable:
            pytest.skip(f"exiv2-cli needs the exiv2 program (Debian package exiv2) or a Docker engine: {availability.reason}")
        placement = "docker"
    transport = make_transport(MANIFESTS["exiv2-cli"], placement)
    transport.start()
    yield transport
    transport.close()


def started(request: pytest.FixtureRequest, transports: dict[str, InprocTransport], vendor: str) -> Transport:
    return request.getfixturevalue("exiv2_cli") if vendor == "exiv2-cli" else transports[vendor]


def xmp_identifier(data: bytes) -> tuple[str, list[str]]:
    """(container tag, item texts) of the xmp:Identifier in a file's one XMP packet, parsed by lxml."""
    packets = re.findall(rb"<x:xmpmeta[ >].*?</x:xmpmeta>", data, re.DOTALL)
    assert len(packets) == 1, f"{len(packets)} uncompressed XMP packets in the file"
    found = etree.fromstring(packets[0]).findall(f".//{XMP_IDENTIFIER}")
    assert len(found) == 1, f"{len(found)} xmp:Identifier properties"
    containers = list(found[0])
    assert len(containers) == 1, "xmp:Identifier holds no single array"
    return str(containers[0].tag), [li.text or "" for li in containers[0].iter(RDF_LI)]


def identifier_packet(items: list[str]) -> bytes:
    """An XMP packet as another tool would leave it: a title and an xmp:Identifier bag."""
    lis = "".join(f"<rdf:li>{item}</rdf:li>" for item in items)
    return (
        "<?xpacket begin='\ufeff' id='W5M0MpCehiHzreSzNTczkc9d'?>\n"
        "<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>"
        "<rdf:Description rdf:about='' xmlns:dc='http://purl.org/dc/elements/1.1/' xmlns:xmp='http://ns.adobe.com/xap/1.0/'>"
        "<dc:title><rdf:Alt><rdf:li xml:lang='x-default'>foreign title</rdf:li></rdf:Alt></dc:title>"
        f"<xmp:Identifier><rdf:Bag>{lis}</rdf:Bag></xmp:Identifier>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>\n<?xpacket end='w'?>"
    ).encode()


def with_packet(media: dict[str, bytes], media_type: str, packet: bytes) -> Asset:
    if media_type == "image/jpeg":
        return Asset(with_jpeg_app1(media[media_type], JPEG_XMP + packet), media_type)
    assert media_type == "image/png"
    return Asset(with_png_itxt(media[media_type], packet), media_type)


def test_every_metadata_vendor_declares_the_identifiers_wherever_it_declares_metadata() -> None:
    """The identifier tests take their pairs from the manifests; this pins what they declare, so a
    field or media type dropped from a manifest cannot silently shrink them."""
    for vendor in METADATA_VENDOR_IDS:
        for operation in ("metadata.write", "metadata.read"):
            for mt in declared_types(vendor, operation):
                assert set(IDENTIFIERS) <= declared_fields(MANIFESTS[vendor], operation, mt), (vendor, operation, mt)
    assert {mt: identifier_vendors("metadata.write", mt) for mt in (*IMAGE_TYPES, *AUDIO_TYPES)} == {
        **{mt: ["exiftool", "exiv2", "python-xmp-toolkit", "exiv2-cli"] for mt in IMAGE_TYPES if mt != "image/webp"},
        "image/webp": ["exiftool", "exiv2", "exiv2-cli"],  # Exempi corrupts a simple WebP: vendors/python-xmp-toolkit
        **{mt: ["mutagen"] for mt in AUDIO_TYPES},
    }
    assert {mt: identifier_vendors("metadata.read", mt) for mt in (*IMAGE_TYPES, *AUDIO_TYPES)} == {
        **{mt: ["exiftool", "exiv2", "xmp-reference", "python-xmp-toolkit", "exiv2-cli"] for mt in IMAGE_TYPES},
        **{mt: ["exiftool", "mutagen"] for mt in AUDIO_TYPES},
    }


@pytest.mark.parametrize(("writer", "reader", "media_type"), IDENTIFIER_PAIRS)
def test_identifiers_round_trip_between_every_writer_and_reader(
    request: pytest.FixtureRequest, transports: dict[str, InprocTransport], media: dict[str, bytes], writer: str, reader: str, media_type: str
) -> None:
    written = write(started(request, transports, writer), Asset(media[media_type], media_type), IDENTIFIERS)
    answer = read(started(request, transports, reader), written)
    assert answer["fields"] == IDENTIFIERS
    # xmp-reference notes an xmp:Identifier that is not an rdf:Bag
    assert [note for note in answer.get("notes", []) if "Identifier" in note] == []


@pytest.mark.parametrize("script", ["ascii", "emoji"])
@pytest.mark.parametrize(("writer", "reader", "media_type"), IDENTIFIER_PAIRS)
def test_the_other_fields_still_round_trip_beside_the_identifiers(
    request: pytest.FixtureRequest,
    transports: dict[str, InprocTransport],
    media: dict[str, bytes],
    writer: str,
    reader: str,
    media_type: str,
    script: str,
) -> None:
    common = declared_fields(MANIFESTS[writer], "metadata.write", media_type) & declared_fields(MANIFESTS[reader], "metadata.read", media_type)
    others = common - set(IDENTIFIERS)
    assert len(others) == 7, f"{writer} x {reader} share {sorted(others)}"
    values = {**field_values(SCRIPTS[script], others, writer, media_type, ascii_url=True), **IDENTIFIERS}
    written = write(started(request, transports, writer), Asset(media[media_type], media_type), values)
    got = fields_of(started(request, transports, reader), written)
    assert_fields_equal(got, values, passes(writer, reader, media_type))
    assert {name: got[name] for name in IDENTIFIERS} == IDENTIFIERS


@pytest.mark.parametrize(
    ("writer", "media_type"),
    [pytest.param(w, mt, id=f"{w}-{mt}", marks=exiv2_program(w))
     for mt in (*IMAGE_TYPES, *AUDIO_TYPES) for w in identifier_vendors("metadata.write", mt)],
)
def test_identifiers_are_stored_where_the_mapping_says(
    request: pytest.FixtureRequest, transports: dict[str, InprocTransport], media: dict[str, bytes], writer: str, media_type: str
) -> None:
    """Looked at in the file itself (lxml for XMP, mutagen's parsers for tags), not through an adapter:
    one xmp:Identifier rdf:Bag item per identifier; ID3 TSRC, TXXX:ISCC, TXXX:ISWC; Vorbis ISRC, ISCC, ISWC."""
    import io

    from mutagen.flac import FLAC
    from mutagen.id3 import ID3
    from mutagen.wave import WAVE

    written = write(started(request, transports, writer), Asset(media[media_type], media_type), IDENTIFIERS)
    if media_type in IMAGE_TYPES:
        container, items = xmp_identifier(written.data)
        assert container == RDF_BAG
        assert sorted(items) == sorted(IDENTIFIER_ITEMS)
    elif media_type == "audio/flac":
        comments = FLAC(io.BytesIO(written.data)).tags
        assert comments is not None
        assert {key: comments[key] for key in ("ISCC", "ISRC", "ISWC")} == {
            "ISCC": [IDENTIFIERS["iscc"]],
            "ISRC": [IDENTIFIERS["isrc"]],
            "ISWC": [IDENTIFIERS["iswc"]],
        }
    else:
        tags: Any = ID3(io.BytesIO(written.data)) if media_type == "audio/mpeg" else WAVE(io.BytesIO(written.data)).tags
        frames = {key: [str(t) for t in tags[key].text] for key in ("TSRC", "TXXX:ISCC", "TXXX:ISWC")}
        assert frames == {"TSRC": [IDENTIFIERS["isrc"]], "TXXX:ISCC": [IDENTIFIERS["iscc"]], "TXXX:ISWC": [IDENTIFIERS["iswc"]]}


FOREIGN_ITEMS = ["urn:isbn:978-3-16-148410-0", "isrc:GBAYE0000001", "ISWC:T-000.000.001-0", "doi:10.1000/182"]


@pytest.mark.parametrize("media_type", ["image/jpeg", "image/png"])
@pytest.mark.debian  # exiv2-cli reads every writer's file
@pytest.mark.parametrize("writer", IMAGE_IDENTIFIER_WRITERS)
def test_writing_identifiers_keeps_the_other_identifier_items(
    request: pytest.FixtureRequest, transports: dict[str, InprocTransport], media: dict[str, bytes], writer: str, media_type: str
) -> None:
    """Another tool left an ISBN, an old ISRC (lower-case scheme), an ISWC and a DOI in
    xmp:Identifier. Writing an ISCC and an ISRC replaces only the old ISRC: the ISBN, the ISWC
    and the DOI stay, in their order, and the title beside them stays too."""
    source = with_packet(media, media_type, identifier_packet(FOREIGN_ITEMS))
    assert fields_of(transports["xmp-reference"], source) == {"title": "foreign title", "isrc": "GBAYE0000001", "iswc": "T-000.000.001-0"}
    new = {"iscc": IDENTIFIERS["iscc"], "isrc": IDENTIFIERS["isrc"]}
    written = write(started(request, transports, writer), source, new)
    container, items = xmp_identifier(written.data)
    assert container == RDF_BAG
    kept = [item for item in items if item in FOREIGN_ITEMS]
    assert kept == ["urn:isbn:978-3-16-148410-0", "ISWC:T-000.000.001-0", "doi:10.1000/182"]
    assert sorted(items) == sorted([*kept, IDENTIFIER_ITEMS[0], IDENTIFIER_ITEMS[1]])
    expected = {"title": "foreign title", **new, "iswc": "T-000.000.001-0"}
    for reader in identifier_vendors("metadata.read", media_type):
        assert fields_of(started(request, transports, reader), written) == expected, reader


@pytest.mark.parametrize(
    ("writer", "media_type"),
    [pytest.param(w, mt, id=f"{w}-{mt}", marks=exiv2_program(w))
     for w in ("exiftool", "exiv2", "mutagen", "python-xmp-toolkit", "exiv2-cli") for mt in declared_types(w, "metadata.write")
     # Exempi cannot rewrite a PNG's packet shorter: vendors/python-xmp-toolkit/tests pins it
     if (w, mt) != ("python-xmp-toolkit", "image/png")],
)
def test_a_second_write_replaces_every_value_of_the_first(
    request: pytest.FixtureRequest, transports: dict[str, InprocTransport], media: dict[str, bytes], writer: str, media_type: str
) -> None:
    """Writing the fields over a file that already has them leaves only the new values: no old
    identifier item and no old dc:creator item stays in front of the new one."""
    transport = started(request, transports, writer)
    fields = own_fields(writer, media_type)
    assert set(IDENTIFIERS) <= fields
    first = field_values(SCRIPTS["rtl"], fields, writer, media_type)
    second = field_values(SCRIPTS["emoji"], fields, writer, media_type)
    written = write(transport, write(transport, Asset(media[media_type], media_type), first), second)
    assert_fields_equal(fields_of(transport, written), second, passes(writer, writer, media_type))
    if media_type in IMAGE_TYPES:
        _container, items = xmp_identifier(written.data)
        assert len(items) == 3, items


@pytest.mark.parametrize(("writer", "reader", "media_type"), IDENTIFIER_PAIRS)
def test_a_bare_iscc_code_comes_back_with_its_prefix_from_xmp_only(
    request: pytest.FixtureRequest, transports: dict[str, InprocTransport], media: dict[str, bytes], writer: str, reader: str, media_type: str
) -> None:
    """The kit's XMP mapping stores an ISCC as its canonical ``ISCC:<code>`` item, so a code given
    without the prefix reads back with it from xmp:Identifier; ID3 and Vorbis keep the value as given."""
    code = IDENTIFIERS["iscc"].removeprefix("ISCC:")
    written = write(started(request, transports, writer), Asset(media[media_type], media_type), {"iscc": code})
    expected = IDENTIFIERS["iscc"] if media_type in IMAGE_TYPES else code
    assert fields_of(started(request, transports, reader), written) == {"iscc": expected}
