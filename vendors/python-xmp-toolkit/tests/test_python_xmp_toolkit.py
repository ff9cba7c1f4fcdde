"""python-xmp-toolkit (libxmp over Debian's Exempi) alone: the family's value sets through it
and every image reader, a real Lightroom packet kept, and the places where Exempi, Adobe's
XMP Toolkit, does what Exiv2 and ExifTool do not (README.md has each with its source).

Its place in the metadata matrix is in tests/test_vendors_metadata.py, whose fixtures and
helpers this module shares.  Tests named ``test_known_*`` pin today's behaviour of Exempi
2.6.3 so that a change upstream is noticed.
"""

# The matrix module's fixtures are imported by name and requested as parameters: F811 there is
# how pytest fixtures are shared, not a redefinition.
# ruff: noqa: F811

from __future__ import annotations

import importlib.metadata
import io
import re
import struct
import tempfile
from pathlib import Path

import pytest
from aiii_kit import AdapterError, Asset, Unsupported
from aiii_kit.vocab import PLUS_VOCAB
from helpers import ROOT
from libxmp import XMPFiles, XMPMeta, consts
from PIL import Image
from test_vendors_metadata import (  # noqa: F401 - fixtures and helpers of the family's matrix module
    JPEG_XMP,
    LINE_BREAKS,
    _leak_markers,
    fields_of,
    hostile_doctype,
    media,
    read,
    reported_version,
    secret,
    transports,
    with_jpeg_app1,
    with_png_itxt,
    write,
    xmp_packet,
)

from conformance.fields import content_hash, value_sets
from runner.transports.inproc import InprocTransport
from runner.vectors import load_attack_strings

#: Exempi is Debian's libexempi8 (.ci/run installs it).
pytestmark = pytest.mark.debian

VENDOR = "python-xmp-toolkit"
WRITE_TYPES = ("image/jpeg", "image/png", "image/tiff")
OTHER_READERS = ("exiv2", "exiftool", "xmp-reference")
LIGHTROOM_JPEG = ROOT / "test_vectors" / "c2pa" / "public-testfiles" / "adobe-20220124-A.jpg"
VALUE_SETS = value_sets(load_attack_strings(ROOT / "test_vectors"))


def segments(jpeg: bytes) -> list[tuple[int, bytes]]:
    """(marker, body) of each JPEG segment before the scan."""
    out, pos = [], 2
    while jpeg[pos] == 0xFF and jpeg[pos + 1] != 0xDA:
        (length,) = struct.unpack(">H", jpeg[pos + 2 : pos + 4])
        out.append((jpeg[pos + 1], jpeg[pos + 4 : pos + 2 + length]))
        pos += 2 + length
    return out


def png_xmp(png: bytes) -> bytes:
    """The text of a PNG's first iTXt chunk."""
    pos = 8
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        if png[pos + 4 : pos + 8] == b"iTXt":
            return png[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raise AssertionError("no iTXt chunk")


def with_library(data: bytes, suffix: str, title: str) -> bytes:
    """``data`` after libxmp itself (not the adapter) set dc:title in it."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"asset{suffix}"
        path.write_bytes(data)
        files = XMPFiles(file_path=str(path), open_forupdate=True)
        xmp = files.get_xmp() or XMPMeta()
        xmp.set_localized_text(consts.XMP_NS_DC, "title", "", "x-default", title)
        files.put_xmp(xmp)
        files.close_file()
        return path.read_bytes()


def test_version_names_the_binding_and_exempis_xmp_core(transports: dict[str, InprocTransport]) -> None:
    version = reported_version(transports[VENDOR])
    assert version is not None and re.fullmatch(r"2\.1\.0 \(Exempi \+ XMP Core \d+\.\d+\.\d+\)", version)
    assert version.startswith(importlib.metadata.version("python-xmp-toolkit"))


@pytest.mark.parametrize("value_set", ["unicode", "long", "attacks"])
@pytest.mark.parametrize("media_type", WRITE_TYPES)
def test_the_familys_value_sets_round_trip_to_every_image_reader(
    transports: dict[str, InprocTransport], media: dict[str, bytes], media_type: str, value_set: str
) -> None:
    """The values the metadata profile writes (NFC and NFD, right-to-left, emoji, 10,000
    characters, the attack strings), read back byte-exact by Exempi, Exiv2, ExifTool and
    xmp-reference; the pixels stay as they were."""
    values = VALUE_SETS[value_set]
    source = Asset(media[media_type], media_type)
    written = write(transports[VENDOR], source, values)
    for reader in (VENDOR, "exiv2", "xmp-reference"):
        assert fields_of(transports[reader], written) == values, reader
    got = fields_of(transports["exiftool"], written)  # stock ExifTool drops the PLUS vocabulary prefix
    assert got == {**values, "data_mining": values["data_mining"].removeprefix(PLUS_VOCAB)}
    assert content_hash(written) == content_hash(source)


@pytest.mark.parametrize("writer", ["exiv2", "exiftool", VENDOR])
def test_line_breaks_read_back_exactly(transports: dict[str, InprocTransport], media: dict[str, bytes], writer: str) -> None:
    """CR, CRLF and LF, escaped as ``&#xD;`` by Exiv2 and Exempi, read back as written by Exempi
    (ExifTool writes CR raw, which an XML parser reads as LF: vendors/exiftool pins that)."""
    written = write(transports[writer], Asset(media["image/png"], "image/png"), LINE_BREAKS)
    expected = LINE_BREAKS if writer != "exiftool" else {k: v.replace("\r\n", "\n").replace("\r", "\n") for k, v in LINE_BREAKS.items()}
    assert fields_of(transports[VENDOR], written) == expected


def test_a_write_keeps_the_rest_of_a_real_lightroom_packet(transports: dict[str, InprocTransport]) -> None:
    """A C2PA public test file whose XMP Lightroom wrote: the fields are added, Lightroom's own
    properties (xmp:CreatorTool, aux:Lens) stay, as Exiv2 sees them too."""
    import pyexiv2

    values = VALUE_SETS["unicode"]
    written = write(transports[VENDOR], Asset(LIGHTROOM_JPEG.read_bytes(), "image/jpeg"), values)
    for reader in (VENDOR, "exiv2", "xmp-reference"):
        assert fields_of(transports[reader], written) == values, reader
    image = pyexiv2.ImageData(written.data)
    try:
        kept = image.read_xmp()
    finally:
        image.close()
    assert kept["Xmp.xmp.CreatorTool"] == "Adobe Lightroom 5.3 (Macintosh)"
    assert kept["Xmp.aux.Lens"] == "EF-S18-55mm f/3.5-5.6 IS II"


def test_known_exempi_corrupts_a_simple_webp_but_not_an_extended_one(
    transports: dict[str, InprocTransport], media: dict[str, bytes]
) -> None:
    """XMP needs WebP's extended format (a VP8X chunk first).  Given a simple file (one VP8
    chunk, as the catalogue's WebP files are), Exempi adds VP8X but loses the image chunk's
    header: no decoder opens the result.  A file already extended is written correctly, so
    the adapter reads WebP and refuses to write it."""
    simple = media["image/webp"]
    assert simple[12:16] == b"VP8 "
    broken = with_library(simple, ".webp", "t")
    assert broken[12:16] == b"VP8X" and broken[30:34] != b"VP8 "
    with pytest.raises(OSError):
        Image.open(io.BytesIO(broken)).load()
    extended = write(transports["exiv2"], Asset(simple, "image/webp"), {"creator": "via exiv2"})
    assert extended.data[12:16] == b"VP8X"
    fine = with_library(extended.data, ".webp", "Exempi title")
    Image.open(io.BytesIO(fine)).load()
    assert fields_of(transports["xmp-reference"], Asset(fine, "image/webp")) == {"creator": "via exiv2", "title": "Exempi title"}
    with pytest.raises(Unsupported):
        write(transports[VENDOR], Asset(extended.data, "image/webp"), {"title": "t"})


def test_known_exempi_reads_exif_fields_as_xmp_where_the_others_read_none(
    transports: dict[str, InprocTransport], media: dict[str, bytes]
) -> None:
    """No XMP packet, only Exif Artist, ImageDescription and Copyright: Exempi's JPEG handler
    reconciles them into dc:creator, dc:description and dc:rights (the Metadata Working
    Group's mapping); the other readers read the XMP packet alone."""
    exif = Image.Exif()
    exif.update({0x013B: "Exif Artist", 0x010E: "Exif Description", 0x8298: "Exif Copyright"})
    buffer = io.BytesIO()
    Image.open(io.BytesIO(media["image/jpeg"])).save(buffer, "JPEG", exif=exif.tobytes())
    asset = Asset(buffer.getvalue(), "image/jpeg")
    assert fields_of(transports[VENDOR], asset) == {
        "creator": "Exif Artist", "description": "Exif Description", "copyright_notice": "Exif Copyright"}
    for reader in OTHER_READERS:
        assert fields_of(transports[reader], asset) == {}, reader


def test_known_exempi_also_writes_the_fields_to_exif_and_iptc(
    transports: dict[str, InprocTransport], media: dict[str, bytes]
) -> None:
    """Into a JPEG with neither, Exempi writes Exif IFD0 tags (UTF-8 bytes) and an IPTC-IIM
    block (coded character set ESC % G, UTF-8) beside the XMP; Exiv2 writes the XMP alone."""
    values = {"creator": "Zoë", "description": "Café", "copyright_notice": "© 2026", "title": "Harbour"}
    source = Asset(media["image/jpeg"], "image/jpeg")
    written = write(transports[VENDOR], source, values)
    exif = Image.open(io.BytesIO(written.data)).getexif()  # Pillow decodes these ASCII tags as Latin-1
    assert {tag: exif[tag].encode("latin-1").decode("utf-8") for tag in (0x013B, 0x010E, 0x8298)} == {
        0x013B: "Zoë", 0x010E: "Café", 0x8298: "© 2026"}
    iptc = [body for marker, body in segments(written.data) if marker == 0xED]
    assert len(iptc) == 1 and b"\x1c\x01\x5a\x00\x03\x1b%G" in iptc[0] and b"Harbour" in iptc[0]
    by_exiv2 = write(transports["exiv2"], source, values)
    assert [marker for marker, body in segments(by_exiv2.data) if marker == 0xED or body.startswith(b"Exif")] == []


def test_known_a_description_over_64_kb_splits_exif_and_exiv2_cannot_open_the_file(
    transports: dict[str, InprocTransport], media: dict[str, bytes]
) -> None:
    """70,000 characters: the XMP goes to ExtendedXMP as XMP Part 3 says, which ExifTool and
    xmp-reference reassemble; the Exif copy does not fit one APP1 segment either, and Exempi
    spreads it over two, which Exif has no rule for: Exiv2 then refuses the whole file."""
    value = "D" * 70_000
    written = write(transports[VENDOR], Asset(media["image/jpeg"], "image/jpeg"), {"description": value})
    app1 = [body[:35] for marker, body in segments(written.data) if marker == 0xE1]
    assert sum(head.startswith(b"Exif\x00\x00") for head in app1) == 2
    assert sum(head.startswith(b"http://ns.adobe.com/xmp/extension/\x00") for head in app1) == 2
    for reader in (VENDOR, "exiftool", "xmp-reference"):
        assert fields_of(transports[reader], written) == {"description": value}, reader
    with pytest.raises(AdapterError, match="out of bounds"):
        read(transports["exiv2"], written)


def test_known_setting_x_default_keeps_the_other_languages(
    transports: dict[str, InprocTransport], media: dict[str, bytes]
) -> None:
    """The XMP Toolkit's SetLocalizedText sets x-default and the items that had its old value,
    and keeps the other languages; Exiv2 and ExifTool replace the whole rdf:Alt."""
    packet = xmp_packet("Old").replace(b"</rdf:Alt>", b"<rdf:li xml:lang='en'>Old</rdf:li><rdf:li xml:lang='de'>Alt</rdf:li></rdf:Alt>")
    source = Asset(with_png_itxt(media["image/png"], packet), "image/png")
    languages = {}
    for writer in (VENDOR, "exiv2", "exiftool"):
        written = write(transports[writer], source, {"title": "New"})
        assert fields_of(transports["xmp-reference"], written) == {"title": "New"}
        title = re.search(rb"<dc:title>.*</dc:title>", written.data, re.S)
        assert title is not None
        languages[writer] = re.findall(rb"xml:lang=[\"']([^\"']+)[\"']>([^<]*)<", title.group())
    assert languages == {VENDOR: [(b"x-default", b"New"), (b"en", b"New"), (b"de", b"Alt")],
                         "exiv2": [(b"x-default", b"New")], "exiftool": [(b"x-default", b"New")]}


@pytest.mark.parametrize("character", ["\x00", "\x01", "\x1b", "\ufffe"])
def test_characters_xml_cannot_carry_are_refused_as_exempi_would_alter_them(
    transports: dict[str, InprocTransport], media: dict[str, bytes], character: str
) -> None:
    """Exempi's serializer writes a C0 control as a space and libxmp passes a C string (a NUL
    ends it): the adapter refuses such a value, naming the field, rather than write another."""
    if character in "\x01\x1b":
        xmp = XMPMeta()
        xmp.set_property(consts.XMP_NS_DC, "source", f"a{character}b")
        assert "<dc:source>a b</dc:source>" in xmp.serialize_to_unicode()
    with pytest.raises(AdapterError, match=r"^title: XML 1\.0 cannot carry the character U\+"):
        write(transports[VENDOR], Asset(media["image/png"], "image/png"), {"creator": "ok", "title": f"a{character}b"})


def test_known_padding_depends_on_the_format(transports: dict[str, InprocTransport], media: dict[str, bytes]) -> None:
    """Exempi pads the packet by about 2 KB of whitespace in JPEG and TIFF (room to edit in
    place) and not at all in PNG, which it rewrites whole anyway."""
    padding = {}
    for media_type in WRITE_TYPES:
        written = write(transports[VENDOR], Asset(media[media_type], media_type), {"title": "t"})
        end = written.data.index(b"<?xpacket end=")
        before = written.data[:end]
        padding[media_type] = len(before) - len(before.rstrip(b" \n"))
    assert padding["image/png"] < 10
    assert padding["image/jpeg"] >= 2000 and padding["image/tiff"] >= 2000


@pytest.mark.parametrize("kind", ["external-entity", "external-dtd", "parameter-entity", "billion-laughs"])
@pytest.mark.parametrize("media_type", ["image/jpeg", "image/png"])
def test_known_a_packet_with_a_doctype_reads_as_no_metadata_and_never_leaks(
    transports: dict[str, InprocTransport], media: dict[str, bytes], secret: tuple[str, str], media_type: str, kind: str  # noqa: F811
) -> None:
    """The XMP Toolkit's parser refuses any DOCTYPE and the smart handler then drops the
    packet: no field, no error (xmp-reference answers with an error for the same files)."""
    uri, marker = secret
    doctype, title = hostile_doctype(kind, uri)
    packet = xmp_packet(title, doctype)
    data = with_jpeg_app1(media[media_type], JPEG_XMP + packet) if media_type == "image/jpeg" else with_png_itxt(media[media_type], packet)
    answer = read(transports[VENDOR], Asset(data, media_type))
    assert answer == {"fields": {}}
    for leak in _leak_markers(marker):
        assert leak not in repr(answer)


def test_known_a_shorter_packet_rewritten_into_a_png_leaves_the_old_tail(
    transports: dict[str, InprocTransport], media: dict[str, bytes]
) -> None:
    """Exempi's PNG handler writes a packet that fits the old iTXt chunk in place, without
    padding (PNG packets have none), so the old packet's last bytes stay after the new one: no
    XML parser accepts it.  The adapter refuses to return that file; JPEG and TIFF, whose
    packets carry padding, rewrite cleanly."""
    once = with_library(media["image/png"], ".png", "a longer old title")
    twice = with_library(once, ".png", "short")
    old, new = png_xmp(once), png_xmp(twice)
    assert len(new) == len(old)
    tail = new.split(b'<?xpacket end="r"?>', 1)[1]
    assert tail.strip() and old.endswith(tail)
    with pytest.raises(AdapterError, match="not well-formed"):
        read(transports["xmp-reference"], Asset(twice, "image/png"))
    assert fields_of(transports[VENDOR], Asset(twice, "image/png")) == {}
    first = write(transports[VENDOR], Asset(media["image/png"], "image/png"), {"title": "a longer old title"})
    with pytest.raises(AdapterError, match="^Exempi cannot read back the XMP packet it wrote: its PNG handler"):
        write(transports[VENDOR], first, {"title": "short"})
    for media_type in ("image/jpeg", "image/tiff"):
        first = write(transports[VENDOR], Asset(media[media_type], media_type), {"title": "a longer old title"})
        second = write(transports[VENDOR], first, {"title": "short"})
        for reader in (VENDOR, *OTHER_READERS):
            assert fields_of(transports[reader], second) == {"title": "short"}, (media_type, reader)


@pytest.mark.parametrize("media_type", WRITE_TYPES)
def test_known_exempi_reads_an_empty_property_as_absent(
    transports: dict[str, InprocTransport], media: dict[str, bytes], media_type: str
) -> None:
    """An empty value is written (``<xmpRights:WebStatement/>``, an empty x-default item) and
    xmp-reference and Exiv2 read it as ""; Exempi's XMPFiles drops empty properties when it
    reads a file, so its own reader reports the field absent."""
    values = {"web_statement": "", "title": ""}
    written = write(transports[VENDOR], Asset(media[media_type], media_type), values)
    assert fields_of(transports["xmp-reference"], written) == values
    assert fields_of(transports["exiv2"], written) == values
    assert fields_of(transports[VENDOR], written) == {}
