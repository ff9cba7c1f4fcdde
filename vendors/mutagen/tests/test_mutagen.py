"""mutagen alone: the ID3 web statement it refuses outside Latin-1 and keeps in FLAC, and its version.

Its place in the metadata matrix is in tests/test_vendors_metadata.py, whose fixtures and
helpers this module shares.
"""

from __future__ import annotations

import tomllib

import pytest
from aiii_kit import AdapterError, Asset, Unsupported
from helpers import ROOT
from test_vendors_metadata import (  # noqa: F401 - fixtures and helpers of the family's matrix module
    ID3_TYPES,
    SCRIPTS,
    fields_of,
    media,
    own_fields,
    reported_version,
    transports,
    write,
)

from runner.transports.inproc import InprocTransport


@pytest.mark.parametrize("media_type", ID3_TYPES)
@pytest.mark.parametrize("script", ["nfd", "rtl", "emoji"])
def test_known_mutagen_refuses_a_web_statement_outside_latin1(
    transports: dict[str, InprocTransport], media: dict[str, bytes], media_type: str, script: str  # noqa: F811
) -> None:
    """Known limit of ID3 (reported by mutagen's adapter): WCOP is an ISO-8859-1 URL frame,
    so a web statement outside Latin-1 is refused with AdapterError (a clean failure, not
    ``Unsupported``: the field itself is declared)."""
    url = "https://example.org/licence/" + SCRIPTS[script]
    assert "web_statement" in own_fields("mutagen", media_type)
    with pytest.raises(AdapterError, match="ISO-8859-1") as info:
        write(transports["mutagen"], Asset(media[media_type], media_type), {"web_statement": url})
    assert not isinstance(info.value, Unsupported)


@pytest.mark.parametrize("script", ["nfd", "rtl", "emoji"])
def test_mutagen_keeps_the_same_web_statement_in_flac(
    transports: dict[str, InprocTransport], media: dict[str, bytes], script: str  # noqa: F811
) -> None:
    """The contrast: Vorbis comments (LICENSE) are UTF-8, and ExifTool reads them right."""
    url = "https://example.org/licence/" + SCRIPTS[script]
    written = write(transports["mutagen"], Asset(media["audio/flac"], "audio/flac"), {"web_statement": url})
    for reader in ("mutagen", "exiftool"):
        assert fields_of(transports[reader], written) == {"web_statement": url}


def test_mutagen_version_is_the_pinned_distribution(transports: dict[str, InprocTransport]) -> None:  # noqa: F811
    import mutagen

    pins = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    pinned = next(p.split("==", 1)[1] for p in pins if p.startswith("mutagen=="))
    assert reported_version(transports["mutagen"]) == pinned == mutagen.version_string == "1.48.1"
