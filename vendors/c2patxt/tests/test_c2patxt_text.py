"""c2patxt on text (Annex A.8), through the adapter: what it signs, and what it reports for
tampered, corrupt, re-marked and unmarked text."""

# ruff: noqa: F811

from __future__ import annotations

import unicodedata

import pytest
from aiii_kit import AdapterError, Asset
from test_vendors_text import codecs, read, sign, vector, wrapper_payload  # noqa: F401 - fixture and helpers

from conformance.c2pa import CLAIM_GENERATOR
from runner.pki import TestPKI
from runner.transports.inproc import InprocTransport

TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def test_signed_text_is_the_nfc_text_then_the_wrapper_with_a_fixed_manifest(codecs: dict[str, InprocTransport]) -> None:
    source = Asset("Cafe\u0301 \u2014 \u0434\u0430\n".encode(), "text/plain")  # not NFC: e + combining acute
    signed = sign(codecs, "c2patxt", source).data.decode()
    visible, wrapper = signed[:signed.index("\ufeff")], signed[signed.index("\ufeff"):]
    assert visible == unicodedata.normalize("NFC", source.data.decode()) == "Caf\u00e9 \u2014 \u0434\u0430\n"
    assert all(0xFE00 <= ord(c) <= 0xFE0F or 0xE0100 <= ord(c) <= 0xE01EF for c in wrapper[1:])
    report = read(codecs, "c2patxt", Asset(signed.encode(), "text/plain"))
    manifest = report["active_manifest"]
    # only the claim generator reaches c2patxt's manifest: the title and the actions asked for do not
    assert manifest["claim_generator"] == CLAIM_GENERATOR and manifest["title"] is None
    assert manifest["actions"] == [{"action": "c2pa.created", "digital_source_type": TRAINED}]
    assert {"c2pa.hash.data", "c2pa.ai-disclosure"} <= set(manifest["assertion_labels"])
    assert report["manifest_store"]["size"] == len(wrapper_payload(signed))


def test_its_own_signer_is_untrusted_even_with_the_harness_anchor(codecs: dict[str, InprocTransport],
                                                                   tmp_path_factory: pytest.TempPathFactory) -> None:
    signed = sign(codecs, "c2patxt", vector("latin"))
    anchor = TestPKI.create(tmp_path_factory.mktemp("pki")).root_pem
    report = read(codecs, "c2patxt", signed, anchor)
    assert (report["validation_state"], report["codes"]["failure"]) == ("Valid", ["signingCredential.untrusted"])


def test_a_changed_letter_breaks_the_hard_binding(codecs: dict[str, InprocTransport]) -> None:
    signed = sign(codecs, "c2patxt", vector("cyrillic")).data.decode()
    tampered = signed.replace("\u0434\u044f\u0434\u044f", "\u0442\u0451\u0442\u044f", 1)  # дядя -> тётя
    assert tampered != signed
    report = read(codecs, "c2patxt", Asset(tampered.encode(), "text/plain"))
    assert report["validation_state"] == "Invalid" and "assertion.dataHash.mismatch" in report["codes"]["failure"]
    # the manifest itself is intact: the same bytes are extracted
    assert report["manifest_store"] == read(codecs, "c2patxt", Asset(signed.encode(), "text/plain"))["manifest_store"]


def test_a_truncated_wrapper_is_invalid_and_unmarked_text_has_no_manifest(codecs: dict[str, InprocTransport]) -> None:
    signed = sign(codecs, "c2patxt", vector("arabic")).data.decode()
    cut = read(codecs, "c2patxt", Asset(signed[:-40].encode(), "text/plain"))
    assert cut["manifest_present"] and cut["validation_state"] == "Invalid"
    assert cut["codes"]["failure"] == ["manifest.text.corruptedWrapper"] and cut["manifest_store"] is None
    plain = read(codecs, "c2patxt", vector("arabic"))
    assert not plain["manifest_present"] and plain["validation_state"] is None and plain["manifest_store"] is None


def test_it_refuses_to_mark_text_that_is_already_marked(codecs: dict[str, InprocTransport]) -> None:
    signed = sign(codecs, "c2patxt", vector("cjk"))
    with pytest.raises(AdapterError, match="already carries a Content Credential"):
        sign(codecs, "c2patxt", signed)
