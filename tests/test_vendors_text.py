"""C2PA in plain text (Annex A.8) across the three text codecs, in process: c2patxt signs each
text vector, c2pa-text and c2pa-unstructured-text re-embed its manifest store, and every reader
extracts the same bytes from every embedder's text; c2patxt validates each.

The fixtures and helpers here are shared with the vendors' own tests
(``vendors/c2patxt/tests``, ``vendors/c2pa-text/tests``, ``vendors/c2pa-unstructured-text/tests``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from aiii_kit import Asset
from helpers import ROOT

from conformance.c2pa import CLAIM_GENERATOR
from runner.schema import first_error
from runner.transports.inproc import InprocTransport
from runner.vendors import load_manifest

TEXTS = sorted((ROOT / "test_vectors" / "text").glob("*.txt"))
CODECS = ("c2patxt", "c2pa-text", "c2pa-unstructured-text")
READ_RESULT = "aiii:protocol/v1/provenance.read.result"
SIGN_PARAMS = "aiii:protocol/v1/provenance.sign.params"
#: What the harness hands every signer (c2patxt cannot use the ES256 credentials: it signs
#: with its own Ed25519 chain, and the re-embedders sign nothing).
PARAMS: dict[str, Any] = {
    "signer": {"alg": "es256", "cert_chain_pem": "not used by the text codecs", "private_key_pem": "not used"},
    "claim_generator": CLAIM_GENERATOR,
    "title": "aiii text",
    "actions": [{"action": "c2pa.created"}],
}


@pytest.fixture(scope="module")
def codecs() -> Iterator[dict[str, InprocTransport]]:
    started = {}
    try:
        for vendor in CODECS:
            transport = InprocTransport(load_manifest(ROOT / "vendors" / vendor / "vendor.toml"))
            transport.start()
            started[vendor] = transport
        yield started
    finally:
        for transport in started.values():
            transport.close()


def vector(name: str) -> Asset:
    """The text vector whose file name contains ``name``."""
    (path,) = [p for p in TEXTS if name in p.name]
    return Asset(path.read_bytes(), "text/plain")


def sign(codecs: dict[str, InprocTransport], vendor: str, asset: Asset) -> Asset:
    assert first_error(SIGN_PARAMS, PARAMS) is None
    out = codecs[vendor].call("provenance.sign", asset, PARAMS, 60)
    assert isinstance(out, Asset) and out.media_type == "text/plain"
    return out


def read(codecs: dict[str, InprocTransport], vendor: str, asset: Asset, anchors: str | None = None) -> dict[str, Any]:
    answer = codecs[vendor].call("provenance.read", asset, {"trust_anchors_pem": anchors}, 60)
    assert isinstance(answer, dict)
    problem = first_error(READ_RESULT, answer)
    assert problem is None, f"{vendor} answered outside the protocol schema: {problem}"
    return answer


def wrapper_payload(text: str) -> bytes:
    """The manifest store of the Annex A.8 wrapper at the end of ``text``, decoded here by the
    specification's mapping (A.8.3.1), independently of the three codecs."""
    run = text[text.rindex("\ufeff") + 1:]
    raw = bytes(ord(c) - 0xFE00 if ord(c) <= 0xFE0F else ord(c) - 0xE0100 + 16 for c in run)
    assert raw[:8] == b"C2PATXT\0" and raw[8] == 1
    return raw[13:13 + int.from_bytes(raw[9:13], "big")]


@pytest.mark.parametrize("embedder", CODECS)
@pytest.mark.parametrize("path", TEXTS, ids=lambda p: p.stem)
def test_every_reader_extracts_the_signed_manifest_byte_identical(codecs: dict[str, InprocTransport], path: Any,
                                                                    embedder: str) -> None:
    signed = sign(codecs, "c2patxt", Asset(path.read_bytes(), "text/plain"))
    marked = signed if embedder == "c2patxt" else sign(codecs, embedder, signed)
    payload = wrapper_payload(marked.data.decode())
    expected = {"sha256": hashlib.sha256(payload).hexdigest(), "size": len(payload)}
    reports = {reader: read(codecs, reader, marked) for reader in CODECS}
    assert {r: rep["manifest_store"] for r, rep in reports.items()} == dict.fromkeys(CODECS, expected)
    assert reports["c2patxt"]["validation_state"] == "Valid"
    assert reports["c2patxt"]["codes"]["failure"] == ["signingCredential.untrusted"]
    for decoder in ("c2pa-text", "c2pa-unstructured-text"):
        assert reports[decoder]["validates"] is False and reports[decoder]["validation_state"] is None
    # the unpadded re-embedders rebuild exactly the signer's text
    assert marked.data == signed.data
