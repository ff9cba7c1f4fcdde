"""exiv2-cli, the adapter that runs Debian's exiv2 program: what it alone does.

Its place in the metadata matrix (round trips with every other reader and writer) is in
tests/test_vendors_metadata.py, whose fixtures and helpers this module shares: exiv2-cli
runs in process where the host has the exiv2 program, otherwise in its Docker image.
"""

from __future__ import annotations

import pytest
from aiii_kit import AdapterError, Unsupported
from test_vendors_metadata_identifiers import (  # noqa: F401 - exiv2_cli, media and transports are fixtures
    IDENTIFIER_ITEMS,
    IDENTIFIERS,
    RDF_BAG,
    exiv2_cli,
    identifier_packet,
    media,
    read,
    transports,
    with_packet,
    write,
    xmp_identifier,
)

from runner.transports import Transport
from runner.transports.inproc import InprocTransport

pytestmark = pytest.mark.debian  # the exiv2 program, on the host or in the vendor's image


def test_known_exiv2_cli_cannot_keep_identifier_items_holding_a_comma(
    exiv2_cli: Transport, transports: dict[str, InprocTransport], media: dict[str, bytes]  # noqa: F811
) -> None:
    """Known limit of the exiv2 program: it prints a bag's items joined by ', ', so an item that
    holds ', ' cannot be told apart from two. exiv2-cli refuses to rewrite such a bag (rather than
    split the item) and reads it with a note; pyexiv2 gets the items one by one and keeps it."""
    source = with_packet(media, "image/jpeg", identifier_packet(["Smith, J. (ed.), vol. 2", "ISRC:GBAYE0000001"]))
    with pytest.raises(AdapterError, match="cannot be kept") as info:
        write(exiv2_cli, source, {"isrc": IDENTIFIERS["isrc"]})
    assert not isinstance(info.value, Unsupported)
    answer = read(exiv2_cli, source)
    assert answer["fields"] == {"title": "foreign title", "isrc": "GBAYE0000001"}
    assert any("splits into 4" in note for note in answer.get("notes", []))
    written = write(transports["exiv2"], source, {"isrc": IDENTIFIERS["isrc"]})
    assert xmp_identifier(written.data) == (RDF_BAG, ["Smith, J. (ed.), vol. 2", IDENTIFIER_ITEMS[1]])
