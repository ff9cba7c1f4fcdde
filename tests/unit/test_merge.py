"""Merging bundles (runner/merge.py, runner/cli_merge.py) on synthetic bundles: shards
complete, incomplete and duplicated, identical duplicates dropped, conflicts kept side
by side, a plan mismatch named, stale inputs kept apart, signatures checked."""

from __future__ import annotations

import copy
import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from report_bundle import cell_detail

from reports import render_all
from reports.bundle import validate_bundle, write_bundle
from reports.html import check_page
from runner.attest import AttestationError, sign_bundle
from runner.cli_merge import check_out, copy_artifacts, plan_artifacts
from runner.errors import HarnessError
from runner.keys import generate, load_registry, load_signer
from runner.merge import Input, MergeError, load_input, merge
from runner.plan_digest import PlanMismatch, digest_of

IDS = [f"metadata.roundtrip/vec/p{i}/c/-" for i in range(6)]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _cell(cid: str, outcome: str = "pass", reason: str = "read back") -> dict[str, Any]:
    producer = cid.split("/")[2]
    return {"id": cid, "check": "metadata.roundtrip", "level": "MUST", "producer": producer, "consumer": "c",
            "vector": "vec", "channel": None, "variant": None, "outcome": outcome, "reason": reason,
            "measurements": {"fields": 1},
            "artifacts": {"input": {"sha256": _sha("vec"), "media_type": "image/jpeg", "path": None}},
            "expectation": None, "duration_s": 0.1, "finished": "2026-12-01T10:00:00Z"}


def _bundle(cells: list[dict[str, Any]], run: str = "r1", plan: list[str] = IDS, profile: str = "p",
            shard: tuple[int, int, list[str]] | None = None) -> dict[str, Any]:
    digest = digest_of({"profile": profile, "vectors": {}, "methodology": "m", "channels": {}, "cells": sorted(plan),
                         "pki": "f" * 64})
    vendors = sorted({c["producer"] for c in cells} | {"c"})
    counts = Counter(c["outcome"] for c in cells)
    bundle = {
        "schema_version": 1,
        "run": {"id": run, "profile": "p", "harness_version": "0.1", "methodology_version": "m",
                "catalogue_sha256": _sha("cat"), "started": "2026-12-01T10:00:00Z", "finished": "2026-12-01T10:01:00Z",
                "status": "complete", "options": {}, "plan_digest": digest.as_dict(),
                "environment": {"python": "3.11", "platform": "L", "machine": "x", "cpu_count": 1, "libraries": {}}},
        "vendors": [{"id": v, "name": v, "organisation": "o", "version": "1", "transport": "inproc", "role": "r",
                     "runnable": True, "reason": None, "capabilities": [], "retention": None, "homepage": None}
                    for v in vendors],
        "checks": [{"id": "metadata.roundtrip", "title": "t", "family": "metadata", "level": "MUST", "description": ""}],
        "vectors": [{"id": "vec", "media_type": "image/jpeg", "sha256": _sha("vec"), "licence": "CC0-1.0", "tags": [],
                     "source": None}],
        "cells": cells,
        "summary": {"outcomes": dict(counts), "cells": len(cells),
                    "must_failures": counts["fail"] + counts["error"]},
    }
    if shard:
        bundle["shard"] = {"i": shard[0], "n": shard[1], "cells": sorted(shard[2]), "plan_cells": len(plan),
                           "plan_digest": digest.sha256}
    validate_bundle(bundle)
    return bundle


def _input(index: int, bundle: dict[str, Any], signer: str = "hub") -> Input:
    raw = json.dumps(bundle).encode()
    return Input(index, Path(f"/in{index}/results.json"), hashlib.sha256(raw).hexdigest(), bundle, signer, "k" * 64)


def _shards(cells: list[dict[str, Any]] | None = None) -> list[Input]:
    cells = cells or [_cell(cid) for cid in IDS]
    halves = [cells[:3], cells[3:]]
    return [_input(i, _bundle(half, f"run{i}", shard=(i + 1, 2, [c["id"] for c in half]))) for i, half in enumerate(halves)]


def test_two_shards_merge_into_the_whole_plan_with_sources() -> None:
    merged = merge(_shards())
    bundle = merged.bundle
    validate_bundle(bundle)
    assert [c["id"] for c in bundle["cells"]] == sorted(IDS)
    assert merged.complete and bundle["merge"]["completeness"]["missing_count"] == 0
    assert {c["id"]: c["sources"] for c in bundle["cells"]} == {cid: [0 if n < 3 else 1] for n, cid in enumerate(IDS)}
    assert [(m["run"], m["shard"], m["signer"]) for m in bundle["run"]["merged_from"]] == [
        ("run0", {"i": 1, "n": 2}, "hub"), ("run1", {"i": 2, "n": 2}, "hub")]
    assert "shard" not in bundle and bundle["run"]["status"] == "complete"
    assert bundle["run"]["plan_digest"] == _shards()[0].bundle["run"]["plan_digest"]


def test_a_missing_shard_is_refused_in_one_line_naming_it_unless_allowed() -> None:
    one = _shards()[:1]
    with pytest.raises(MergeError) as err:
        merge(one)
    assert str(err.value) == ("incomplete: 3 of 6 planned cells missing (shards 2/2 not given); "
                              "--allow-incomplete merges anyway")
    merged = merge(one, allow_incomplete=True)
    done = merged.bundle["merge"]["completeness"]
    assert (done["complete"], done["missing_shards"], done["missing_count"]) == (False, ["2/2"], 3)
    assert merged.bundle["run"]["status"] == "interrupted"
    validate_bundle(merged.bundle)


def test_cells_a_shard_manifest_names_but_no_bundle_has_are_listed() -> None:
    shards = _shards()
    shards[1].bundle["cells"] = shards[1].bundle["cells"][:1]  # an interrupted shard
    with pytest.raises(MergeError, match=rf"2 of 6 planned cells missing: {IDS[4]}, {IDS[5]}; --allow-incomplete"):
        merge(shards)


def test_an_interrupted_whole_run_is_not_the_plan() -> None:
    whole = _input(0, _bundle([_cell(cid) for cid in IDS[:4]]))
    with pytest.raises(MergeError, match=r"^incomplete: the 4 merged cells are not the plan's \(their ids do not hash"):
        merge([whole])
    assert merge([_input(0, _bundle([_cell(cid) for cid in IDS]))]).complete


def test_identical_duplicates_are_dropped_and_counted() -> None:
    shards = _shards()
    again = _input(2, copy.deepcopy(shards[0].bundle))
    merged = merge([*shards, again])
    done = merged.bundle["merge"]["completeness"]
    assert merged.dropped == 3 and done["duplicates_dropped"] == 3 and done["duplicated_shards"] == ["1/2"]
    assert len(merged.bundle["cells"]) == 6 and merged.conflicts == 0
    assert merged.bundle["cells"][0]["sources"] == [0, 2]


def test_two_shards_claiming_a_cell_with_different_results_are_refused() -> None:
    shards = _shards()
    edited = copy.deepcopy(shards[0].bundle)
    edited["cells"][0].update(outcome="fail", reason="field lost")
    edited["summary"]["outcomes"] = {"pass": 2, "fail": 1}
    with pytest.raises(MergeError) as err:
        merge([*shards, _input(2, edited)])
    assert "\n" not in str(err.value)
    assert str(err.value).startswith(f"/in0/results.json and /in2/results.json (shards of one plan by hub) claim cell "
                                     f"{IDS[0]} with different results: pass ('read back') and fail ('field lost')")


def test_different_participants_results_are_kept_side_by_side() -> None:
    hub = _input(0, _bundle([_cell(cid) for cid in IDS]))
    vendor_cells = [_cell(cid) for cid in IDS]
    vendor_cells[2] = _cell(IDS[2], "fail", "the vendor saw it fail")
    vendor = _input(1, _bundle(vendor_cells, "acme-run"), signer="acme")
    # artifact packs' per-cell origin (not in this branch's schema yet): carried as it is
    vendor.bundle["cells"][2]["origin"] = {"producer": {"participant": "acme", "run": "x", "placement": "inproc",
                                                        "keyid": None, "verified": True}}
    merged = merge([hub, vendor])
    cell = next(c for c in merged.bundle["cells"] if c["id"] == IDS[2])
    assert (cell["outcome"], cell["sources"]) == ("pass", [0, 1]), "the first input's result, nothing overwritten"
    alternatives = merged.bundle["merge"]["conflicts"][IDS[2]]
    assert [(a["input"], a["signer"], a["run"], a["outcome"]) for a in alternatives] == [
        (0, "hub", "r1", "pass"), (1, "acme", "acme-run", "fail")]
    assert alternatives[1]["origin"]["producer"]["participant"] == "acme", "origin carried through"
    assert merged.conflicts == 1 and merged.dropped == 5


def _origin(participant: str, keyid: str | None, *, pack: str | None = None, run: str | None = "x",
            verified: bool | None = None) -> dict[str, Any]:
    return {"participant": participant, "run": run, "placement": "inproc", "keyid": keyid, "verified": verified,
            **({"pack": pack} if pack else {})}


def test_a_cell_a_pack_left_blocked_is_filled_by_the_participant_who_judged_it() -> None:
    """The hub's cells whose reader is X are blocked (X's reading is in no pack); X's run
    judged them: the merge takes X's, in whichever order the inputs come, with no conflict."""
    hole = _cell(IDS[1], "blocked", "read: not in the pack of p1")
    hole["origin"] = {"written": _origin("hub", "h" * 64), "read": _origin("x-ci", None, pack="pack-p1.tar", run=None)}
    judged = _cell(IDS[1], "fail", "field lost")
    judged["origin"] = {"written": _origin("hub", "h" * 64, pack="pack-p0.tar", verified=True),
                        "read": _origin("x-ci", "k" * 64)}
    hub = _input(0, _bundle([hole, *(_cell(cid) for cid in IDS if cid != IDS[1])]))
    for order in ([hub, _input(1, _bundle([judged], "x-run"), signer="x")],
                  [_input(0, _bundle([judged], "x-run"), signer="x"), _input(1, hub.bundle)]):
        merged = merge(order)
        cell = next(c for c in merged.bundle["cells"] if c["id"] == IDS[1])
        assert (cell["outcome"], cell["reason"]) == ("fail", "field lost")
        assert cell["origin"]["read"] == {**_origin("x-ci", "k" * 64), "verified": True}, "vouched by X's signature"
        assert cell["origin"]["written"]["verified"] is True and sorted(cell["sources"]) == [0, 1]
        assert (merged.filled, merged.conflicts, merged.complete) == (1, 0, True)
        assert "1 cells a pack left blocked filled by another input" in merged.line()
        assert merged.bundle["merge"]["completeness"]["holes_filled"] == 1
        validate_bundle(merged.bundle)


def test_a_blocked_cell_that_is_no_hole_still_conflicts() -> None:
    """Blocked for another reason (say, an unavailable vendor) is a result: kept side by side."""
    blocked = _cell(IDS[1], "blocked", "vendor c unavailable")
    merged = merge([_input(0, _bundle([_cell(cid) for cid in IDS])), _input(1, _bundle([blocked], "x-run"), signer="x")])
    assert (merged.filled, merged.conflicts) == (0, 1)


def test_a_step_is_marked_verified_only_when_its_inputs_signer_holds_its_key() -> None:
    cells = [_cell(cid) for cid in IDS]
    cells[0]["origin"] = {"read": _origin("hub", "k" * 64), "written": _origin("acme", "a" * 64)}
    merged = merge([_input(0, _bundle(cells))])
    origin = next(c for c in merged.bundle["cells"] if c["id"] == IDS[0])["origin"]
    assert (origin["read"]["verified"], origin["written"]["verified"]) == (True, None)
    unsigned = Input(0, Path("/u/results.json"), "0" * 64, _bundle(cells), "unsigned", None)
    origin = next(c for c in merge([unsigned]).bundle["cells"] if c["id"] == IDS[0])["origin"]
    assert origin["read"]["verified"] is None


def test_a_plan_mismatch_is_refused_naming_what_differs() -> None:
    shards = _shards()
    other = _input(2, _bundle([_cell(cid) for cid in IDS[:2]], "old", plan=IDS[:2], profile="q"))
    with pytest.raises(PlanMismatch) as err:
        merge([*shards, other])
    assert err.value.differing == ("profile", "cells")
    assert "were run under different plans: profile, cells differ" in str(err.value)
    assert str(err.value).endswith("; --keep-stale keeps the other plan's inputs apart") and "\n" not in str(err.value)


def test_stale_inputs_are_kept_apart() -> None:
    shards = _shards()
    other = _input(2, _bundle([_cell(IDS[0], "fail", "old")], "old", plan=IDS[:1], profile="q"))
    merged = merge([*shards, other], keep_stale=True)
    assert merged.complete and merged.bundle["merge"]["stale"] == [2]
    assert [m["stale"] for m in merged.bundle["run"]["merged_from"]] == [False, False, True]
    assert all(c["outcome"] == "pass" and 2 not in c["sources"] for c in merged.bundle["cells"])
    validate_bundle(merged.bundle)


def test_the_scorecard_flags_conflicts_and_lists_inputs(tmp_path: Path) -> None:
    hub = _input(0, _bundle([_cell(cid) for cid in IDS]))
    vendor_cells = [_cell(cid) for cid in IDS]
    vendor_cells[2] = _cell(IDS[2], "fail", "the vendor saw it fail")
    merged = merge([hub, _input(1, _bundle(vendor_cells, "acme-run"), signer="acme")])
    paths = render_all(merged.bundle, tmp_path)
    index = paths["site"].read_text()
    assert "1 cells with conflicting results (⇄)" in index and "Merged from" in index
    assert "1 cells with conflicting results (⇄)" in paths["summary"].read_text()
    matrix = (tmp_path / "site" / check_page(merged.bundle["cells"][2]["check"])).read_text()
    assert "⇄ 1</a>" in matrix and 'title="cells with conflicting results"' in matrix
    detail = cell_detail(tmp_path / "site", IDS[2])
    assert "Conflicting results" in detail and "the vendor saw it fail" in detail and "acme-run" in detail


# -- inputs from files: signatures, unsigned, artifacts, --out --------------------------

@pytest.fixture()
def signed(tmp_path: Path) -> tuple[Path, Any]:
    generate(tmp_path / "keys", "hub")
    (tmp_path / "hub-keys").mkdir()
    (tmp_path / "hub-keys" / "hub.pub").write_bytes((tmp_path / "keys" / "hub.pub").read_bytes())
    for i, shard in enumerate(_shards()):
        folder = tmp_path / f"s{i}"
        bundle = shard.bundle
        (folder / "artifacts").mkdir(parents=True)
        (folder / "artifacts" / f"{_sha('vec')}.jpg").write_text("vec")
        for cell in bundle["cells"]:
            cell["artifacts"]["input"]["path"] = f"artifacts/{_sha('vec')}.jpg"
        write_bundle(bundle, folder / "results.json")
        sign_bundle(folder / "results.json", load_signer(tmp_path / "keys" / "hub.pem"), "hub")
    return tmp_path, load_registry([], tmp_path / "hub-keys")


def test_signed_inputs_are_verified_and_their_artifacts_copied(signed: tuple[Path, Any]) -> None:
    root, registry = signed
    inputs = [load_input(i, root / f"s{i}", registry) for i in (0, 1)]
    assert [(i.signer, i.keyid is not None) for i in inputs] == [("hub", True), ("hub", True)]
    merged = merge(inputs)
    planned = plan_artifacts(merged.bundle, merged.inputs)
    out = root / "out"
    assert copy_artifacts(merged.bundle, planned, out) == (1, 6)
    assert (out / "artifacts" / f"{_sha('vec')}.jpg").read_text() == "vec"


def test_an_edited_cell_an_unknown_key_and_an_unsigned_bundle_are_refused(signed: tuple[Path, Any]) -> None:
    root, registry = signed
    raw = (root / "s1" / "results.json").read_text()
    (root / "s1" / "results.json").write_text(raw.replace('"read back"', '"read back!"', 1))
    with pytest.raises(AttestationError, match="s1/results.json: changed after signing"):
        load_input(1, root / "s1", registry)
    with pytest.raises(AttestationError, match="signed by an unknown key"):
        load_input(0, root / "s0", load_registry([], root / "nowhere"))
    (root / "s0" / "results.dsse.json").unlink()
    with pytest.raises(AttestationError, match=r"s0/results.json: unsigned \(no results.dsse.json beside it\); "
                                                "--allow-unsigned merges it anyway"):
        load_input(0, root / "s0", registry)
    assert load_input(0, root / "s0", registry, allow_unsigned=True).signer == "unsigned"
    with pytest.raises(MergeError, match="nowhere: no such bundle"):
        load_input(0, root / "nowhere", registry)


def test_an_artifact_that_is_not_the_one_cited_is_refused_before_writing(signed: tuple[Path, Any]) -> None:
    root, registry = signed
    merged = merge([load_input(i, root / f"s{i}", registry) for i in (0, 1)])
    (root / "s0" / "artifacts" / f"{_sha('vec')}.jpg").write_text("not vec")
    with pytest.raises(HarnessError, match="is not the artifact its bundle cites"):
        plan_artifacts(merged.bundle, merged.inputs)


def test_out_may_not_be_an_inputs_folder_nor_write_through_a_symlink(signed: tuple[Path, Any]) -> None:
    root, _ = signed
    with pytest.raises(HarnessError, match="is the folder of input"):
        check_out(root / "s0", [root / "s0" / "results.json"])
    (root / "out").mkdir()
    (root / "out" / "site").symlink_to(root / "s1")
    with pytest.raises(HarnessError, match="site is a symlink"):
        check_out(root / "out", [root / "s0"])
