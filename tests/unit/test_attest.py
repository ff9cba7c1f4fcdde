"""Signed bundles (runner/attest.py, runner/keys.py): a round trip, and every tampering
refused in one line with nothing written."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from report_bundle import _sha, make_bundle
from securesystemslib.dsse import Envelope

from reports.bundle import dumps, write_bundle
from runner.attest import (
    PAYLOAD_TYPE,
    PREDICATE_TYPE,
    STATEMENT_SCHEMA,
    AttestationError,
    sidecar,
    sign_bundle,
    statement,
    statement_problem,
    verify_bundle,
)
from runner.keys import HUB, KeyFileError, Registry, generate, load_public, load_registry, load_signer
from runner.schema import first_error


def _tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its sha256: what a refusal must leave as it was."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture()
def keys(tmp_path: Path) -> Path:
    """Keys for acme and for the hub, and a registry folder laid out like vendors/."""
    folder = tmp_path / "keys"
    generate(folder, "acme")
    generate(folder, "hub")
    generate(folder, "stranger")
    (tmp_path / "registry" / "acme" / "keys").mkdir(parents=True)
    (tmp_path / "registry" / "acme" / "keys" / "acme.pub").write_bytes((folder / "acme.pub").read_bytes())
    (tmp_path / "hub-keys").mkdir()
    (tmp_path / "hub-keys" / "hub.pub").write_bytes((folder / "hub.pub").read_bytes())
    return folder


@pytest.fixture()
def registry(tmp_path: Path, keys: Path) -> Registry:
    return load_registry([tmp_path / "registry"], tmp_path / "hub-keys")


@pytest.fixture()
def bundle(tmp_path: Path) -> Path:
    """The report tests' bundle (every outcome, hostile strings, no plan digest: an older
    run's) in an out folder with one artifact file and one vendor log."""
    out = tmp_path / "out"
    (out / "artifacts").mkdir(parents=True)
    (out / "artifacts" / f"{_sha('a')}.jpg").write_bytes(b"a")  # the bytes whose sha256 the cell cites
    (out / "logs").mkdir()
    (out / "logs" / "acme.log").write_text("acme started\n")
    return write_bundle(make_bundle(), out / "results.json")


def _payload(envelope_path: Path) -> dict[str, Any]:
    return json.loads(base64.b64decode(json.loads(envelope_path.read_text())["payload"]))


def test_a_signed_bundle_verifies_with_every_cell_in_the_predicate(bundle: Path, keys: Path, registry: Registry) -> None:
    envelope = sign_bundle(bundle, load_signer(keys / "acme.pem"), "acme")
    assert envelope == bundle.parent / "results.dsse.json" == sidecar(bundle)
    verified = verify_bundle(bundle, registry)
    keyid = load_public(keys / "acme.pub").keyid
    assert verified.line() == (f"verified: {bundle} signed by acme/{keyid[:16]} "
                               "(12 cells; 2 of 2 artifact and log files checked)")
    doc = json.loads(envelope.read_text())
    assert doc["payloadType"] == PAYLOAD_TYPE == "application/vnd.in-toto+json"
    assert [s["keyid"] for s in doc["signatures"]] == [keyid]
    stmt = _payload(envelope)
    assert first_error(STATEMENT_SCHEMA, stmt) is None and statement_problem(stmt) is None
    assert stmt["_type"] == "https://in-toto.io/Statement/v1" and stmt["predicateType"] == PREDICATE_TYPE
    subjects = {s["name"]: s["digest"]["sha256"] for s in stmt["subject"]}
    assert subjects["results.json"] == hashlib.sha256(bundle.read_bytes()).hexdigest()
    assert subjects[f"artifacts/{_sha('a')}.jpg"] == _sha("a")  # linked beside the bundle
    assert subjects[f"sha256:{_sha('b')}"] == _sha("b")  # cited, not linked: its digest all the same
    assert subjects["logs/acme.log"] == hashlib.sha256(b"acme started\n").hexdigest()
    predicate = stmt["predicate"]
    assert predicate["signer"] == "acme" and predicate["plan_digest"] is None
    assert {c["outcome"] for c in predicate["cells"].values()} == {
        "pass", "fail", "inconclusive", "error", "unsupported", "blocked", "xfail", "xpass"}
    acme = predicate["cells"]["metadata.roundtrip/jpeg-basic/ref-exiv2/acme/-"]
    assert acme == {"outcome": "fail", "attempts": 1, "logs": [subjects["logs/acme.log"]]}
    assert predicate["cells"]["metadata.roundtrip/jpeg-basic/ref-exiv2/ref-exiv2/-"]["logs"] == []


def test_the_statement_carries_the_plan_digest(tmp_path: Path) -> None:
    doc = make_bundle()
    doc["run"]["plan_digest"] = {"sha256": _sha("plan"), "components": {
        k: _sha(k) for k in ("profile", "vectors", "methodology", "channels", "cells")}}
    path = write_bundle(doc, tmp_path / "results.json")
    stmt = statement(path, path.read_bytes(), doc, HUB)
    assert stmt["predicate"]["plan_digest"] == _sha("plan") and statement_problem(stmt) is None


def _refused(bundle: Path, registry: Registry, text: str, envelope: Path | None = None) -> str:
    """Verify and expect one refusal line containing ``text``, with nothing written."""
    before = _tree(bundle.parent.parent)
    with pytest.raises(AttestationError) as caught:
        verify_bundle(bundle, registry, envelope)
    line = str(caught.value)
    assert text in line and "\n" not in line, line
    assert _tree(bundle.parent.parent) == before
    return line


def test_one_byte_changed_in_the_bundle_is_refused(bundle: Path, keys: Path, registry: Registry) -> None:
    sign_bundle(bundle, load_signer(keys / "acme.pem"), "acme")
    raw = bytearray(bundle.read_bytes())
    raw[raw.index(b"all 7 fields")] = ord("A")
    bundle.write_bytes(bytes(raw))
    assert _refused(bundle, registry, "changed after signing").startswith(f"{bundle}: ")


def test_a_cell_edited_after_signing_is_refused(bundle: Path, keys: Path, registry: Registry) -> None:
    sign_bundle(bundle, load_signer(keys / "acme.pem"), "acme")
    doc = json.loads(bundle.read_text())
    doc["cells"][1]["outcome"] = "pass"
    doc["summary"]["outcomes"] = {"pass": 4, **{k: v for k, v in doc["summary"]["outcomes"].items() if k != "pass"}}
    bundle.write_text(dumps(doc))
    _refused(bundle, registry, "changed after signing")


def test_an_edited_predicate_is_a_bad_signature(bundle: Path, keys: Path, registry: Registry) -> None:
    envelope = sign_bundle(bundle, load_signer(keys / "acme.pem"), "acme")
    doc = json.loads(envelope.read_text())
    stmt = _payload(envelope)
    stmt["predicate"]["cells"]["metadata.roundtrip/jpeg-basic/ref-exiv2/acme/-"]["outcome"] = "pass"
    doc["payload"] = base64.b64encode(json.dumps(stmt).encode()).decode()
    envelope.write_text(json.dumps(doc))
    _refused(bundle, registry, "bad signature: the signed statement was changed after signing")


def test_a_signature_by_an_unknown_key_is_refused(bundle: Path, keys: Path, registry: Registry) -> None:
    sign_bundle(bundle, load_signer(keys / "stranger.pem"), "acme")
    keyid = load_public(keys / "stranger.pub").keyid
    assert _refused(bundle, registry, "signed by an unknown key") == (
        f"{sidecar(bundle)}: signed by an unknown key {keyid[:16]}")


def test_a_key_signing_for_another_vendor_is_refused(bundle: Path, keys: Path, registry: Registry) -> None:
    sign_bundle(bundle, load_signer(keys / "acme.pem"), "ref-exiv2")
    _refused(bundle, registry, "registered for acme, not for ref-exiv2")
    sign_bundle(bundle, load_signer(keys / "acme.pem"), HUB)
    _refused(bundle, registry, "registered for acme, not for hub")


def test_the_hub_signs_with_its_configured_key(bundle: Path, keys: Path, registry: Registry) -> None:
    sign_bundle(bundle, load_signer(keys / "hub.pem"), HUB)
    assert verify_bundle(bundle, registry).signer == HUB
    sign_bundle(bundle, load_signer(keys / "hub.pem"), "acme")
    _refused(bundle, registry, "registered for hub, not for acme")


def test_a_signer_whose_statement_misdescribes_the_bundle_is_refused(bundle: Path, keys: Path, registry: Registry) -> None:
    """Signed with a registered key and the right bundle digest, but the predicate lies."""
    raw = bundle.read_bytes()
    stmt = statement(bundle, raw, json.loads(raw), "acme")
    stmt["predicate"]["cells"]["metadata.roundtrip/jpeg-basic/ref-exiv2/acme/-"]["outcome"] = "pass"
    envelope = Envelope(json.dumps(stmt).encode(), PAYLOAD_TYPE, {})
    envelope.sign(load_signer(keys / "acme.pem"))
    sidecar(bundle).write_text(json.dumps(envelope.to_dict()))
    _refused(bundle, registry, "cell metadata.roundtrip/jpeg-basic/ref-exiv2/acme/-: outcome 'fail' in the bundle, "
                               "'pass' in the signed statement")


def test_artifacts_and_logs_are_checked_when_present(bundle: Path, keys: Path, registry: Registry) -> None:
    sign_bundle(bundle, load_signer(keys / "acme.pem"), "acme")
    (bundle.parent / "logs" / "acme.log").write_text("acme started\nand then something else\n")
    _refused(bundle, registry, "logs/acme.log changed after signing")
    (bundle.parent / "logs" / "acme.log").unlink()  # a bundle copied without its logs still verifies
    assert verify_bundle(bundle, registry).checked == 1


def test_what_is_not_a_signed_bundle_is_refused_in_one_line(bundle: Path, keys: Path, registry: Registry) -> None:
    _refused(bundle, registry, "no signature (the envelope is missing)")
    sidecar(bundle).write_text('{"payload": 3}')
    _refused(bundle, registry, "not a DSSE envelope")
    envelope = Envelope(b"{}", "text/plain", {})
    envelope.sign(load_signer(keys / "acme.pem"))
    sidecar(bundle).write_text(json.dumps(envelope.to_dict()))
    _refused(bundle, registry, "payloadType 'text/plain' is not application/vnd.in-toto+json")
    envelope = Envelope(b'{"_type": "https://in-toto.io/Statement/v1"}', PAYLOAD_TYPE, {})
    envelope.sign(load_signer(keys / "acme.pem"))
    sidecar(bundle).write_text(json.dumps(envelope.to_dict()))
    _refused(bundle, registry, "not a result statement: $: 'subject' is a required property")


def test_signing_refuses_what_is_not_a_valid_bundle(tmp_path: Path, keys: Path) -> None:
    signer = load_signer(keys / "acme.pem")
    (tmp_path / "junk.json").write_text("not json")
    with pytest.raises(AttestationError, match="junk.json: not a result bundle"):
        sign_bundle(tmp_path / "junk.json", signer, "acme")
    doc = make_bundle()
    doc["summary"]["cells"] = 99
    (tmp_path / "bad.json").write_text(dumps(doc))
    with pytest.raises(AttestationError, match=r"bad.json: not signed: the bundle is invalid at \$.summary.cells"):
        sign_bundle(tmp_path / "bad.json", signer, "acme")
    with pytest.raises(AttestationError, match="is not a vendor id or 'hub'"):
        sign_bundle(tmp_path / "bad.json", signer, "Not An Id")
    assert not (tmp_path / "bad.dsse.json").exists() and not (tmp_path / "junk.dsse.json").exists()


def test_signing_refuses_an_artifact_that_is_not_the_one_cited(bundle: Path, keys: Path) -> None:
    (bundle.parent / "artifacts" / f"{_sha('a')}.jpg").write_bytes(b"not a")
    with pytest.raises(AttestationError, match="not signed: artifacts/.* is not the artifact the bundle cites"):
        sign_bundle(bundle, load_signer(keys / "acme.pem"), "acme")


def test_key_files(tmp_path: Path, keys: Path) -> None:
    assert stat.S_IMODE((keys / "acme.pem").stat().st_mode) == 0o600
    with pytest.raises(KeyFileError, match="already exists; keys are never overwritten"):
        generate(keys, "acme")
    with pytest.raises(KeyFileError, match="not a key name"):
        generate(keys, "../escape")
    pub = json.loads((keys / "acme.pub").read_text())
    assert set(pub) == {"keyid", "keytype", "scheme", "keyval"} and pub["keytype"] == pub["scheme"] == "ed25519"
    pub["keyid"] = load_public(keys / "hub.pub").keyid  # a file claiming another key's id
    (tmp_path / "liar.pub").write_text(json.dumps(pub))
    with pytest.raises(KeyFileError, match="liar.pub: keyid .* is not this key's"):
        load_public(tmp_path / "liar.pub")
    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    (tmp_path / "ec.pem").write_bytes(ec_pem)
    with pytest.raises(KeyFileError, match="ec.pem: not an Ed25519 key"):
        load_signer(tmp_path / "ec.pem")
    with pytest.raises(KeyFileError, match="acme.pub: not an unencrypted PEM private key"):
        load_signer(keys / "acme.pub")
    (tmp_path / "reg" / "Bad Name" / "keys").mkdir(parents=True)
    with pytest.raises(KeyFileError, match="cannot be a vendor id here"):
        load_registry([tmp_path / "reg"])
