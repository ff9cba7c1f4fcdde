"""The four metadata vendors (exiftool, exiv2, mutagen, xmp-reference) through the harness's
real loading path: ``load_manifest`` -> ``InprocTransport`` -> ``start``/``call``/``close``.
The identifier tests add exiv2-cli, served in process when the host has the exiv2 program
(in a run it is served from its Docker image).

Media are derived from the repository's vectors with ``runner.derive`` (no metadata in
them), so every field a reader reports was put there by the writer under test.  Tests named
``test_known_*`` pin real interop differences between upstream implementations: they assert
today's behaviour so that a change (a fix upstream, or a regression) is noticed.
"""

from __future__ import annotations

import re
import shutil
import struct
import tomllib
import unicodedata
import urllib.parse
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiii_kit import AdapterError, Asset, Unsupported
from aiii_kit.metadata import IDENTIFIER_FIELDS
from aiii_kit.vocab import IPTC_DST, PLUS_VOCAB
from helpers import ROOT
from lxml import etree

from conformance.fields import content_hash, declared_fields, normalisations, normalise
from runner.derive import derive_bytes
from runner.model import VendorManifest
from runner.schema import first_error
from runner.transports import Transport, make_transport
from runner.transports.inproc import InprocTransport
from runner.vendors import docker_availability, load_manifest, rule_version

VENDOR_IDS = ("exiftool", "exiv2", "mutagen", "xmp-reference")
#: Generous: the hostile tiff_poc.tiff takes ExifTool several seconds.
CALL_TIMEOUT_S = 60.0
READ_RESULT = "aiii:protocol/v1/metadata.read.result"
WRITE_PARAMS = "aiii:protocol/v1/metadata.write.params"

IMAGE_SOURCE = ROOT / "test_vectors" / "images" / "kodak" / "kodim01.png"
AUDIO_SOURCE = ROOT / "test_vectors" / "audio" / "sorohan-solo-trumpet.ogg"
HOSTILE_DIR = ROOT / "test_vectors" / "c2pa" / "hostile"
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/tiff")
AUDIO_TYPES = ("audio/wav", "audio/flac", "audio/mpeg")
ID3_TYPES = ("audio/mpeg", "audio/wav")

_ACCENTED = "Crème brûlée, Zoë Ångström"
SCRIPTS: dict[str, str] = {
    "ascii": "Harbour at dawn, 6:40 (test #1)",
    "nfc": unicodedata.normalize("NFC", _ACCENTED),
    "nfd": unicodedata.normalize("NFD", _ACCENTED),
    "rtl": "צילום: אורי כהן — تصوير: علي",
    "emoji": "Studio 🎨🤖 👩🏽\u200d💻 🇳🇴",
}
assert SCRIPTS["nfc"] != SCRIPTS["nfd"], "the NFC and NFD samples must differ in code points"

#: Every vendor with metadata operations: the four above and exiv2-cli (a docker vendor).
METADATA_VENDOR_IDS = (*VENDOR_IDS, "exiv2-cli")
MANIFESTS: dict[str, VendorManifest] = {v: load_manifest(ROOT / "vendors" / v / "vendor.toml") for v in METADATA_VENDOR_IDS}


def declared_types(vendor: str, operation: str) -> tuple[str, ...]:
    cap = MANIFESTS[vendor].capability(operation)
    return cap.media_types if cap else ()


def own_fields(vendor: str, media_type: str) -> set[str]:
    m = MANIFESTS[vendor]
    return declared_fields(m, "metadata.write", media_type) & declared_fields(m, "metadata.read", media_type)


def passes(writer: str, reader: str, media_type: str) -> list[str]:
    """The normalisation passes both sides declare, as the harness's round-trip check applies them."""
    return sorted(
        set(normalisations(MANIFESTS[writer], "metadata.write", media_type))
        | set(normalisations(MANIFESTS[reader], "metadata.read", media_type))
    )


def field_values(text: str, fields: set[str], writer: str, media_type: str, ascii_url: bool = False) -> dict[str, str]:
    """A distinct value per field, each holding ``text``.

    An ID3 WCOP URL (mutagen, MP3/WAV) is written percent-encoded when it must be: outside
    Latin-1 always (mutagen refuses it), and outside ASCII when ``ascii_url`` (ExifTool
    reads non-ASCII WCOP bytes as '?'); both are pinned by ``test_known_*`` below."""
    values: dict[str, str] = {}
    for name in sorted(fields):
        if name == "digital_source_type":
            value = f"{IPTC_DST}trainedAlgorithmicMedia {text}"
        elif name == "data_mining":
            value = f"{PLUS_VOCAB}{text} (data mining)"
        elif name == "iscc":
            # An ISCC's canonical form starts with "ISCC:" (and XMP readers give it back so).
            value = f"ISCC:{text} [iscc]"
        elif name == "web_statement":
            value = f"https://example.org/licence/{text}"
            if writer == "mutagen" and media_type in ID3_TYPES and not (value.isascii() if ascii_url else _latin1(value)):
                value = "https://example.org/licence/" + urllib.parse.quote(text)
        else:
            value = f"{text} [{name}]"
        values[name] = value
    return values


def _latin1(value: str) -> bool:
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


# -- fixtures and calls -----------------------------------------------------------------


def exiftool_process(transport: InprocTransport) -> Any:
    """The adapter's current ``subprocess.Popen`` of the ExifTool batch process, or None."""
    adapter: Any = transport._adapter
    holder = adapter._proc if adapter is not None else None
    return holder._proc if holder is not None else None


@pytest.fixture(scope="module")
def transports() -> Iterator[dict[str, InprocTransport]]:
    started: dict[str, InprocTransport] = {}
    try:
        for vendor in VENDOR_IDS:
            transport = InprocTransport(MANIFESTS[vendor])
            transport.start()
            started[vendor] = transport
        yield started
    finally:
        perl = exiftool_process(started["exiftool"]) if "exiftool" in started else None
        for transport in started.values():
            transport.close()
        assert perl is None or perl.poll() is not None, "the shared ExifTool process outlived close()"


@pytest.fixture(scope="module")
def media() -> dict[str, bytes]:
    """Clean media of every type, derived as the harness derives its vectors."""
    out = {mt: derive_bytes(IMAGE_SOURCE, "image/png", mt) for mt in IMAGE_TYPES}
    out.update({mt: derive_bytes(AUDIO_SOURCE, "audio/ogg", mt) for mt in AUDIO_TYPES})
    return out


def write(transport: Transport, asset: Asset, fields: dict[str, str]) -> Asset:
    params = {"fields": fields}
    assert first_error(WRITE_PARAMS, params) is None
    out = transport.call("metadata.write", asset, params, CALL_TIMEOUT_S)
    assert isinstance(out, Asset)
    assert out.media_type == asset.media_type
    return out


def read(transport: Transport, asset: Asset) -> dict[str, Any]:
    """A reader's answer, which must validate against the protocol schema."""
    answer = transport.call("metadata.read", asset, {}, CALL_TIMEOUT_S)
    assert isinstance(answer, dict)
    problem = first_error(READ_RESULT, answer)
    assert problem is None, f"{transport.manifest.id} answered outside the protocol: {problem}"
    return answer


def fields_of(transport: Transport, asset: Asset) -> dict[str, str]:
    return dict(read(transport, asset)["fields"])


def assert_fields_equal(got: dict[str, str], expected: dict[str, str], steps: list[str]) -> None:
    assert set(got) == set(expected), f"fields read {sorted(got)} != fields written {sorted(expected)}"
    for name, value in expected.items():
        assert normalise(got[name], steps) == normalise(value, steps), f"{name}: wrote {value!r}, read {got[name]!r}"


def assert_still_nfd(got: dict[str, str], written: dict[str, str]) -> None:
    """Every value written with the NFD sample reads back with it, not recomposed to NFC."""
    checked = 0
    for name, value in written.items():
        if SCRIPTS["nfd"] in value:
            assert SCRIPTS["nfd"] in got[name] and SCRIPTS["nfc"] not in got[name], f"{name}: NFD came back as {got[name]!r}"
            checked += 1
    assert checked, "no value held the NFD sample"


# -- writer x own reader ----------------------------------------------------------------

OWN_ROUNDTRIPS = [
    pytest.param(w, mt, s, id=f"{w}-{mt}-{s}")
    for w in ("exiftool", "exiv2", "mutagen")
    for mt in declared_types(w, "metadata.write")
    if mt in declared_types(w, "metadata.read")
    for s in SCRIPTS
]


@pytest.mark.parametrize(("writer", "media_type", "script"), OWN_ROUNDTRIPS)
def test_writer_round_trips_every_declared_field_with_its_own_reader(
    transports: dict[str, InprocTransport], media: dict[str, bytes], writer: str, media_type: str, script: str
) -> None:
    fields = own_fields(writer, media_type)
    assert fields, f"{writer} declares no field for {media_type}"
    values = field_values(SCRIPTS[script], fields, writer, media_type)
    written = write(transports[writer], Asset(media[media_type], media_type), values)
    got = fields_of(transports[writer], written)
    steps = passes(writer, writer, media_type)
    # only the declared normalisation may differ, and it may only touch data_mining
    assert set(steps) <= {"data_mining_code"}
    assert_fields_equal(got, values, steps)
    for name in set(values) - {"data_mining"}:
        assert got[name] == values[name], f"{name} is not byte-exact"
    if script == "nfd":
        assert_still_nfd(got, values)


@pytest.mark.parametrize(
    ("writer", "media_type"),
    [pytest.param(w, mt, id=f"{w}-{mt}") for w in ("exiftool", "exiv2", "mutagen") for mt in declared_types(w, "metadata.write")],
)
def test_nfc_and_nfd_values_stay_distinct_in_one_file(
    transports: dict[str, InprocTransport], media: dict[str, bytes], writer: str, media_type: str
) -> None:
    """Two fields, one NFC and one NFD, keep their own normalisation form."""
    written = write(transports[writer], Asset(media[media_type], media_type), {"creator": SCRIPTS["nfc"], "title": SCRIPTS["nfd"]})
    got = fields_of(transports[writer], written)
    assert got["creator"] == SCRIPTS["nfc"] and unicodedata.is_normalized("NFC", got["creator"])
    assert got["title"] == SCRIPTS["nfd"] and not unicodedata.is_normalized("NFC", got["title"])
    assert got["creator"] != got["title"]


# -- preservation, clean files ------------------------------------------------------------


@pytest.mark.parametrize(
    ("writer", "media_type"),
    [pytest.param(w, mt, id=f"{w}-{mt}") for w in ("exiftool", "exiv2", "mutagen") for mt in declared_types(w, "metadata.write")],
)
def test_writer_leaves_decoded_content_unchanged(
    transports: dict[str, InprocTransport], media: dict[str, bytes], writer: str, media_type: str
) -> None:
    source = Asset(media[media_type], media_type)
    values = field_values(SCRIPTS["emoji"], own_fields(writer, media_type), writer, media_type)
    written = write(transports[writer], source, values)
    assert written.data != source.data, "the writer returned the file unchanged"
    assert fields_of(transports[writer], written)["title"] == values["title"]
    before, what = content_hash(source)
    after, what_after = content_hash(written)
    assert what_after == what
    assert after == before, f"decoded content changed ({what})"


@pytest.mark.parametrize(
    ("reader", "media_type"),
    [pytest.param(r, mt, id=f"{r}-{mt}") for r in VENDOR_IDS for mt in declared_types(r, "metadata.read")],
)
def test_reader_reports_no_fields_in_a_clean_file(
    transports: dict[str, InprocTransport], media: dict[str, bytes], reader: str, media_type: str
) -> None:
    assert read(transports[reader], Asset(media[media_type], media_type))["fields"] == {}


# -- cross reads ----------------------------------------------------------------------------

CROSS_READERS = {"exiftool": ("exiv2", "xmp-reference"), "exiv2": ("exiftool", "xmp-reference"), "mutagen": ("exiftool",)}
CROSS_READS = [
    pytest.param(w, mt, s, id=f"{w}-{mt}-{s}")
    for w, readers in CROSS_READERS.items()
    for mt in declared_types(w, "metadata.write")
    if all(mt in declared_types(r, "metadata.read") for r in readers)
    for s in SCRIPTS
]


@pytest.mark.parametrize(("writer", "media_type", "script"), CROSS_READS)
def test_other_readers_agree_with_the_writer(
    transports: dict[str, InprocTransport], media: dict[str, bytes], writer: str, media_type: str, script: str
) -> None:
    readers = CROSS_READERS[writer]
    fields = own_fields(writer, media_type)
    for reader in readers:
        fields &= declared_fields(MANIFESTS[reader], "metadata.read", media_type)
    values = field_values(SCRIPTS[script], fields, writer, media_type, ascii_url=True)
    written = write(transports[writer], Asset(media[media_type], media_type), values)
    answers = {reader: fields_of(transports[reader], written) for reader in readers}
    for reader, got in answers.items():
        assert_fields_equal(got, values, passes(writer, reader, media_type))
        if script == "nfd":
            assert_still_nfd(got, values)
    exact = [r for r in readers if not passes(writer, r, media_type)]
    for reader in exact:
        assert answers[reader] == values, f"{reader} needs no normalisation, so it must read {writer}'s values exactly"


# -- known upstream differences, pinned ----------------------------------------------------


LINE_BREAKS = {"title": "first line\r\nsecond line", "description": "before\rafter", "creator": "one\ntwo"}


@pytest.mark.parametrize("media_type", declared_types("exiv2", "metadata.write"))
def test_exiv2_escapes_carriage_returns_so_every_reader_keeps_them(
    transports: dict[str, InprocTransport], media: dict[str, bytes], media_type: str
) -> None:
    """The contrast: Exiv2 writes ``&#xD;``, and all three image readers read CR exactly."""
    written = write(transports["exiv2"], Asset(media[media_type], media_type), LINE_BREAKS)
    assert b"&#xD;" in written.data
    for reader in ("exiv2", "exiftool", "xmp-reference"):
        assert fields_of(transports[reader], written) == LINE_BREAKS


# -- empty values and undeclared media ----------------------------------------------------

EMPTY_CASES = [
    pytest.param(w, mt, f, id=f"{w}-{mt}-{f}")
    for w, mt in (("exiftool", "image/jpeg"), ("exiv2", "image/png"), ("mutagen", "audio/mpeg"), ("mutagen", "audio/flac"))
    for f in sorted(own_fields(w, mt))
]


@pytest.mark.parametrize(("writer", "media_type", "field"), EMPTY_CASES)
def test_an_empty_value_is_written_or_refused_never_silently_dropped(
    transports: dict[str, InprocTransport], media: dict[str, bytes], writer: str, media_type: str, field: str
) -> None:
    """Writing "" over an existing value either stores "" or fails cleanly; a writer must not
    report success while the file ends up without the field (or keeps the old value)."""
    old = write(transports[writer], Asset(media[media_type], media_type), {field: "old value"})
    try:
        written = write(transports[writer], old, {field: ""})
    except Unsupported:
        raise AssertionError("an empty value of a declared field is no Unsupported") from None
    except AdapterError:
        return
    expected = normalise("", passes(writer, writer, media_type))
    assert normalise(fields_of(transports[writer], written).get(field, "<absent>"), passes(writer, writer, media_type)) == expected


# -- XXE and hostile files -----------------------------------------------------------------

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


@pytest.fixture(scope="module")
def secret(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A file an entity may point at, with a marker no answer may contain."""
    marker = "AIII-SECRET-7f3a9c-DO-NOT-LEAK"
    path = tmp_path_factory.mktemp("xxe") / "secret.txt"
    path.write_text(marker + "\n")
    return path.as_uri(), marker


def _leak_markers(marker: str) -> list[str]:
    found = [marker]
    passwd = Path("/etc/passwd")
    if passwd.is_file():
        found += [line for line in passwd.read_text(errors="replace").splitlines() if line.startswith("root:")]
    return found


def _catalogue_types() -> dict[str, str]:
    doc = tomllib.loads((ROOT / "test_vectors" / "catalogue.toml").read_text(encoding="utf-8"))
    return {Path(v["file"]).name: v["media_type"] for v in doc["vectors"] if v["file"].startswith("c2pa/hostile/")}


HOSTILE_FILES = sorted(p.name for p in HOSTILE_DIR.iterdir() if p.is_file() and not p.name.startswith("LICENSE"))


@pytest.mark.parametrize("reader", VENDOR_IDS)
@pytest.mark.parametrize("name", HOSTILE_FILES)
def test_hostile_files_give_a_report_or_a_clean_error(transports: dict[str, InprocTransport], reader: str, name: str) -> None:
    media_type = _catalogue_types()[name]
    asset = Asset((HOSTILE_DIR / name).read_bytes(), media_type, name=name)
    declared = media_type in declared_types(reader, "metadata.read")
    try:
        answer = read(transports[reader], asset)  # any other exception (TransportError) fails the test
    except Unsupported:
        assert not declared, f"{reader} declares {media_type} but calls it unsupported"
        return
    except AdapterError:
        assert declared, f"{reader} does not declare {media_type}: expected Unsupported"
        return
    assert declared, f"{reader} answered for undeclared {media_type}"
    assert isinstance(answer["fields"], dict)


def test_every_hostile_file_is_catalogued() -> None:
    assert HOSTILE_FILES and set(HOSTILE_FILES) <= set(_catalogue_types())


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
    """A parameter set's marks: `debian` where exiv2-cli, which runs the exiv2 program, takes part."""
    return (pytest.mark.debian,) if "exiv2-cli" in vendors else ()


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
        **{mt: ["exiftool", "exiv2", "exiv2-cli"] for mt in IMAGE_TYPES},
        **{mt: ["mutagen"] for mt in AUDIO_TYPES},
    }
    assert {mt: identifier_vendors("metadata.read", mt) for mt in (*IMAGE_TYPES, *AUDIO_TYPES)} == {
        **{mt: ["exiftool", "exiv2", "xmp-reference", "exiv2-cli"] for mt in IMAGE_TYPES},
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
     for w in ("exiftool", "exiv2", "mutagen", "exiv2-cli") for mt in declared_types(w, "metadata.write")],
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


# -- versions and process hygiene ------------------------------------------------------------


def reported_version(transport: InprocTransport) -> str | None:
    """The version a run records: the manifest's rule, else the adapter's own report (as runner.run does)."""
    return rule_version(transport.manifest) or transport.implementation_version()


