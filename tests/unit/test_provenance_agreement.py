"""provenance.agreement without validators: what each validator's report answers field by
field, which answers disagree and how the reason shows them, the plan over any file of a
declared media type (a user's folder included), and refusals judged as answers."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from aiii_kit.c2pa import empty_provenance_report

from conformance.base import Answers, Fixtures, PlanContext
from conformance.provenance import FAMILY
from conformance.provenance.agreement import Agreement, ReaderView, answers_of, describe, disagreements
from runner.model import (
    Capability,
    CheckConfig,
    ErrorKind,
    Level,
    Outcome,
    StepResult,
    Vector,
    VectorSelector,
    VendorManifest,
)
from runner.verdicts import judge_cell

READ = "provenance.read"


def _reader(vid: str, media: tuple[str, ...], **options: Any) -> VendorManifest:
    return VendorManifest(id=vid, name=vid, organisation="test", placement="inproc", folder=Path("/nonexistent"),
                          version_rule={}, capabilities=(Capability(READ, media, {"validates": True, **options}),))


VENDORS = [
    _reader("c2pa-python", ("image/jpeg", "image/png")),
    _reader("c2patxt", ("image/jpeg", "text/plain")),
    _reader("encypher-c2pa", ("image/jpeg", "image/png", "text/plain"), assertion_labels_omit=["c2pa.thumbnail.*"]),
    _reader("c2pa-python-0.10", ("image/jpeg",), assertion_labels=False),
    _reader("exiftool", ("image/jpeg", "image/png"), validates=False),  # decodes only: not a validator
]


def _vector(vid: str, media_type: str) -> Vector:
    return Vector(vid, Path(f"/nonexistent/{vid}"), media_type, "0" * 64, "unknown (user-supplied)", ())


def _ctx(vectors: list[Vector]) -> PlanContext:
    config = CheckConfig(id="provenance.agreement", level=Level.SHOULD, vectors=VectorSelector())
    return PlanContext(config=config, vectors=vectors, vendors={v.id: v for v in VENDORS},
                       fixtures=Fixtures(trust_anchor_pem="ROOT", credentials=lambda _v: {}))


def _signed_report(**manifest: Any) -> dict[str, Any]:
    """A claim-v1 public test file as c2pa-python 0.38 reports it (adobe-20220124-CA.jpg)."""
    report = empty_provenance_report()
    report.update(manifest_present=True, validation_state="Valid",
                  codes={"success": [], "informational": ["timeStamp.untrusted"], "failure": ["signingCredential.untrusted"]})
    report["active_manifest"] = {
        "label": "contentauth:urn:uuid:04cdf4ec", "title": "CA.jpg", "claim_generator": "make_test_images/0.16.1 c2pa-rs/0.16.1",
        "actions": [], "training_mining": {}, "soft_bindings": [], "ingredients_count": 1,
        "assertion_labels": ["c2pa.actions", "c2pa.hash.data", "c2pa.ingredient", "c2pa.thumbnail.claim.jpeg",
                             "stds.schema-org.CreativeWork"],
        "ingredients": [{"title": "A.jpg", "relationship": "parentOf"}],
        "signer": {"common_name": "C2PA Signer"},
        **manifest,
    }
    return report


def test_a_report_answers_each_field_and_says_which_it_does_not_expose() -> None:
    answer, hidden = answers_of(_signed_report(), ReaderView())
    assert answer == {
        "manifest": "present", "state": "Valid", "failure_codes": ["signingCredential.untrusted"],
        "active_manifest": "contentauth:urn:uuid:04cdf4ec", "claim_generator": "make_test_images/0.16.1 c2pa-rs/0.16.1",
        "assertion_labels": ["c2pa.actions", "c2pa.hash.data", "c2pa.ingredient", "c2pa.thumbnail.claim.jpeg",
                             "stds.schema-org.CreativeWork"],
        "ingredients": ["A.jpg (parentOf)"], "signer": "C2PA Signer",
    }
    assert hidden == []
    # an older SDK: no signer subject in its JSON, assertion labels not as stored
    old = _signed_report()
    del old["active_manifest"]["signer"]
    answer, hidden = answers_of(old, ReaderView(labels_exposed=False))
    assert hidden == ["assertion_labels", "signer"] and "signer" not in answer and "assertion_labels" not in answer
    # no manifest: only the presence is asked; a refusal is an answer of its own
    assert answers_of(empty_provenance_report(), ReaderView()) == ({"manifest": "none"}, [])
    assert answers_of(None, ReaderView()) == ({"manifest": "refused"}, [])


def test_disagreements_list_each_answer_with_who_gave_it() -> None:
    ref, _ = answers_of(_signed_report(), ReaderView())
    dropped, _ = answers_of(_signed_report(claim_generator=None, assertion_labels=[
        "c2pa.actions", "c2pa.hash.data", "c2pa.ingredient", "stds.schema-org.CreativeWork"]), ReaderView())
    answers = {"c2pa-python": ref, "c2pa-python-0.10": dict(ref), "encypher-c2pa": dropped}
    # thumbnails one validator leaves out are dropped from every validator's labels first
    found = disagreements(answers, ["c2pa.thumbnail.*"])
    assert found == [{"field": "claim_generator", "answers": [
        {"value": "make_test_images/0.16.1 c2pa-rs/0.16.1", "by": ["c2pa-python", "c2pa-python-0.10"]},
        {"value": "none", "by": ["encypher-c2pa"]}]}]
    assert describe(found) == ("claim_generator: make_test_images/0.16.1 c2pa-rs/0.16.1 by c2pa-python, c2pa-python-0.10;"
                               " none by encypher-c2pa")
    # without the omission the thumbnail is a disagreement too
    assert [d["field"] for d in disagreements(answers)] == ["claim_generator", "assertion_labels"]
    # a field one validator does not expose is compared among the others only
    del answers["c2pa-python-0.10"]["signer"]
    answers["encypher-c2pa"] = dict(ref)
    assert disagreements(answers) == []


def test_plan_compares_every_validator_of_the_file_type_and_reads_no_catalogue_data() -> None:
    check = Agreement()
    assert check.catalogue_data is None  # it runs on a user's folder too
    vectors = [_vector("photo", "image/jpeg"), _vector("scan", "image/png"), _vector("note", "text/plain"),
               _vector("song", "audio/ogg")]
    cells = {c.vector: c for c in check.plan(_ctx(vectors))}
    assert sorted(cells["photo"].steps) == ["read:c2pa-python", "read:c2pa-python-0.10", "read:c2patxt", "read:encypher-c2pa"]
    assert sorted(cells["scan"].steps) == ["read:c2pa-python", "read:encypher-c2pa"]
    assert sorted(cells["note"].steps) == ["read:c2patxt", "read:encypher-c2pa"]
    assert cells["song"].preset == (Outcome.UNSUPPORTED, "fewer than two validators read manifests in audio/ogg (selected: none)")
    # default trust, the same read as provenance.public_files (one step for both)
    assert {s.params["trust_anchors_pem"] for s in cells["photo"].steps.values()} == {None}
    assert all(c.producer is None and c.consumer is None for c in cells.values())
    assert "provenance.agreement" in {c.id for c in FAMILY.checks}


def _judge(cell: Any, results: dict[str, StepResult]) -> Any:
    check = Agreement()
    answers = Answers(vector=_vector(cell.vector, "image/jpeg"), results=results, load=lambda _sha: b"")
    verdict, _ = judge_cell(cell, results, lambda _r: check.judge(cell, answers), check.judges_clean_errors, [], "2026-01-01",
                            any_role=check.independent_roles)
    return verdict


def test_claim_v1_file_shows_each_disagreement_and_what_is_not_exposed() -> None:
    (cell,) = Agreement().plan(_ctx([_vector("ca", "image/jpeg")]))
    ours = _signed_report()
    encypher = copy.deepcopy(ours)
    encypher["active_manifest"].update(claim_generator=None, assertion_labels=[
        "c2pa.actions", "c2pa.hash.data", "c2pa.ingredient", "stds.schema-org.CreativeWork"])
    c2patxt = empty_provenance_report()
    c2patxt.update(manifest_present=True, validation_state="Invalid",
                   codes={"success": [], "informational": [], "failure": ["claim.missing"]})
    old = copy.deepcopy(ours)
    del old["active_manifest"]["signer"]
    results = {"read:c2pa-python": StepResult(ok=True, report=ours), "read:c2pa-python-0.10": StepResult(ok=True, report=old),
               "read:c2patxt": StepResult(ok=True, report=c2patxt), "read:encypher-c2pa": StepResult(ok=True, report=encypher)}
    verdict = _judge(cell, results)
    assert verdict.outcome == Outcome.FAIL
    assert verdict.reason.startswith("4 disagreements: state: Valid by c2pa-python, c2pa-python-0.10, encypher-c2pa;"
                                     " Invalid by c2patxt | failure_codes: [signingCredential.untrusted] by")
    # c2patxt found no active manifest: said once, its fields are not asked
    assert "active_manifest: contentauth:urn:uuid:04cdf4ec by c2pa-python, c2pa-python-0.10, encypher-c2pa; none by c2patxt" \
        in verdict.reason
    assert ("claim_generator: make_test_images/0.16.1 c2pa-rs/0.16.1 by c2pa-python, c2pa-python-0.10;"
            " none by encypher-c2pa; not exposed:") in verdict.reason
    assert verdict.reason.endswith("; not exposed: assertion_labels by c2pa-python-0.10, signer by c2pa-python-0.10")
    assert verdict.measurements["fields_not_exposed"] == {"assertion_labels": ["c2pa-python-0.10"], "signer": ["c2pa-python-0.10"]}
    assert verdict.measurements["assertion_labels_omitted"] == ["c2pa.thumbnail.*"]


def test_a_refusal_is_an_answer_and_an_unsupported_reader_is_left_out() -> None:
    (cell,) = Agreement().plan(_ctx([_vector("v2", "image/jpeg")]))
    ours = _signed_report()
    results = {
        "read:c2pa-python": StepResult(ok=True, report=ours),
        "read:c2pa-python-0.10": StepResult(ok=False, error="claim could not be converted from CBOR", error_kind=ErrorKind.CLEAN),
        "read:c2patxt": StepResult(ok=False, error="no JPEG here", error_kind=ErrorKind.UNSUPPORTED),
        "read:encypher-c2pa": StepResult(ok=True, report=copy.deepcopy(ours)),
    }
    verdict = _judge(cell, results)
    assert verdict.outcome == Outcome.FAIL
    assert verdict.reason.startswith("1 disagreement: manifest: present by c2pa-python, encypher-c2pa; refused by c2pa-python-0.10")
    assert verdict.reason.endswith("; unsupported by c2patxt")
    assert verdict.measurements["refusals"] == {"c2pa-python-0.10": "claim could not be converted from CBOR"}
    # a crash is not an answer: the cell is blocked, never judged on the others alone
    results["read:c2pa-python-0.10"] = StepResult(ok=False, error="adapter died", error_kind=ErrorKind.ERROR)
    assert _judge(cell, results).outcome == Outcome.BLOCKED


def test_no_manifest_anywhere_passes_saying_so() -> None:
    (cell,) = Agreement().plan(_ctx([_vector("plain", "image/jpeg")]))
    results = {role: StepResult(ok=True, report=empty_provenance_report()) for role in cell.steps}
    verdict = _judge(cell, results)
    assert (verdict.outcome, verdict.reason) == (Outcome.PASS, "no validator found a manifest: 4 agree (no manifest)")
    results = {role: StepResult(ok=True, report=_signed_report()) for role in cell.steps}
    verdict = _judge(cell, results)
    assert verdict.outcome == Outcome.PASS
    assert verdict.reason == "4 validators agree: Valid [signingCredential.untrusted]; not exposed: assertion_labels by c2pa-python-0.10"


def test_scorecard_lists_per_file_disagreements_of_field_comparisons_only() -> None:
    from reports.matrix import build_matrices, per_file

    def cell(check: str, vector: str, measurements: dict[str, Any]) -> dict[str, Any]:
        return {"id": f"{check}/{vector}/-/-/-", "check": check, "vector": vector, "producer": None, "consumer": None,
                "variant": None, "outcome": "fail", "reason": "r", "measurements": measurements}

    found = [{"field": "state", "answers": [{"value": "Valid", "by": ["a"]}, {"value": "Invalid", "by": ["b"]}]}]
    bundle = {"checks": [{"id": "provenance.agreement"}, {"id": "optout.cases"}], "cells": [
        cell("provenance.agreement", "ca", {"disagreements": found, "fields_not_exposed": {}}),
        cell("provenance.agreement", "a", {"disagreements": [], "fields_not_exposed": {}}),
        # another check's disagreements are lines of text: not a per-file field table
        cell("optout.cases", "site", {"disagreements": ["tdmrep/x: 1 by a; 0 by b"]}),
    ]}
    agreement, optout = build_matrices(bundle)
    assert [(row, c["measurements"]["disagreements"]) for row, c in per_file(agreement)] == [("a", []), ("ca", found)]
    assert per_file(optout) == []
