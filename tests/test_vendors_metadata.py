"""The five metadata vendors (exiftool, exiv2, mutagen, xmp-reference, python-xmp-toolkit) through the harness's
real loading path: ``load_manifest`` -> ``InprocTransport`` -> ``start``/``call``/``close``.
The identifier tests are in test_vendors_metadata_identifiers.py, with exiv2-cli.

Media are derived from the repository's vectors with ``runner.derive`` (no metadata in
them), so every field a reader reports was put there by the writer under test.  Tests named
``test_known_*`` pin real interop differences between upstream implementations: they assert
today's behaviour so that a change (a fix upstream, or a regression) is noticed.
"""

from __future__ import annotations

import tomllib
import unicodedata
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiii_kit import AdapterError, Asset, Unsupported
from aiii_kit.vocab import IPTC_DST, PLUS_VOCAB
from helpers import ROOT
from xmp_crafting import (  # noqa: F401 - imported from here by the identifier and vendor tests too
    EXT_GUID,
    JPEG_EXT_XMP,
    JPEG_XMP,
    _leak_markers,
    hostile_doctype,
    with_extended_xmp,
    with_jpeg_app1,
    with_png_itxt,
    xmp_packet,
)

from conformance.fields import content_hash, declared_fields, normalisations, normalise
from runner.derive import derive_bytes
from runner.model import VendorManifest
from runner.schema import first_error
from runner.transports import Transport
from runner.transports.inproc import InprocTransport
from runner.vendors import load_manifest, rule_version

VENDOR_IDS = ("exiftool", "exiv2", "mutagen", "xmp-reference", "python-xmp-toolkit")
#: The vendors that write metadata (xmp-reference only reads).
WRITER_IDS = ("exiftool", "exiv2", "mutagen", "python-xmp-toolkit")
#: Vendors that need a Debian package: python-xmp-toolkit loads Exempi (libexempi8).
DEBIAN_VENDORS = frozenset({"python-xmp-toolkit"})
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

#: Every vendor with metadata operations: the five above and exiv2-cli (a docker vendor).
METADATA_VENDOR_IDS = (*VENDOR_IDS, "exiv2-cli")
MANIFESTS: dict[str, VendorManifest] = {v: load_manifest(ROOT / "vendors" / v / "vendor.toml") for v in METADATA_VENDOR_IDS}


def debian(*vendors: str) -> tuple[pytest.MarkDecorator, ...]:
    """A parameter set's marks: `debian` where a vendor that needs a Debian package takes part."""
    return (pytest.mark.debian,) if DEBIAN_VENDORS.intersection(vendors) else ()


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


class Started(dict[str, InprocTransport]):
    """The vendors' transports, each started at its first use, so a test that uses no vendor
    needing a Debian package (``debian``) runs where the package is missing."""

    def __missing__(self, vendor: str) -> InprocTransport:
        if vendor not in VENDOR_IDS:
            raise KeyError(vendor)
        transport = InprocTransport(MANIFESTS[vendor])
        transport.start()
        self[vendor] = transport
        return transport


@pytest.fixture(scope="module")
def transports() -> Iterator[dict[str, InprocTransport]]:
    started = Started()
    try:
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
    pytest.param(w, mt, s, id=f"{w}-{mt}-{s}", marks=debian(w))
    for w in WRITER_IDS
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
    [pytest.param(w, mt, id=f"{w}-{mt}", marks=debian(w)) for w in WRITER_IDS for mt in declared_types(w, "metadata.write")],
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
    [pytest.param(w, mt, id=f"{w}-{mt}", marks=debian(w)) for w in WRITER_IDS for mt in declared_types(w, "metadata.write")],
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
    [pytest.param(r, mt, id=f"{r}-{mt}", marks=debian(r)) for r in VENDOR_IDS for mt in declared_types(r, "metadata.read")],
)
def test_reader_reports_no_fields_in_a_clean_file(
    transports: dict[str, InprocTransport], media: dict[str, bytes], reader: str, media_type: str
) -> None:
    assert read(transports[reader], Asset(media[media_type], media_type))["fields"] == {}


# -- cross reads ----------------------------------------------------------------------------

#: (writer, the other readers that read its file); python-xmp-toolkit's reads of the others
#: are apart, so the fast loop (no Debian package) keeps the other pairs.
CROSS_READERS = (
    ("exiftool", ("exiv2", "xmp-reference")),
    ("exiv2", ("exiftool", "xmp-reference")),
    ("mutagen", ("exiftool",)),
    ("python-xmp-toolkit", ("exiftool", "exiv2", "xmp-reference")),
    ("exiftool", ("python-xmp-toolkit",)),
    ("exiv2", ("python-xmp-toolkit",)),
)
CROSS_READS = [
    pytest.param(w, readers, mt, s, marks=debian(w, *readers),
                 id=f"{w}-{mt}-{s}" if not DEBIAN_VENDORS.intersection((w, *readers)) else f"{w}-{'+'.join(readers)}-{mt}-{s}")
    for w, readers in CROSS_READERS
    for mt in declared_types(w, "metadata.write")
    if all(mt in declared_types(r, "metadata.read") for r in readers)
    for s in SCRIPTS
]


@pytest.mark.parametrize(("writer", "readers", "media_type", "script"), CROSS_READS)
def test_other_readers_agree_with_the_writer(
    transports: dict[str, InprocTransport], media: dict[str, bytes], writer: str, readers: tuple[str, ...], media_type: str, script: str
) -> None:
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

@pytest.fixture(scope="module")
def secret(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A file an entity may point at, with a marker no answer may contain."""
    marker = "AIII-SECRET-7f3a9c-DO-NOT-LEAK"
    path = tmp_path_factory.mktemp("xxe") / "secret.txt"
    path.write_text(marker + "\n")
    return path.as_uri(), marker


def _catalogue_types() -> dict[str, str]:
    doc = tomllib.loads((ROOT / "test_vectors" / "catalogue.toml").read_text(encoding="utf-8"))
    return {Path(v["file"]).name: v["media_type"] for v in doc["vectors"] if v["file"].startswith("c2pa/hostile/")}


HOSTILE_FILES = sorted(p.name for p in HOSTILE_DIR.iterdir() if p.is_file() and not p.name.startswith("LICENSE"))


@pytest.mark.parametrize("reader", [pytest.param(r, marks=debian(r)) for r in VENDOR_IDS])
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


# -- versions and process hygiene ------------------------------------------------------------


def reported_version(transport: InprocTransport) -> str | None:
    """The version a run records: the manifest's rule, else the adapter's own report (as runner.run does)."""
    return rule_version(transport.manifest) or transport.implementation_version()


