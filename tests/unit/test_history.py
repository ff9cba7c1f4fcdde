"""The history store and its ingest (runner/history.py, runner/ingest.py) on real SQLite
files and real signed bundles: idempotent ingest, each bad upload refused with its
state and reason and nothing changed, stale plans told from new ones, flakes found."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from history_bundles import VENDORS, cell_id, default_cells, make, write

from runner.attest import sign_bundle
from runner.history import History, flaky_cells
from runner.ingest import DUPLICATE, INVALID, STALE, VALID, ingest_bundle
from runner.keys import Registry, generate, load_registry, load_signer


@pytest.fixture()
def hub(tmp_path: Path) -> tuple[Path, Registry]:
    """A hub key pair: the private key's path, and a registry holding its public key."""
    generate(tmp_path / "keys", "hub")
    (tmp_path / "hub-keys").mkdir()
    (tmp_path / "hub-keys" / "hub.pub").write_bytes((tmp_path / "keys" / "hub.pub").read_bytes())
    return tmp_path / "keys" / "hub.pem", load_registry([], tmp_path / "hub-keys")


def _signed(bundle: dict[str, Any], folder: Path, key: Path) -> Path:
    path = write(bundle, folder)
    sign_bundle(path, load_signer(key), "hub")
    return path


def test_the_same_bundle_twice_is_a_duplicate_and_changes_nothing(tmp_path: Path, hub: tuple[Path, Registry]) -> None:
    key, registry = hub
    path = _signed(make("r1", "2026-11-01T10:00:00Z"), tmp_path / "b1", key)
    history = History(tmp_path / "history.sqlite")
    first = ingest_bundle(path, history, registry)
    assert (first.state, first.run_id) == (VALID, "r1")
    assert "18 cells" in first.reason and "signed by hub/" in first.reason
    counts = history.counts()
    assert counts["runs"] == 1 and counts["cells"] == 18 and counts["run_vendors"] == 3
    db = (tmp_path / "history.sqlite").read_bytes()
    again = ingest_bundle(path.parent, history, registry)  # the folder names the same bundle
    assert (again.state, again.run_id) == (DUPLICATE, "r1")
    assert history.counts() == counts
    assert (tmp_path / "history.sqlite").read_bytes() == db
    # the whole bundle and its signature come back byte for byte
    assert history.raw_bundle("r1") == path.read_bytes()
    assert history.envelope("r1") == (path.parent / "results.dsse.json").read_bytes()
    record = history.run("r1")
    assert record is not None and record.signer == "hub" and record.keyid and record.sha256 == hashlib.sha256(
        path.read_bytes()).hexdigest()
    assert record.scores["method"] == "interop-score/1"
    assert record.scores["families"]["metadata"]["score"] == 1.0
    history.close()
    reopened = History(tmp_path / "history.sqlite")  # what was stored survives a reopen
    assert [r.run_id for r in reopened.runs()] == ["r1"]


def _bad_uploads(tmp_path: Path, key: Path) -> dict[str, tuple[Path, str, str]]:
    """name -> (path, expected state, a phrase of the reason)."""
    out: dict[str, tuple[Path, str, str]] = {}
    folder = tmp_path / "not-json"
    folder.mkdir()
    (folder / "results.json").write_text("this is not JSON")
    out["not JSON"] = (folder / "results.json", INVALID, "not JSON")
    truncated = write(make("r9", "2026-11-09T10:00:00Z"), tmp_path / "truncated")
    truncated.write_bytes(truncated.read_bytes()[:500])
    out["truncated"] = (truncated, INVALID, "not JSON, or truncated")
    changed = _signed(make("r8", "2026-11-08T10:00:00Z"), tmp_path / "changed", key)
    raw = bytearray(changed.read_bytes())
    where = raw.index(b'"pass"')
    raw[where + 1:where + 5] = b"fail"  # one cell's outcome, four bytes: the same length
    changed.write_bytes(bytes(raw))
    out["a signed bundle with one byte changed"] = (changed, INVALID, "changed after signing")
    generate(tmp_path / "other-keys", "hub")
    stranger = write(make("r7", "2026-11-07T10:00:00Z"), tmp_path / "stranger")
    sign_bundle(stranger, load_signer(tmp_path / "other-keys" / "hub.pem"), "hub")
    out["unknown key"] = (stranger, INVALID, "unknown key")
    out["unsigned"] = (write(make("r6", "2026-11-06T10:00:00Z"), tmp_path / "unsigned"), INVALID, "unsigned")
    shard = make("r5", "2026-11-05T10:00:00Z")
    shard["shard"] = {"i": 1, "n": 2, "cells": sorted(c["id"] for c in shard["cells"]), "plan_cells": 36,
                      "plan_digest": shard["run"]["plan_digest"]["sha256"]}
    out["a shard"] = (_signed(shard, tmp_path / "shard", key), INVALID, "merge the shards first")
    clash = make("r1", "2026-11-01T10:00:00Z")
    clash["cells"][0]["reason"] = "another reason"
    out["another bundle with a stored run id"] = (_signed(clash, tmp_path / "clash", key), INVALID,
                                                   "already in the history with other content")
    bad_id = make("../r4", "2026-11-04T10:00:00Z")
    out["a run id that cannot name a file"] = (_signed(bad_id, tmp_path / "bad-id", key), INVALID, "not a usable name")
    out["stale plan"] = (_signed(make("r0", "2026-10-31T10:00:00Z", plan="plan-0"), tmp_path / "stale", key), STALE,
                         "methodology differ")
    return out


def test_bad_uploads_are_refused_with_their_state_and_reason_and_change_nothing(
        tmp_path: Path, hub: tuple[Path, Registry]) -> None:
    key, registry = hub
    history = History(tmp_path / "history.sqlite")
    assert ingest_bundle(_signed(make("r1", "2026-11-01T10:00:00Z"), tmp_path / "b1", key), history, registry).state == VALID
    counts = history.counts()
    for name, (path, state, phrase) in _bad_uploads(tmp_path, key).items():
        result = ingest_bundle(path, history, registry)
        assert (name, result.state) == (name, state), result.reason
        assert phrase in result.reason, (name, result.reason)
        assert "\n" not in result.reason
        assert history.counts() == counts, name
    assert [r.run_id for r in history.runs()] == ["r1"]


def test_a_new_plan_is_valid_going_forward_and_stale_going_back(tmp_path: Path, hub: tuple[Path, Registry]) -> None:
    key, registry = hub
    history = History(tmp_path / "h.sqlite")

    def ingest(run: str, started: str, plan: str, **kwargs: Any) -> str:
        bundle = make(run, started, plan=plan, **kwargs)
        return ingest_bundle(_signed(bundle, tmp_path / run, key), history, registry).state

    assert ingest("n1", "2026-11-01T10:00:00Z", "plan-1") == VALID
    more = default_cells() | {cell_id("metadata.roundtrip", "alpha", "alpha").replace("/-", "/v2"): "pass"}
    assert ingest("n2", "2026-11-02T10:00:00Z", "plan-2", outcomes=more) == VALID  # the test set grew: valid
    assert ingest("late-old-plan", "2026-11-01T12:00:00Z", "plan-1") == STALE  # the plan the history moved past
    assert ingest("late-new-plan", "2026-11-01T22:00:00Z", "plan-2", outcomes=more) == VALID  # fills the history in
    assert ingest("other-profile", "2026-10-01T10:00:00Z", "plan-0", profile="weekly") == VALID
    assert [r.run_id for r in history.runs("nightly")] == ["n1", "late-new-plan", "n2"]


def test_unsigned_bundles_are_taken_only_when_allowed(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite")
    path = write(make("u1", "2026-11-01T10:00:00Z"), tmp_path / "u1")
    assert ingest_bundle(path, history, Registry()).state == INVALID
    result = ingest_bundle(path, history, Registry(), allow_unsigned=True)
    assert result.state == VALID and "signed by unsigned" in result.reason
    record = history.run("u1")
    assert record is not None and record.signer == "unsigned" and record.keyid is None


def _runs(history: History, tmp_path: Path, sequences: dict[str, list[str]], versions: list[dict[str, str]]) -> None:
    for i, vs in enumerate(versions):
        outcomes = default_cells() | {cid: seq[i] for cid, seq in sequences.items()}
        path = write(make(f"r{i}", f"2026-11-{i + 1:02d}T10:00:00Z", outcomes, versions=vs), tmp_path / f"r{i}")
        assert ingest_bundle(path, history, Registry(), allow_unsigned=True).state == VALID


def test_a_cell_that_flips_both_ways_under_one_plan_and_versions_is_flaky(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite")
    flipping = cell_id("metadata.roundtrip", "alpha", "beta")
    upgraded = cell_id("provenance.sign_validate", "gamma", "gamma")
    once = cell_id("metadata.roundtrip", "beta", "beta")
    sequences = {flipping: ["pass", "fail", "pass", "pass", "fail"],
                 upgraded: ["pass", "fail", "pass", "fail", "pass"],
                 once: ["pass", "pass", "fail", "fail", "fail"]}
    # gamma's version changes with every run: its flips follow its versions, not chance
    versions = [{"gamma": f"1.{i}"} for i in range(5)]
    _runs(history, tmp_path, sequences, versions)
    flaky = flaky_cells(history)
    assert set(flaky) == {flipping}
    info = flaky[flipping]
    assert info.outcomes == ("pass", "fail", "pass", "pass", "fail")
    assert (info.flips, info.transitions) == (3, 4) and info.rate == 0.75
    assert info.vendors == ("alpha", "beta") and info.versions == "alpha=1.0 beta=1.0"
    assert info.as_dict()["flip_rate"] == 0.75
    assert flaky_cells(history, k=2) == {}  # two runs cannot flip both ways
    assert flaky_cells(history, profile="nightly", k=3) == {}  # pass, pass, fail: one way only
    recent = flaky_cells(history, profile="nightly", k=4)[flipping]  # fail, pass, pass, fail
    assert (recent.flips, recent.transitions, recent.runs) == (2, 3, ("r1", "r2", "r3", "r4"))
    assert flaky_cells(history, profile="weekly") == {}


def test_history_opens_any_sqlalchemy_url_and_refuses_a_bad_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'by-url.sqlite'}"
    with History(url) as history:
        assert history.counts()["runs"] == 0
    assert (tmp_path / "by-url.sqlite").is_file()
    from runner.errors import HarnessError

    with pytest.raises(HarnessError, match="cannot be opened"):
        History("nosuchdialect://x/y")


def test_vendor_versions_and_matched_known_issues_are_kept(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite")
    expectation = {"check": "metadata.roundtrip/*/alpha/*", "reason": "alpha drops a field", "expires": "2027-01-31",
                   "link": "https://example.org/issue/1"}
    outcomes = default_cells() | {cell_id("metadata.roundtrip", "alpha", "gamma"): "xfail"}
    bundle = make("r1", "2026-11-01T10:00:00Z", outcomes, versions={"alpha": "2.0"}, expectation=expectation)
    ingest_bundle(write(bundle, tmp_path / "r1"), history, Registry(), allow_unsigned=True)
    assert history.vendors_of("r1")["alpha"]["version"] == "2.0"
    issues = history.expectations()
    assert set(issues) == {"alpha", "gamma"}
    assert issues["alpha"][0]["reason"] == "alpha drops a field" and issues["alpha"][0]["cells"] == 1
    stored = {row["cell_id"]: row for row in history.cell_rows("r1")}
    assert stored[cell_id("metadata.roundtrip", "alpha", "gamma")]["versions"] == "alpha=2.0 gamma=1.0"
    assert json.loads(stored[cell_id("metadata.roundtrip", "alpha", "gamma")]["expectation"]) == expectation
    assert len(stored) == len(outcomes) and sorted(VENDORS) == sorted(history.vendors_of("r1"))
    assert copy.deepcopy(bundle) == history.bundle("r1")
