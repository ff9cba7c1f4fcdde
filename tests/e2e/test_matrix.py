"""The default matrix with the real reference vendors: what a user reads on the scorecard."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from helpers import TESTS

from conformance.discovery import discover
from runner.run import RunOptions, RunSummary, execute_run

#: The default profile run whole, and the version-skew vendors' own environments: minutes.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunSummary, dict[str, Any], Path]:
    tmp = tmp_path_factory.mktemp("matrix")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIII_HOME", str(tmp / "home"))
        summary = execute_run(RunOptions(out=str(tmp / "out"), store=str(tmp / "store.sqlite")), discover(), progress=False)
    bundle = json.loads((tmp / "out" / "results.json").read_text())
    return summary, bundle, tmp


def cell(bundle: dict[str, Any], cell_id: str) -> dict[str, Any]:
    found = [c for c in bundle["cells"] if c["id"] == cell_id]
    assert found, f"no cell {cell_id}"
    return found[0]


def test_default_run_uses_every_reference_vendor(default_run: tuple[RunSummary, dict[str, Any], Path]) -> None:
    _, bundle, _ = default_run
    vendors = {v["id"]: v for v in bundle["vendors"]}
    # the embedded in-process vendors; the version-skew releases join the provenance profile
    assert set(vendors) == {"c2pa-python", "c2patxt", "encypher-c2pa", "c2pa-text", "c2pa-unstructured-text",
                            "exiftool", "exiv2", "mutagen", "xmp-reference",
                            "iscc-core", "iscc-lib", "python-stdnum", "idutils", "registry-reference",
                            "blind-watermark", "voicesign",
                            "optout-reference", "protego", "urllib-robotparser", "robotspy", "fast-robotstxt", "http-sf", "http-sfv", "datadiligence",
                            "imagehash", "python-libphash"}
    assert all(v["runnable"] for v in vendors.values()), [v["reason"] for v in vendors.values()]
    # in the harness's process, but blind-watermark: CPU-bound, served by a process a core ([adapter] processes)
    assert {vid: v["transport"] for vid, v in vendors.items() if v["transport"] != "inproc"} == {"blind-watermark": "process"}
    assert vendors["c2pa-python"]["version"] == "0.38.1"
    checks = {c["id"] for c in bundle["checks"]}
    assert {"metadata.roundtrip", "metadata.preservation", "provenance.sign_validate", "provenance.public_files",
            "provenance.tamper", "provenance.pipeline", "provenance.hostile", "provenance.attack_strings",
            "provenance.agreement"} <= checks


def test_reference_vendors_produce_no_errors(default_run: tuple[RunSummary, dict[str, Any], Path]) -> None:
    _, bundle, _ = default_run
    errors = [f"{c['id']}: {c['reason']}" for c in bundle["cells"] if c["outcome"] in ("error", "blocked")]
    assert errors == []


def test_trust_anchor_decides_trusted_versus_valid(default_run: tuple[RunSummary, dict[str, Any], Path]) -> None:
    _, bundle, _ = default_run
    trusted = cell(bundle, "provenance.sign_validate/kodim01-jpg/c2pa-python/c2pa-python/anchor")
    assert trusted["outcome"] == "pass"
    assert trusted["measurements"]["reader"] == {"manifest_present": True, "state": "Trusted", "failure": []}
    valid = cell(bundle, "provenance.sign_validate/kodim01-jpg/c2pa-python/c2pa-python/no-anchor")
    assert valid["outcome"] == "pass"
    assert valid["measurements"]["reader"]["state"] == "Valid"
    assert valid["measurements"]["reader"]["failure"] == ["signingCredential.untrusted"]
    # the independent validator agrees on the same signed JPEG
    other = cell(bundle, "provenance.sign_validate/kodim01-jpg/c2pa-python/c2patxt/no-anchor")
    assert other["outcome"] == "pass" and other["measurements"]["reader"] == valid["measurements"]["reader"]


def test_training_mining_under_both_labels_reads_back(default_run: tuple[RunSummary, dict[str, Any], Path]) -> None:
    _, bundle, _ = default_run
    for consumer in ("c2pa-python", "exiftool"):
        got = cell(bundle, f"provenance.sign_validate/kodim01-jpg/c2pa-python/{consumer}/anchor-c2pa-label")
        assert got["outcome"] == "pass", got["reason"]
        assert got["measurements"]["content"]["training_mining"]["ai_training"]["use"] == "notAllowed"


def test_tampering_is_caught_with_the_right_code(default_run: tuple[RunSummary, dict[str, Any], Path]) -> None:
    _, bundle, _ = default_run
    codes = {
        "pixel": "assertion.dataHash.mismatch",
        "assertion": "assertion.hashedURI.mismatch",
        "signature": "claimSignature.mismatch",
    }
    for kind, code in codes.items():
        got = cell(bundle, f"provenance.tamper/kodim01-jpg/c2pa-python/c2pa-python/{kind}")
        assert got["outcome"] == "pass", got["reason"]
        assert got["measurements"]["reader"]["state"] == "Invalid"
        assert code in got["measurements"]["reader"]["failure"]
    stripped = cell(bundle, "provenance.tamper/kodim01-jpg/c2pa-python/exiftool/strip")
    assert stripped["outcome"] == "pass" and stripped["measurements"]["reader"]["manifest_present"] is False


def test_metadata_after_signing_is_reported_invalid(default_run: tuple[RunSummary, dict[str, Any], Path]) -> None:
    _, bundle, _ = default_run
    for writer in ("exiftool", "exiv2"):
        got = cell(bundle, f"provenance.pipeline/kodim01-jpg/{writer}+c2pa-python/c2pa-python/sign-then-write")
        assert got["outcome"] == "pass" and got["measurements"]["reader"]["state"] == "Invalid"
        assert "assertion.dataHash.mismatch" in got["measurements"]["reader"]["failure"]
        forward = cell(bundle, f"provenance.pipeline/kodim01-jpg/{writer}+c2pa-python/c2pa-python/write-then-sign")
        assert forward["outcome"] == "pass", forward["reason"]


def test_scorecard_shows_real_interoperability_differences(default_run: tuple[RunSummary, dict[str, Any], Path]) -> None:
    summary, bundle, _ = default_run
    # c2patxt reads only claim v2: the v1-claim public files come out Invalid
    v1 = cell(bundle, "provenance.public_files/adobe-20220124-c/-/c2patxt/-")
    assert v1["outcome"] == "fail" and "claim.missing" in v1["reason"]
    assert cell(bundle, "provenance.public_files/adobe-20220124-c/-/c2pa-python/-")["outcome"] == "pass"
    # ExifTool reads a non-ASCII ID3 WCOP URL written by mutagen as '?'
    wcop = [c for c in bundle["cells"] if c["check"] == "metadata.roundtrip" and c["producer"] == "mutagen"
            and c["consumer"] == "exiftool" and c["variant"] == "unicode" and c["vector"].endswith("-mp3")]
    assert wcop and all(c["outcome"] == "fail" and "web_statement" in c["reason"] for c in wcop)
    # the reference vendors' disagreements are findings, not a failed run: no gate, exit status 0
    assert bundle["summary"]["must_failures"] > 0 and summary.failing == 0 and not summary.level_gate.failed


def test_every_writer_keeps_pixels_and_samples(default_run: tuple[RunSummary, dict[str, Any], Path]) -> None:
    _, bundle, _ = default_run
    preserved = [c for c in bundle["cells"] if c["check"] == "metadata.preservation"]
    assert {c["producer"] for c in preserved} == {"exiftool", "exiv2", "mutagen"}
    assert all(c["outcome"] == "pass" for c in preserved), [c["reason"] for c in preserved if c["outcome"] != "pass"]


def test_hostile_files_never_crash_a_reader(default_run: tuple[RunSummary, dict[str, Any], Path]) -> None:
    _, bundle, _ = default_run
    hostile = [c for c in bundle["cells"] if c["check"] == "provenance.hostile"]
    assert len({c["vector"] for c in hostile}) == 7
    assert all(c["outcome"] == "pass" for c in hostile), [c["reason"] for c in hostile if c["outcome"] != "pass"]


def test_reports_are_complete_and_escape_attack_strings(default_run: tuple[RunSummary, dict[str, Any], Path]) -> None:
    _, bundle, tmp = default_run
    out = tmp / "out"
    cases = ET.parse(out / "junit.xml").getroot().iter("testcase")
    assert sum(1 for _ in cases) == len(bundle["cells"])
    assert (out / "site" / "index.html").is_file() and (out / "summary.md").is_file()
    attacked = [c for c in bundle["cells"] if c["check"] == "provenance.attack_strings" and c["outcome"] == "pass"]
    assert any("<script" in str(c["measurements"].get("title_read")) for c in attacked)
    for page in (out / "site").rglob("*.html"):
        assert "<script" not in page.read_text().lower(), page
    # artifacts are linked and exist
    linked = [a for c in bundle["cells"] for a in c["artifacts"].values() if a["path"]]
    assert linked and all((out / a["path"]).is_file() for a in linked[:200])


def test_second_run_reuses_every_adapter_answer(default_run: tuple[RunSummary, dict[str, Any], Path]) -> None:
    first, _, tmp = default_run
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIII_HOME", str(tmp / "home"))
        second = execute_run(RunOptions(out=str(tmp / "out2"), store=str(tmp / "store.sqlite")), discover(), progress=False)
    assert second.outcomes == first.outcomes
    # only crashed calls are asked again: answers and clean refusals come from the cache
    crashed = first.outcomes.get("error", 0) + first.outcomes.get("xfail", 0)
    assert second.timing.calls <= crashed and second.timing.cached > 0


def test_producer_outputs_are_shared_across_consumers(default_run: tuple[RunSummary, dict[str, Any], Path]) -> None:
    first, bundle, _ = default_run
    calls = first.timing.by_operation
    signs = calls["c2pa-python provenance.sign"]
    signed_cells = [c for c in bundle["cells"] if c["outcome"] != "unsupported" and "c2pa-python" in (c["producer"] or "").split("+")]
    # one signing per (vector, params), not one per consumer cell
    assert 0 < signs < len(signed_cells) / 3


@pytest.fixture(scope="module")
def skew_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The version-skew vendors (each in its own environment) next to the current release."""
    tmp = tmp_path_factory.mktemp("skew")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIII_HOME", str(tmp / "home"))
        execute_run(RunOptions(profile=str(TESTS / "profiles" / "skew.toml"), out=str(tmp / "out"),
                               store=str(tmp / "store.sqlite")), discover(), progress=False)
    return json.loads((tmp / "out" / "results.json").read_text())  # type: ignore[no-any-return]


def test_version_skew_vendors_run_their_own_releases(skew_run: dict[str, Any]) -> None:
    vendors = {v["id"]: v for v in skew_run["vendors"]}
    assert vendors["c2pa-python-0.10"]["transport"] == "process" and vendors["c2pa-python-0.10"]["version"] == "0.10.0"
    assert vendors["c2pa-python-0.6"]["version"] == "0.6.1" and vendors["c2pa-python"]["version"] == "0.38.1"


def test_version_skew_shows_real_failures(skew_run: dict[str, Any]) -> None:
    bundle = skew_run
    # 0.6 cannot read the claim-v2 manifests 0.38 writes
    old = cell(bundle, "provenance.sign_validate/kodim01-jpg/c2pa-python/c2pa-python-0.6/no-anchor")
    assert old["outcome"] == "fail" and "claim could not be converted from CBOR" in old["reason"]
    # 0.38 reads what 0.6 signed
    new = cell(bundle, "provenance.sign_validate/kodim01-jpg/c2pa-python-0.6/c2pa-python/no-anchor")
    assert new["measurements"]["reader"]["state"] == "Valid"
    # the older releases look for another MIME type of the MP3 manifest
    mp3 = cell(bundle, "provenance.sign_validate/librispeech-198-209-0000-mp3/c2pa-python/c2pa-python-0.10/no-anchor")
    assert mp3["outcome"] == "fail" and "no manifest" in mp3["reason"]
    # 0.10 calls a signature-tampered asset Trusted once trust checking is on
    tampered = cell(bundle, "provenance.tamper/kodim01-jpg/c2pa-python/c2pa-python-0.10/signature")
    assert tampered["outcome"] == "fail" and "reported Trusted for a tampered asset" in tampered["reason"]
    # old releases cannot be given trust anchors: unsupported, not failed
    anchor = cell(bundle, "provenance.sign_validate/kodim01-jpg/c2pa-python/c2pa-python-0.6/anchor")
    assert anchor["outcome"] == "unsupported"
    # per-version expectations: old releases did not evaluate trust by default
    assert cell(bundle, "provenance.public_files/adobe-20220124-c/-/c2pa-python-0.10/-")["outcome"] == "pass"
    # which the agreement of every validator on the same file shows, beside c2patxt's claim-v1 gap
    agreement = cell(bundle, "provenance.agreement/adobe-20220124-c/-/-/-")
    assert agreement["outcome"] == "fail"
    assert ("failure_codes: [signingCredential.untrusted] by c2pa-python, encypher-c2pa;"
            " [] by c2pa-python-0.10, c2pa-python-0.6; [claim.missing] by c2patxt") in agreement["reason"]
    assert agreement["measurements"]["fields_not_exposed"]["signer"] == ["c2pa-python-0.10", "c2pa-python-0.6"]


def test_version_skew_crash_is_a_declared_known_issue(skew_run: dict[str, Any]) -> None:
    # c2pa-rs 0.55 really aborts on one hostile MP3: the process dies and is restarted
    crash = cell(skew_run, "provenance.hostile/id3v23_compression_underflow/-/c2pa-python-0.10/provenance")
    assert crash["outcome"] == "xfail" and "died" in crash["reason"]
    assert crash["expectation"]["link"].startswith("https://github.com/contentauth/c2pa-rs/")
    later = cell(skew_run, "provenance.hostile/riff_bomb_1000/-/c2pa-python-0.10/provenance")
    assert later["outcome"] == "pass"
    assert [c["id"] for c in skew_run["cells"] if c["outcome"] in ("error", "blocked")] == []
