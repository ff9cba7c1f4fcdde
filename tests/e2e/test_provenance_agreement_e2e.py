"""provenance.agreement on a user's own folder, as a new user runs it: public C2PA test files
and files signed by c2pa-python copied into a folder, `aiii vectors import DIR`, then
`aiii run --vectors DIR` with the in-process validators.  One cell per file; the claim-v1
file's disagreements are in its reason, in its measurements and on the check's page."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from aiii_kit import Asset
from helpers import ROOT, TESTS, aiii, cells
from test_vendors_provenance import KODIM01, PUBLIC_DIR, sign_params

from reports.site_layout import check_page
from runner.derive import derive_bytes
from runner.pki import TestPKI
from runner.transports.inproc import InprocTransport
from runner.vendors import load_manifest

PROFILE = TESTS / "profiles" / "agreement.toml"


def _signed(folder: Path, pki: TestPKI) -> None:
    """A JPEG and a PNG signed by c2pa-python 0.38 with the test PKI (claim v2)."""
    signer = InprocTransport(load_manifest(ROOT / "vendors" / "c2pa-python" / "vendor.toml"))
    signer.start()
    try:
        for name, media_type in (("signed.jpg", "image/jpeg"), ("signed.png", "image/png")):
            data = KODIM01.read_bytes() if media_type == "image/png" else derive_bytes(KODIM01, "image/png", media_type)
            out = signer.call("provenance.sign", Asset(data, media_type), sign_params(pki, "aiii own file"), 60)
            assert isinstance(out, Asset)
            (folder / name).write_bytes(out.data)
    finally:
        signer.close()


def test_agreement_on_a_users_folder_shows_each_disagreement_per_file(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    for name in ("adobe-20220124-A.jpg", "adobe-20220124-C.jpg", "adobe-20220124-E-dat-CA.jpg"):
        shutil.copy(PUBLIC_DIR / name, folder / name)
    _signed(folder, TestPKI.create(tmp_path / "pki"))
    home = tmp_path / "home"
    proc = aiii(home, "vectors", "import", str(folder))
    assert proc.returncode == 0, proc.stderr
    proc = aiii(home, "run", "--profile", str(PROFILE), "--vectors", str(folder), "--out", str(tmp_path / "out"),
                "--store", str(tmp_path / "s.sqlite"), "-q", timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    bundle = json.loads((tmp_path / "out" / "results.json").read_text())
    by_sha = {v["sha256"]: v["id"] for v in bundle["vectors"] if not v.get("source")}
    ids = {f.name: by_sha[hashlib.sha256(f.read_bytes()).hexdigest()] for f in folder.iterdir() if f.name != "catalogue.toml"}
    got = {c["vector"]: c for c in cells(tmp_path / "s.sqlite").values() if c["check"] == "provenance.agreement"}
    assert set(got) == set(ids.values())  # one cell per file, derived formats not compared

    # signed by c2pa-python, claim v2: the three validators agree, field by field
    jpeg = got[ids["signed.jpg"]]
    assert (jpeg["outcome"], jpeg["reason"]) == ("pass", "3 validators agree: Valid [signingCredential.untrusted]")
    answers = jpeg["measurements"]["validators"]
    assert {v["signer"] for v in answers.values()} == {"aiii-interop TEST ONLY signer c2pa-python"}
    assert {tuple(v["assertion_labels"]) for v in answers.values()} == {("c2pa.actions.v2", "c2pa.hash.data", "cawg.training-mining")}
    # c2patxt reads only JPEG: two validators for the PNG
    png = got[ids["signed.png"]]
    assert png["outcome"] == "pass" and set(png["measurements"]["validators"]) == {"c2pa-python", "encypher-c2pa"}
    # no manifest anywhere: they agree there is none
    assert got[ids["adobe-20220124-A.jpg"]]["reason"] == "no validator found a manifest: 3 agree (no manifest)"

    # claim v1: c2patxt parses only claim v2 (claim.missing); encypher-c2pa leaves out the v1 claim_generator
    v1 = got[ids["adobe-20220124-C.jpg"]]
    assert v1["outcome"] == "fail"
    assert "state: Valid by c2pa-python, encypher-c2pa; Invalid by c2patxt" in v1["reason"]
    assert "failure_codes: [signingCredential.untrusted] by c2pa-python, encypher-c2pa; [claim.missing] by c2patxt" in v1["reason"]
    assert "claim_generator: make_test_images/0.16.1 c2pa-rs/0.16.1 by c2pa-python; none by encypher-c2pa" in v1["reason"]
    # the rest of the manifest: the same in both that read it (thumbnails, which encypher-c2pa's
    # report leaves out, are not held against it)
    assert [d["field"] for d in v1["measurements"]["disagreements"]] == [
        "state", "failure_codes", "active_manifest", "claim_generator"]
    assert v1["measurements"]["assertion_labels_omitted"] == ["c2pa.thumbnail.*"]
    assert v1["measurements"]["validators"]["encypher-c2pa"]["assertion_labels"] == [
        "c2pa.actions", "c2pa.hash.data", "stds.schema-org.CreativeWork"]
    # a data-hash failure: c2pa-python and encypher-c2pa give the same codes
    tampered = got[ids["adobe-20220124-E-dat-CA.jpg"]]["measurements"]["validators"]
    assert tampered["c2pa-python"]["failure_codes"] == tampered["encypher-c2pa"]["failure_codes"] == [
        "assertion.dataHash.mismatch", "signingCredential.untrusted"]

    # the check's page lists each file with each validator's answer
    page = (tmp_path / "out" / "site" / check_page("provenance.agreement")).read_text()
    assert "Per file" in page and ids["adobe-20220124-C.jpg"] in page
    assert "<bdi>make_test_images/0.16.1 c2pa-rs/0.16.1</bdi>" in page and "by <bdi>c2pa-python, encypher-c2pa</bdi>" in page
