"""Artifact packs (runner/packs.py): a round trip, and every bad pack refused whole in
one line: changed bytes, unknown keys, keys of another vendor, another plan, and archives
with path traversal, links, devices or oversized members."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path
from typing import Any

import pytest

from runner import packs
from runner.keys import Registry, generate, load_public, load_signer
from runner.model import ErrorKind, StepResult
from runner.packs import PackError, check_plan, read_pack, result_record, write_pack

PLAN = "ab" * 32
ASSET = b"\xff\xd8 a written jpeg \xff\xd9"
SHA = hashlib.sha256(ASSET).hexdigest()
K1, K2 = "1" * 64, "2" * 64


def _doc(producer: str = "acme", plan: str = PLAN) -> dict[str, Any]:
    written = StepResult(ok=True, asset_sha256=SHA, media_type="image/jpeg", duration_s=0.1)
    refused = StepResult(ok=False, error="acme: no", error_kind=ErrorKind.CLEAN)
    return {"format": 1, "producer": producer, "version": "1.0", "cache_version": "1.0+abc", "placement": "inproc",
            "plan_digest": plan, "profile": "p", "participant": "acme-ci", "run": "r1",
            "steps": [{"key": K1, "vendor": producer, "operation": "metadata.write", "source": {"vector": "v"},
                       "params": {}, "placement": "inproc", "result": result_record(written)},
                      {"key": K2, "vendor": producer, "operation": "metadata.write", "source": {"vector": "w"},
                       "params": {}, "placement": "inproc", "result": result_record(refused)}]}


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("keys")
    generate(folder, "acme")
    generate(folder, "other")
    return folder


def _registry(keys: Path, **owners: str) -> Registry:
    registry = Registry()
    for owner, name in owners.items():
        registry.add(owner, load_public(keys / f"{name}.pub"))
    return registry


def _pack(tmp_path: Path, keys: Path, key: str = "acme", **doc: str) -> Path:
    return write_pack(tmp_path / "pack.tar", _doc(**doc), lambda sha: {SHA: ASSET}[sha],
                      load_signer(keys / f"{key}.pem"), doc.get("producer", "acme"))


def test_a_pack_round_trips_with_its_steps_and_artifacts(tmp_path: Path, keys: Path) -> None:
    path = _pack(tmp_path, keys)
    with tarfile.open(path) as tar:
        assert sorted(tar.getnames()) == sorted(["pack.json", f"artifacts/{SHA}", "pack.dsse.json"])
    pack = read_pack(path, _registry(keys, acme="acme"), PLAN)
    assert (pack.producer, pack.version, pack.cache_version) == ("acme", "1.0", "1.0+abc")
    result, data = pack.answer(K1)
    assert (result.ok, result.asset_sha256, data) == (True, SHA, ASSET)
    result, data = pack.answer(K2)
    assert (result.ok, result.error_kind, data) == (False, ErrorKind.CLEAN, None)
    result, _ = pack.answer("3" * 64)
    assert (result.error_kind, result.error) == (ErrorKind.ABSENT, "not in the pack of acme")
    origin = pack.origin(K1)
    assert origin["participant"] == "acme-ci" and origin["verified"] is True and origin["keyid"] == pack.keyid


def _refusal(path: Path, registry: Registry, plan: str | None = PLAN) -> str:
    with pytest.raises(PackError) as err:
        read_pack(path, registry, plan)
    line = str(err.value)
    assert "\n" not in line and line.startswith(str(path))
    return line


def _rewrite(path: Path, change: Any) -> None:
    """Rewrite the archive with ``change(members)`` applied (name -> bytes)."""
    with tarfile.open(path) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar}  # type: ignore[union-attr]
    change(members)
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_one_byte_changed_in_an_artifact_is_refused(tmp_path: Path, keys: Path) -> None:
    path = _pack(tmp_path, keys)

    def flip(m: dict[str, bytes]) -> None:
        m[f"artifacts/{SHA}"] = ASSET[:-1] + b"\x00"
    _rewrite(path, flip)
    assert f"artifacts/{SHA} changed after signing" in _refusal(path, _registry(keys, acme="acme"))


def test_one_byte_changed_in_the_raw_archive_is_refused(tmp_path: Path, keys: Path) -> None:
    path = _pack(tmp_path, keys)
    raw = bytearray(path.read_bytes())
    raw[raw.index(b"a written jpeg")] ^= 0x20
    path.write_bytes(bytes(raw))
    assert "changed after signing" in _refusal(path, _registry(keys, acme="acme"))


def test_pack_json_changed_is_refused(tmp_path: Path, keys: Path) -> None:
    path = _pack(tmp_path, keys)

    def edit(m: dict[str, bytes]) -> None:
        m["pack.json"] = m["pack.json"].replace(b'"clean"', b'"error"')
    _rewrite(path, edit)
    assert "pack.json changed after signing" in _refusal(path, _registry(keys, acme="acme"))


def test_unknown_keys_and_keys_of_another_vendor_are_refused(tmp_path: Path, keys: Path) -> None:
    path = _pack(tmp_path, keys)
    assert "signed by an unknown key" in _refusal(path, _registry(keys, acme="other"))
    line = _refusal(path, _registry(keys, rival="acme"))
    assert "registered for rival, not for acme" in line


def test_a_pack_for_another_plan_is_refused(tmp_path: Path, keys: Path) -> None:
    path = _pack(tmp_path, keys)
    assert f"made for plan {PLAN[:16]}" in _refusal(path, _registry(keys, acme="acme"), "cd" * 32)
    pack = read_pack(path, _registry(keys, acme="acme"))
    with pytest.raises(PackError, match="this run's plan is cdcd"):
        check_plan(pack, "cd" * 32)


def test_only_the_producer_signs_its_pack(tmp_path: Path, keys: Path) -> None:
    with pytest.raises(PackError, match="signed by the vendor that produced it"):
        write_pack(tmp_path / "p.tar", _doc(), lambda sha: ASSET, load_signer(keys / "acme.pem"), "other")


def test_the_hub_signs_packs_of_the_reference_vendors_it_runs_only(tmp_path: Path, keys: Path) -> None:
    """A hub-signed pack verifies for a reference vendor; for a participant, only its own key will do."""
    path = write_pack(tmp_path / "p.tar", _doc(), lambda sha: ASSET, load_signer(keys / "other.pem"), "hub")
    registry = _registry(keys, hub="other")
    line = _refusal(path, registry)
    assert "registered for hub, not for acme (the hub signs only for reference vendors)" in line
    registry.hub_vendors = frozenset({"acme"})
    pack = read_pack(path, registry, PLAN)
    assert (pack.producer, pack.signer, pack.origin(K1)["participant"]) == ("acme", "hub", "acme-ci")


def test_a_refusal_for_another_plan_names_what_differs(tmp_path: Path, keys: Path) -> None:
    components = {"profile": "a" * 64, "vectors": "b" * 64, "methodology": "c" * 64, "channels": "d" * 64,
                  "cells": "e" * 64, "pki": "f" * 64}
    doc = {**_doc(), "plan_components": components}
    path = write_pack(tmp_path / "p.tar", doc, lambda sha: ASSET, load_signer(keys / "acme.pem"), "acme")
    pack = read_pack(path, _registry(keys, acme="acme"))
    with pytest.raises(PackError, match=r"this run's plan is cdcd\w+ \(pki differ\)$"):
        check_plan(pack, "cd" * 32, {**components, "pki": "0" * 64})


def _hostile(path: Path, info: tarfile.TarInfo, data: bytes = b"") -> None:
    with tarfile.open(path, "a") as tar:
        info.size = len(data) if info.isreg() else 0
        tar.addfile(info, io.BytesIO(data) if info.isreg() else None)


@pytest.mark.parametrize(("name", "kind", "expected"), [
    ("../escape", tarfile.REGTYPE, "'../escape' is not pack.json"),
    ("/etc/passwd", tarfile.REGTYPE, "'/etc/passwd' is not pack.json"),
    ("artifacts/../../x", tarfile.REGTYPE, "is not pack.json"),
    ("link", tarfile.SYMTYPE, "'link' is a link or special file"),
    ("hard", tarfile.LNKTYPE, "'hard' is a link or special file"),
    ("dev", tarfile.CHRTYPE, "'dev' is a link or special file"),
    ("artifacts", tarfile.DIRTYPE, "is a link or special file"),
])
def test_archives_with_traversal_links_or_devices_are_refused(tmp_path: Path, keys: Path, name: str, kind: bytes,
                                                              expected: str) -> None:
    path = _pack(tmp_path, keys)
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = "/etc/passwd" if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE) else ""
    _hostile(path, info, b"x")
    before = sorted(p.name for p in tmp_path.iterdir())
    assert expected in _refusal(path, _registry(keys, acme="acme"))
    assert sorted(p.name for p in tmp_path.iterdir()) == before, "nothing extracted"


def test_oversized_members_are_refused(tmp_path: Path, keys: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _pack(tmp_path, keys)
    monkeypatch.setattr(packs, "MAX_MEMBER_BYTES", 100)
    assert f"member 'artifacts/{SHA}' has" in _refusal(path, _registry(keys, acme="acme")) or \
        "'pack.json' has" in _refusal(path, _registry(keys, acme="acme"))
    monkeypatch.setattr(packs, "MAX_MEMBER_BYTES", 10**6)
    monkeypatch.setattr(packs, "MAX_TOTAL_BYTES", 1000)
    assert "bytes in all" in _refusal(path, _registry(keys, acme="acme"))


def test_an_unsigned_extra_member_and_a_non_tar_are_refused(tmp_path: Path, keys: Path) -> None:
    path = _pack(tmp_path, keys)
    extra = hashlib.sha256(b"extra").hexdigest()
    _hostile(path, tarfile.TarInfo(f"artifacts/{extra}"), b"extra")
    assert f"member artifacts/{extra} is not signed" in _refusal(path, _registry(keys, acme="acme"))
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar at all" * 100)
    assert "not a pack" in _refusal(junk, _registry(keys, acme="acme"))



def test_a_signed_pack_json_of_the_wrong_shape_is_refused(tmp_path: Path, keys: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    doc = _doc()
    doc["steps"][1]["result"]["error_kind"] = "boom"
    monkeypatch.setattr(packs, "_problem", lambda name, doc: None)  # a producer that skips the check when writing
    path = write_pack(tmp_path / "pack.tar", doc, lambda sha: ASSET, load_signer(keys / "acme.pem"), "acme")
    monkeypatch.undo()
    assert "pack.json is not a pack: $.steps[1].result.error_kind: 'boom' is not one of" in _refusal(
        path, _registry(keys, acme="acme"))
