"""c2pa-unstructured-text alone: it re-embeds but cannot sign, and reports a damaged or doubled
wrapper with the status code its errors carry."""

# ruff: noqa: F811

from __future__ import annotations

import pytest
from aiii_kit import AdapterError, Asset, Unsupported
from test_vendors_text import codecs, read, sign, vector  # noqa: F401 - fixture and helpers

from runner.transports.inproc import InprocTransport


def test_it_cannot_sign_text_that_carries_no_manifest(codecs: dict[str, InprocTransport]) -> None:
    with pytest.raises(Unsupported, match="cannot sign"):
        sign(codecs, "c2pa-unstructured-text", vector("arabic"))
    report = read(codecs, "c2pa-unstructured-text", vector("arabic"))
    assert not report["manifest_present"] and report["codes"]["failure"] == [] and report["manifest_store"] is None


def test_a_truncated_wrapper_is_a_corrupted_wrapper(codecs: dict[str, InprocTransport]) -> None:
    signed = sign(codecs, "c2patxt", vector("cjk")).data.decode()
    report = read(codecs, "c2pa-unstructured-text", Asset(signed[:-40].encode(), "text/plain"))
    assert report["manifest_present"] and report["validation_state"] is None
    assert report["codes"]["failure"] == ["manifest.text.corruptedWrapper"] and report["manifest_store"] is None


def test_two_wrappers_are_reported_and_not_re_embedded(codecs: dict[str, InprocTransport]) -> None:
    one, other = (sign(codecs, "c2patxt", vector(n)).data.decode() for n in ("latin", "emoji"))
    doubled = Asset((one + other).encode(), "text/plain")
    report = read(codecs, "c2pa-unstructured-text", doubled)
    assert report["manifest_present"] and report["codes"]["failure"] == ["manifest.text.multipleWrappers"]
    with pytest.raises(AdapterError, match="more than one valid wrapper"):
        sign(codecs, "c2pa-unstructured-text", doubled)
