"""c2pa-text alone: it re-embeds but cannot sign, and reports a damaged or doubled wrapper with
the Annex A.8 status codes."""

# ruff: noqa: F811

from __future__ import annotations

import pytest
from aiii_kit import AdapterError, Asset, Unsupported
from test_vendors_text import codecs, read, sign, vector  # noqa: F401 - fixture and helpers

from runner.transports.inproc import InprocTransport


def test_it_cannot_sign_text_that_carries_no_manifest(codecs: dict[str, InprocTransport]) -> None:
    with pytest.raises(Unsupported, match="cannot sign"):
        sign(codecs, "c2pa-text", vector("latin"))
    report = read(codecs, "c2pa-text", vector("latin"))
    assert not report["manifest_present"] and report["codes"]["failure"] == [] and report["manifest_store"] is None


def test_a_truncated_wrapper_is_a_corrupted_wrapper(codecs: dict[str, InprocTransport]) -> None:
    signed = sign(codecs, "c2patxt", vector("emoji")).data.decode()
    report = read(codecs, "c2pa-text", Asset(signed[:-40].encode(), "text/plain"))
    assert report["manifest_present"] and report["validation_state"] is None
    assert report["codes"]["failure"] == ["manifest.text.corruptedWrapper"] and report["manifest_store"] is None
    assert any("truncated" in note for note in report["notes"])


def test_two_wrappers_are_reported_and_not_re_embedded(codecs: dict[str, InprocTransport]) -> None:
    one, other = (sign(codecs, "c2patxt", vector(n)).data.decode() for n in ("latin", "cyrillic"))
    doubled = Asset((one + other).encode(), "text/plain")
    report = read(codecs, "c2pa-text", doubled)
    assert report["manifest_present"] and report["codes"]["failure"] == ["manifest.text.multipleWrappers"]
    with pytest.raises(AdapterError, match="Multiple C2PA text wrappers"):
        sign(codecs, "c2pa-text", doubled)


def test_bytes_that_are_not_utf8_or_not_text_are_refused(codecs: dict[str, InprocTransport]) -> None:
    with pytest.raises(AdapterError, match="c2pa-text: the text is not UTF-8"):
        read(codecs, "c2pa-text", Asset(b"caf\xe9", "text/plain"))
    with pytest.raises(Unsupported, match="only text/plain"):
        read(codecs, "c2pa-text", Asset(b"\xff\xd8\xff", "image/jpeg"))
