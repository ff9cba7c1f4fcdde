"""Signing and reading C2PA manifests: every signer x every reader (trust anchor or not,
both training-mining labels), and reading known public files against recorded results."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from conformance.base import Answers, Check, PlanContext, planned
from conformance.c2pa import (
    DIGITAL_SOURCE_TYPE,
    TRAINING_MINING,
    content_summary,
    read_params,
    sign_params,
    state_summary,
    takes_anchors,
    validates,
)
from runner.model import Cell, CellContext, Outcome, Vector, VendorManifest, Verdict, vendor_step

#: Variants of the sign x validate check: trust anchor given or not, and which label
#: the training-and-mining assertion is written under.
SIGN_VARIANTS: dict[str, dict[str, Any]] = {
    "anchor": {"anchor": True, "label": "cawg.training-mining"},
    "no-anchor": {"anchor": False, "label": "cawg.training-mining"},
    "anchor-c2pa-label": {"anchor": True, "label": "c2pa.training-mining"},
}


def signable(ctx: PlanContext) -> Iterator[tuple[Vector, VendorManifest]]:
    for vector in ctx.vectors:
        for s in ctx.with_op("provenance.sign"):
            yield vector, s


@dataclass(frozen=True)
class SignContext(CellContext):
    """Sign x validate, from plan to judge: the trust setting, whether the reader
    validates, whether the signer's own reader is the reference, the assertion label."""

    anchor: bool
    validates: bool
    own: bool
    label: str


class SignValidate(Check):
    id = "provenance.sign_validate"
    title = "C2PA sign x validate"
    family = "provenance"
    description = (
        "Each validator reports the same state and failure codes as the signer's own reader, with and"
        " without the trust anchor, and reads back the digitalSourceType and training-mining entries."
    )

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        variants = ctx.config.params.get("variants", list(SIGN_VARIANTS))
        readers = ctx.with_op("provenance.read")
        for vector, s in signable(ctx):
            mt = vector.media_type
            for v in readers:
                for name in variants:
                    cell = self.cell(ctx, vector=vector.id, producer=s.id, consumer=v.id, variant=name)
                    spec = SIGN_VARIANTS[name]
                    missing = (f"{s.id} does not sign {mt}" if not s.capability("provenance.sign", mt) else
                               f"{v.id} does not read manifests in {mt}" if not v.capability("provenance.read", mt) else
                               f"{v.id} cannot be given trust anchors"
                               if spec["anchor"] and validates(v, mt) and not takes_anchors(v, mt) else None)
                    if missing:
                        yield planned(cell, missing)
                        continue
                    signed = vendor_step(s.id, "provenance.sign", vector.id, sign_params(ctx, s.id, f"aiii {vector.id}", spec["label"]))
                    steps = {"signed": signed}
                    # the signer's own reader is the reference, when it can take the same trust setting
                    own = (s.capability("provenance.read", mt) and validates(s, mt)
                           and (takes_anchors(s, mt) or not spec["anchor"]))
                    if own:
                        steps["own"] = vendor_step(s.id, "provenance.read", signed, read_params(ctx, spec["anchor"]))
                    steps["read"] = vendor_step(v.id, "provenance.read", signed, read_params(ctx, spec["anchor"]))
                    context = SignContext(anchor=spec["anchor"], validates=validates(v, mt), own=bool(own), label=spec["label"])
                    yield planned(cell, steps=steps, context=context)

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        ctx = cell.context_as(SignContext)
        read = answers.report("read")
        m: dict[str, Any] = {"reader": state_summary(read), "content": content_summary(read)}
        problems = []
        if not read["manifest_present"]:
            return Verdict(Outcome.FAIL, "no manifest found in the signed asset", m)
        expected_content = {"digital_source_types": [DIGITAL_SOURCE_TYPE], "training_mining": TRAINING_MINING}
        got_content = m["content"]
        if got_content["digital_source_types"] != expected_content["digital_source_types"]:
            problems.append(f"digitalSourceType read as {got_content['digital_source_types']}")
        tm_diff = training_mining_diff(TRAINING_MINING, got_content["training_mining"])
        if tm_diff:
            problems.append(f"training-mining ({ctx.label}): {tm_diff}")
        if ctx.validates:
            expected_state = "Trusted" if ctx.anchor else "Valid"
            expected_failure = [] if ctx.anchor else ["signingCredential.untrusted"]
            if ctx.own:
                own = state_summary(answers.report("own"))
                m["signer_reader"] = own
                expected_state, expected_failure = own["state"], own["failure"]
            if read["validation_state"] != expected_state:
                problems.append(f"state {read['validation_state']} where the signer's reader says {expected_state}")
            if m["reader"]["failure"] != expected_failure:
                problems.append(f"failure codes {m['reader']['failure']} where the signer's reader says {expected_failure}")
        if problems:
            return Verdict(Outcome.FAIL, "; ".join(problems), m)
        what = f"{read['validation_state']}" if ctx.validates else "decoded (no validation)"
        return Verdict(Outcome.PASS, f"{what}; source type and training-mining read back", m)


def training_mining_diff(expected: dict[str, Any], got: dict[str, Any]) -> str:
    out = []
    for key, want in expected.items():
        have = got.get(key)
        if have is None:
            out.append(f"{key} missing")
        elif have.get("use") != want["use"] or (want.get("constraint_info") and have.get("constraint_info") != want["constraint_info"]):
            out.append(f"{key}={have} (wrote {want})")
    return ", ".join(out)


@dataclass(frozen=True)
class ReaderContext(CellContext):
    """Whether the reader of a public file validates manifests (else it only decodes them)."""

    validates: bool


class PublicFiles(Check):
    id = "provenance.public_files"
    catalogue_data = "the C2PA public test files and their expected results"
    title = "C2PA public test files"
    family = "provenance"
    description = "Each validator's state and codes match the catalogue's expectation for that validator's version."

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        for vector in ctx.vectors:
            if not any(exp.get("check") == self.id for exp in vector.expectations):
                continue  # only files with recorded answers
            for v in ctx.with_op("provenance.read"):
                cell = self.cell(ctx, vector=vector.id, producer=None, consumer=v.id, variant=None)
                if not v.capability("provenance.read", vector.media_type):
                    yield planned(cell, f"{v.id} does not read manifests in {vector.media_type}")
                    continue
                step = vendor_step(v.id, "provenance.read", vector.id, read_params(ctx, False))
                yield planned(cell, steps={"read": step}, context=ReaderContext(validates=validates(v, vector.media_type)))

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        consumer_version = answers.versions.get(cell.consumer or "", "")
        read = answers.report("read")
        got = state_summary(read)
        m: dict[str, Any] = {"reader": got, "consumer_version": consumer_version}
        exp = pick_expectation(answers.vector, self.id, cell.consumer or "", consumer_version)
        if exp is None:
            return Verdict(Outcome.FAIL, f"no expected result recorded for {cell.consumer} {consumer_version}: add one to the catalogue", m)
        m["expected"] = exp
        want_present = exp["state"] != "none"
        if got["manifest_present"] != want_present:
            return Verdict(Outcome.FAIL, f"manifest {'missing' if want_present else 'reported'}; expected state {exp['state']}", m)
        if not cell.context_as(ReaderContext).validates or not want_present:
            return Verdict(Outcome.PASS, "manifest presence as expected" + ("" if want_present else " (none)"), m)
        problems = []
        if got["state"] != exp["state"]:
            problems.append(f"state {got['state']}, expected {exp['state']}")
        got_fail = sorted(read["codes"]["failure"])
        want_fail = sorted(exp.get("failure", []))
        if "failure" in exp and want_fail != got_fail:
            problems.append(f"failure codes {got_fail}, expected {want_fail}")
        missing = sorted(set(exp.get("failure_includes", [])) - set(got_fail))
        if missing:
            problems.append(f"failure codes {got_fail} lack {missing}")
        missing_info = sorted(set(exp.get("informational", [])) - set(read["codes"]["informational"]))
        if missing_info:  # informational codes listed must be present; others may be added
            problems.append(f"informational codes {missing_info} missing")
        if problems:
            return Verdict(Outcome.FAIL, "; ".join(problems), m)
        return Verdict(Outcome.PASS, f"{got['state']} {got_fail or ''}".strip(), m)


def pick_expectation(vector: Vector, check: str, consumer: str, version: str) -> dict[str, Any] | None:
    """The most specific expectation: this consumer and version, else any consumer ('*')."""
    import fnmatch

    best: tuple[int, dict[str, Any]] | None = None
    for exp in vector.expectations:
        if exp.get("check") != check or not fnmatch.fnmatchcase(version, exp.get("versions", "*")):
            continue
        rank = 0 if exp.get("consumer") == consumer else 1 if exp.get("consumer") == "*" else None
        if rank is not None and (best is None or rank < best[0]):
            best = (rank, exp)
    return best[1] if best else None
