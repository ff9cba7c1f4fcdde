"""ExifTool's known quirks and what it does right, each pinned: ID3 WCOP URLs, the PLUS
vocabulary prefix, the raw data-mining config, raw carriage returns, no audio writing.

Its place in the metadata matrix is in tests/test_vendors_metadata.py, whose fixtures and
helpers this module shares.
"""

from __future__ import annotations

import dataclasses
import re

import pytest
from aiii_kit import Asset, Unsupported
from aiii_kit.vocab import PLUS_VOCAB
from test_vendors_metadata import (  # noqa: F401 - fixtures and helpers of the family's matrix module
    AUDIO_TYPES,
    CALL_TIMEOUT_S,
    ID3_TYPES,
    LINE_BREAKS,
    MANIFESTS,
    declared_types,
    fields_of,
    media,
    read,
    transports,
    write,
)

from conformance.fields import normalisations
from runner.transports.inproc import InprocTransport


@pytest.mark.parametrize("media_type", ID3_TYPES)
@pytest.mark.parametrize(
    "url",
    [
        pytest.param("https://example.org/licence/ümlaut?q=ä&x=1", id="latin1-letters"),
        pytest.param("https://example.org/caf\u00e9\u00a0\u00bd", id="latin1-bytes-that-are-valid-utf8"),
    ],
)
def test_known_exiftool_misreads_a_latin1_id3_wcop_url(
    transports: dict[str, InprocTransport], media: dict[str, bytes], media_type: str, url: str  # noqa: F811
) -> None:
    """Known upstream difference: mutagen writes the WCOP URL frame in ISO-8859-1, as ID3
    requires, and reads it back exactly.  ExifTool 13.10 does not decode URL frames: it
    passes the Latin-1 bytes into its UTF-8 output as they are, so each byte that is not
    valid UTF-8 shows as '?' (``ümlaut`` -> ``?mlaut``), and Latin-1 bytes that happen to
    form UTF-8 turn into other characters (é, NBSP, ½ -> 頽)."""
    written = write(transports["mutagen"], Asset(media[media_type], media_type), {"web_statement": url, "title": "t"})
    assert fields_of(transports["mutagen"], written)["web_statement"] == url
    as_exiftool_shows_it = re.sub("[\udc80-\udcff]", "?", url.encode("latin-1").decode("utf-8", "surrogateescape"))
    assert as_exiftool_shows_it != url
    assert fields_of(transports["exiftool"], written) == {"web_statement": as_exiftool_shows_it, "title": "t"}


@pytest.mark.parametrize("media_type", ID3_TYPES)
def test_exiftool_reads_an_ascii_id3_wcop_exactly(
    transports: dict[str, InprocTransport], media: dict[str, bytes], media_type: str  # noqa: F811
) -> None:
    """The contrast to the pinned difference: only non-ASCII URLs are affected."""
    url = "https://example.org/licence/photo-123?q=a&b=%C3%A4"
    written = write(transports["mutagen"], Asset(media[media_type], media_type), {"web_statement": url})
    assert fields_of(transports["exiftool"], written) == {"web_statement": url}


@pytest.mark.parametrize("media_type", declared_types("exiftool", "metadata.write"))
def test_known_stock_exiftool_adds_and_strips_the_plus_vocabulary_prefix(
    transports: dict[str, InprocTransport], media: dict[str, bytes], media_type: str  # noqa: F811
) -> None:
    """Known upstream difference: stock ExifTool (``stock_data_mining = true``, the manifest
    default) writes plus:DataMining as the full PLUS vocabulary URI whether it is given the
    bare code or the URI, and reads the bare code back; the manifest declares the
    ``data_mining_code`` normalisation for it."""
    manifest = MANIFESTS["exiftool"]
    assert manifest.config.get("stock_data_mining") is True
    for op in ("metadata.write", "metadata.read"):
        assert "data_mining_code" in normalisations(manifest, op, media_type)
    code = "DMI-PROHIBITED-AIMLTRAINING"
    for given in (code, PLUS_VOCAB + code):
        written = write(transports["exiftool"], Asset(media[media_type], media_type), {"data_mining": given})
        in_file = {r: fields_of(transports[r], written)["data_mining"] for r in ("exiv2", "xmp-reference")}
        assert in_file == {"exiv2": PLUS_VOCAB + code, "xmp-reference": PLUS_VOCAB + code}
        answer = read(transports["exiftool"], written)
        assert answer["fields"]["data_mining"] == code
        assert any("vocabulary prefix" in note for note in answer.get("notes", []))


def test_exiftool_with_raw_data_mining_config_round_trips_both_forms(media: dict[str, bytes]) -> None:  # noqa: F811
    """With ``stock_data_mining = false`` the adapter's user-defined tag writes and reads the value as given."""
    manifest = dataclasses.replace(MANIFESTS["exiftool"], config={**MANIFESTS["exiftool"].config, "stock_data_mining": False})
    raw = InprocTransport(manifest)
    raw.start()
    reference = InprocTransport(MANIFESTS["xmp-reference"])
    reference.start()
    try:
        for value in ("DMI-PROHIBITED-AIMLTRAINING", PLUS_VOCAB + "DMI-PROHIBITED-AIMLTRAINING"):
            written = write(raw, Asset(media["image/jpeg"], "image/jpeg"), {"data_mining": value})
            assert fields_of(raw, written) == {"data_mining": value}
            assert fields_of(reference, written) == {"data_mining": value}
    finally:
        raw.close()
        reference.close()


@pytest.mark.parametrize("media_type", declared_types("exiftool", "metadata.write"))
def test_known_exiftool_writes_raw_carriage_returns(
    transports: dict[str, InprocTransport], media: dict[str, bytes], media_type: str  # noqa: F811
) -> None:
    """Known upstream difference: ExifTool 13.10 puts CR characters into the XMP packet as raw
    bytes instead of ``&#xD;``.  Its own reader gives them back, but XML parsers (Exiv2's,
    lxml in xmp-reference) must normalise line ends, so they read CRLF and CR as LF."""
    written = write(transports["exiftool"], Asset(media[media_type], media_type), LINE_BREAKS)
    assert b"first line\r\nsecond line" in written.data and b"before\rafter" in written.data
    assert fields_of(transports["exiftool"], written) == LINE_BREAKS
    xml_view = {k: v.replace("\r\n", "\n").replace("\r", "\n") for k, v in LINE_BREAKS.items()}
    assert xml_view != LINE_BREAKS
    for reader in ("exiv2", "xmp-reference"):
        assert fields_of(transports[reader], written) == xml_view


@pytest.mark.parametrize("media_type", AUDIO_TYPES)
def test_exiftool_cannot_write_audio_and_does_not_declare_it(
    transports: dict[str, InprocTransport], media: dict[str, bytes], media_type: str  # noqa: F811
) -> None:
    assert media_type not in declared_types("exiftool", "metadata.write")
    assert media_type in declared_types("exiftool", "metadata.read")
    with pytest.raises(Unsupported, match="cannot write"):
        transports["exiftool"].call("metadata.write", Asset(media[media_type], media_type), {"fields": {"title": "x"}}, CALL_TIMEOUT_S)
