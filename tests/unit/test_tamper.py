"""The tamper transforms (conformance/tamper*.py) on files they cannot tamper with: an
unsigned file and malformed bytes are a ValueError, never a crash of another kind.

The unsigned sources (one per media type c2pa-python signs) are the fixture of
tests/test_vendors_provenance.py, where the transforms also meet signed files.
"""

# The matrix module's fixture is imported by name and requested as a parameter: F811 there is
# how pytest fixtures are shared, not a redefinition.
# ruff: noqa: F811

from __future__ import annotations

import pytest
from aiii_kit import Asset
from test_vendors_provenance import KODIM01, TAMPER_CASES, sources  # noqa: F401 - sources is a fixture

from conformance.tamper import TAMPERS


@pytest.mark.parametrize("kind", ["assertion", "signature", "strip"])
@pytest.mark.parametrize("media_type", sorted({mt for mt, _ in TAMPER_CASES}))
def test_tamper_of_an_unsigned_file_fails_as_an_error(sources: dict[str, Asset], media_type: str, kind: str) -> None:
    """No manifest to tamper with: a ValueError the harness reports as error, not unsupported."""
    with pytest.raises(ValueError) as info:
        TAMPERS[kind][0](sources[media_type].data, media_type)
    assert "not supported" not in str(info.value)


def _corrupt_png_idat() -> bytes:
    data = bytearray(KODIM01.read_bytes())
    data[data.index(b"IDAT") + 200] ^= 0xFF  # the deflate stream no longer inflates
    return bytes(data)


MALFORMED = {
    "tiff-short-header": ("image/tiff", b"II*\x00\x08\x00"),
    "mp3-id3-overruns-file": ("audio/mpeg", b"ID3\x04\x00\x00\x00\x00\x10\x00GEOB"),
    "flac-id3-overruns-file": ("audio/flac", b"ID3\x04\x00\x00\x00\x00\x10\x00GEOB"),
    "mp3-truncated-id3-header": ("audio/mpeg", b"ID3\x04\x00\x00\x00\x00\x10"),
    "png-corrupt-idat": ("image/png", _corrupt_png_idat()),
}


@pytest.mark.parametrize("kind", list(TAMPERS))
@pytest.mark.parametrize("case", list(MALFORMED))
def test_tamper_of_a_malformed_file_raises_value_error(case: str, kind: str) -> None:
    """The documented contract: a part that cannot be found is a ValueError, whatever the bytes."""
    media_type, data = MALFORMED[case]
    with pytest.raises(ValueError):
        TAMPERS[kind][0](data, media_type)
