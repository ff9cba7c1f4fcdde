"""C2PA content credentials: signing x validating, known files, tampering, pipelines, hostile input."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

from aiii_kit.vocab import IPTC_DST

from conformance.base import Answers, Check, PlanContext, unsupported
from conformance.metadata import declared_fields, normalisations, normalise, value_sets
from conformance.tamper import TAMPERS
from runner.model import Cell, Outcome, VendorManifest, Verdict, canonical_json, transform_step, vendor_step
from runner.vectors import Vector

CLAIM_GENERATOR = "aiii-interop/0.1"

#: What every signer is asked to sign: a creation action with an IPTC source type and
#: training-and-mining entries covering each ``use`` value.
TRAINING_MINING = {
    "ai_training": {"use": "notAllowed"},
    "ai_generative_training": {"use": "notAllowed"},
    "ai_inference": {"use": "allowed"},
    "data_mining": {"use": "constrained", "constraint_info": "https://example.org/tdm-policy"},
}
DIGITAL_SOURCE_TYPE = IPTC_DST + "trainedAlgorithmicMedia"

#: Variants of the sign x validate check: trust anchor given or not, and which label
#: the training-and-mining assertion is written under.
SIGN_VARIANTS: dict[str, dict[str, Any]] = {
    "anchor": {"anchor": True, "label": "cawg.training-mining"},
    "no-anchor": {"anchor": False, "label": "cawg.training-mining"},
    "anchor-c2pa-label": {"anchor": True, "label": "c2pa.training-mining"},
}


def sign_params(ctx: PlanContext, signer: str, title: str, label: str = "cawg.training-mining") -> dict[str, Any]:
    return {
        "signer": ctx.fixtures.credentials(signer),
        "claim_generator": CLAIM_GENERATOR,
        "title": title,
        "actions": [{"action": "c2pa.created", "digital_source_type": DIGITAL_SOURCE_TYPE}],
        "training_mining": TRAINING_MINING,
        "training_mining_label": label,
    }


def read_params(ctx: PlanContext, anchor: bool) -> dict[str, Any]:
    return {"trust_anchors_pem": ctx.fixtures.trust_anchor_pem if anchor else None}


def validates(vendor: VendorManifest, media_type: str) -> bool:
    cap = vendor.capability("provenance.read", media_type)
    return bool(cap and cap.options.get("validates", True))


def takes_anchors(vendor: VendorManifest, media_type: str) -> bool:
    """Whether the reader can be given trust anchors (some old releases cannot)."""
    cap = vendor.capability("provenance.read", media_type)
    return bool(cap and cap.options.get("trust_anchors", True))


def signed_state(vendor: VendorManifest, media_type: str) -> str:
    """The state a sound signature by the test PKI reads as when the anchor is offered."""
    return "Trusted" if takes_anchors(vendor, media_type) else "Valid"


def failure_codes(report: dict[str, Any]) -> list[str]:
    """Active-manifest failures plus ingredient-delta failures, sorted and unique."""
    codes = set(report["codes"]["failure"])
    for delta in report["ingredient_deltas"]:
        codes.update(delta.get("failure", []))
    return sorted(codes)


def content_summary(report: dict[str, Any]) -> dict[str, Any]:
    """The manifest content the harness wrote: source types and training-mining entries."""
    manifest = report.get("active_manifest") or {}
    return {
        "digital_source_types": sorted({a.get("digital_source_type") or "" for a in manifest.get("actions", [])} - {""}),
        "training_mining": manifest.get("training_mining", {}),
    }


def state_summary(report: dict[str, Any]) -> dict[str, Any]:
    return {
        "manifest_present": report["manifest_present"],
        "state": report["validation_state"],
        "failure": failure_codes(report),
    }


def signable(ctx: PlanContext) -> Iterator[tuple[Vector, VendorManifest]]:
    for vector in ctx.vectors:
        for s in ctx.with_op("provenance.sign"):
            yield vector, s


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
                    cell = Cell(self.id, ctx.config.level, vector.id, s.id, v.id, name)
                    if not s.capability("provenance.sign", mt):
                        yield unsupported(cell, f"{s.id} does not sign {mt}")
                        continue
                    if not v.capability("provenance.read", mt):
                        yield unsupported(cell, f"{v.id} does not read manifests in {mt}")
                        continue
                    spec = SIGN_VARIANTS[name]
                    if spec["anchor"] and validates(v, mt) and not takes_anchors(v, mt):
                        yield unsupported(cell, f"{v.id} cannot be given trust anchors")
                        continue
                    signed = vendor_step(s.id, "provenance.sign", vector.id, sign_params(ctx, s.id, f"aiii {vector.id}", spec["label"]))
                    steps = {"signed": signed}
                    # the signer's own reader is the reference, when it can take the same trust setting
                    own = (s.capability("provenance.read", mt) and validates(s, mt)
                           and (takes_anchors(s, mt) or not spec["anchor"]))
                    if own:
                        steps["own"] = vendor_step(s.id, "provenance.read", signed, read_params(ctx, spec["anchor"]))
                    steps["read"] = vendor_step(v.id, "provenance.read", signed, read_params(ctx, spec["anchor"]))
                    context = {"anchor": spec["anchor"], "validates": validates(v, mt), "own": bool(own), "label": spec["label"]}
                    yield replace(cell, steps=steps, context_json=canonical_json(context))

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        ctx = cell.context
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
            problems.append(f"training-mining ({ctx['label']}): {tm_diff}")
        if ctx["validates"]:
            expected_state = "Trusted" if ctx["anchor"] else "Valid"
            expected_failure = [] if ctx["anchor"] else ["signingCredential.untrusted"]
            if ctx["own"]:
                own = state_summary(answers.report("own"))
                m["signer_reader"] = own
                expected_state, expected_failure = own["state"], own["failure"]
            if read["validation_state"] != expected_state:
                problems.append(f"state {read['validation_state']} where the signer's reader says {expected_state}")
            if m["reader"]["failure"] != expected_failure:
                problems.append(f"failure codes {m['reader']['failure']} where the signer's reader says {expected_failure}")
        if problems:
            return Verdict(Outcome.FAIL, "; ".join(problems), m)
        what = f"{read['validation_state']}" if ctx["validates"] else "decoded (no validation)"
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


class PublicFiles(Check):
    id = "provenance.public_files"
    title = "C2PA public test files"
    family = "provenance"
    description = "Each validator's state and codes match the catalogue's expectation for that validator's version."

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        for vector in ctx.vectors:
            if not any(exp.get("check") == self.id for exp in vector.expectations):
                continue  # only files with recorded answers
            for v in ctx.with_op("provenance.read"):
                cell = Cell(self.id, ctx.config.level, vector.id, None, v.id, None)
                if not v.capability("provenance.read", vector.media_type):
                    yield unsupported(cell, f"{v.id} does not read manifests in {vector.media_type}")
                    continue
                step = vendor_step(v.id, "provenance.read", vector.id, read_params(ctx, False))
                ctx_json = canonical_json({"validates": validates(v, vector.media_type)})
                yield replace(cell, steps={"read": step}, context_json=ctx_json)

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
        if not cell.context["validates"] or not want_present:
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


class Tamper(Check):
    id = "provenance.tamper"
    title = "Tampered signed assets"
    family = "provenance"
    description = (
        "One byte of the bound content, of an assertion or of the signature changed, or the manifest"
        " stripped: validators must report Invalid with the right code, or no manifest."
    )

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        kinds = ctx.config.params.get("tampers", list(TAMPERS))
        readers = ctx.with_op("provenance.read")
        for vector, s in signable(ctx):
            mt = vector.media_type
            if not s.capability("provenance.sign", mt):
                continue
            signed = vendor_step(s.id, "provenance.sign", vector.id, sign_params(ctx, s.id, f"aiii {vector.id}"))
            for kind in kinds:
                tampered = transform_step(f"tamper.{kind}", signed)
                for v in readers:
                    cell = Cell(self.id, ctx.config.level, vector.id, s.id, v.id, kind)
                    if not v.capability("provenance.read", mt):
                        yield unsupported(cell, f"{v.id} does not read manifests in {mt}")
                        continue
                    if kind != "strip" and not validates(v, mt):
                        yield unsupported(cell, f"{v.id} decodes but does not validate manifests")
                        continue
                    read = vendor_step(v.id, "provenance.read", tampered, read_params(ctx, True))
                    context = {"kind": kind, "expected": TAMPERS[kind][1]}
                    yield replace(cell, steps={"signed": signed, "tampered": tampered, "read": read},
                                  context_json=canonical_json(context))

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        ctx = cell.context
        read = answers.report("read")
        got = state_summary(read)
        m = {"reader": got, "expected_codes": ctx["expected"]}
        if ctx["kind"] == "strip":
            if read["manifest_present"]:
                return Verdict(Outcome.FAIL, f"manifest still reported after stripping ({got['state']})", m)
            return Verdict(Outcome.PASS, "no manifest", m)
        if not read["manifest_present"]:
            return Verdict(Outcome.FAIL, "manifest no longer found after a one-byte change", m)
        if read["validation_state"] != "Invalid":
            return Verdict(Outcome.FAIL, f"reported {read['validation_state']} for a tampered asset", m)
        expected = ctx["expected"] or []
        if expected and not set(expected) & set(got["failure"]):
            return Verdict(Outcome.FAIL, f"Invalid, but with {got['failure']} instead of {expected}", m)
        return Verdict(Outcome.PASS, f"Invalid: {', '.join(got['failure'])}", m)


class Pipeline(Check):
    judges_clean_errors = True
    id = "provenance.pipeline"
    title = "Metadata then C2PA: write by A, sign by B, read by C"
    family = "provenance"
    description = (
        "Metadata written first, then signed: both survive and the manifest validates. The reverse order"
        " (sign, then write metadata) must be reported Invalid by every validator: a negative control."
    )

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        fields = value_sets({})["ascii"]
        writers = ctx.with_op("metadata.write")
        readers = [v for v in ctx.with_op("provenance.read")]
        for vector, s in signable(ctx):
            mt = vector.media_type
            if not s.capability("provenance.sign", mt):
                continue
            for w in writers:
                if not (w.capability("metadata.write", mt) and w.capability("metadata.read", mt)):
                    continue
                values = {k: v for k, v in fields.items() if k in declared_fields(w, "metadata.write", mt)}
                for v in readers:
                    for order in ("write-then-sign", "sign-then-write"):
                        cell = Cell(self.id, ctx.config.level, vector.id, f"{w.id}+{s.id}", v.id, order)
                        if not v.capability("provenance.read", mt):
                            yield unsupported(cell, f"{v.id} does not read manifests in {mt}")
                            continue
                        if order == "sign-then-write" and not validates(v, mt):
                            yield unsupported(cell, f"{v.id} does not validate, so cannot see the broken binding")
                            continue
                        sp = sign_params(ctx, s.id, f"aiii {vector.id}")
                        if order == "write-then-sign":
                            first = vendor_step(w.id, "metadata.write", vector.id, {"fields": values})
                            last = vendor_step(s.id, "provenance.sign", first, sp)
                            steps = {"written": first, "signed": last}
                        else:
                            first = vendor_step(s.id, "provenance.sign", vector.id, sp)
                            last = vendor_step(w.id, "metadata.write", first, {"fields": values})
                            steps = {"signed": first, "written": last}
                        steps["metadata"] = vendor_step(w.id, "metadata.read", last, {})
                        steps["read"] = vendor_step(v.id, "provenance.read", last, read_params(ctx, True))
                        passes = sorted(set(normalisations(w, "metadata.write", mt)) | set(normalisations(w, "metadata.read", mt)))
                        context = {"order": order, "expected": values, "writer": w.id, "validates": validates(v, mt),
                                   "passes": passes, "state": signed_state(v, mt)}
                        yield replace(cell, steps=steps, context_json=canonical_json(context))

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        ctx = cell.context
        res = answers.results["read"]
        if not res.ok:  # a clean refusal: the validator cannot parse what the pipeline made
            return Verdict(Outcome.FAIL, f"validator refused the file instead of reporting a state: {res.error}",
                           {"refused": res.error})
        read = answers.report("read")
        got_meta = answers.report("metadata")["fields"]
        passes = ctx["passes"]
        lost = sorted(k for k, v in ctx["expected"].items()
                      if k not in got_meta or normalise(got_meta[k], passes) != normalise(v, passes))
        m = {"reader": state_summary(read), "metadata_lost_or_altered": lost, "normalisation": passes}
        if ctx["order"] == "sign-then-write":
            if not read["manifest_present"]:
                return Verdict(Outcome.FAIL, f"no manifest found after {ctx['writer']} wrote metadata into the signed asset", m)
            if read["validation_state"] != "Invalid":
                return Verdict(Outcome.FAIL, f"metadata written after signing, yet reported {read['validation_state']}", m)
            return Verdict(Outcome.PASS, f"Invalid as it must be: {', '.join(failure_codes(read))}", m)
        problems = []
        if lost:
            problems.append(f"metadata lost or altered by signing: {', '.join(lost)}")
        if not read["manifest_present"]:
            problems.append("no manifest")
        elif ctx["validates"] and read["validation_state"] != ctx["state"]:
            problems.append(f"manifest {read['validation_state']} {failure_codes(read)}, expected {ctx['state']}")
        if problems:
            return Verdict(Outcome.FAIL, "; ".join(problems), m)
        return Verdict(Outcome.PASS, "metadata kept and manifest " + (read["validation_state"] or "decoded"), m)


class AttackStrings(Check):
    id = "provenance.attack_strings"
    title = "Injection strings in manifest fields"
    family = "provenance"
    description = "Attack strings signed into the manifest title come back unchanged and the manifest still validates."

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        strings = [(name, i, s) for name, lines in sorted(ctx.fixtures.attack_strings.items())
                   for i, s in enumerate(lines[: ctx.config.params.get("per_file", 2)])]
        for vector, s in signable(ctx):
            mt = vector.media_type
            if not s.capability("provenance.sign", mt):
                continue
            for name, i, text in strings:
                signed = vendor_step(s.id, "provenance.sign", vector.id, sign_params(ctx, s.id, text))
                for v in ctx.with_op("provenance.read"):
                    cell = Cell(self.id, ctx.config.level, vector.id, s.id, v.id, f"{name}-{i}")
                    if not v.capability("provenance.read", mt):
                        yield unsupported(cell, f"{v.id} does not read manifests in {mt}")
                        continue
                    read = vendor_step(v.id, "provenance.read", signed, read_params(ctx, True))
                    yield replace(cell, steps={"signed": signed, "read": read},
                                  context_json=canonical_json({"title": text, "validates": validates(v, mt),
                                                               "state": signed_state(v, mt)}))

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        ctx = cell.context
        read = answers.report("read")
        title = (read.get("active_manifest") or {}).get("title")
        m = {"title_read": title, "title_written": ctx["title"], "reader": state_summary(read)}
        if not read["manifest_present"]:
            return Verdict(Outcome.FAIL, "no manifest found", m)
        if ctx["validates"] and read["validation_state"] != ctx["state"]:
            return Verdict(Outcome.FAIL, f"manifest {read['validation_state']} {failure_codes(read)}, expected {ctx['state']}", m)
        if title is None:
            return Verdict(Outcome.PASS, "manifest intact; this reader does not report the title", m)
        if title != ctx["title"]:
            return Verdict(Outcome.FAIL, f"title altered: {len(ctx['title'])} -> {len(title)} characters", m)
        return Verdict(Outcome.PASS, "title read back unchanged", m)


class Hostile(Check):
    id = "provenance.hostile"
    title = "Hostile files: every reader answers or refuses cleanly"
    family = "provenance"
    description = (
        "The RIFF bomb, the ID3 underflow, the unsupported type and other malformed files go to every"
        " manifest and metadata reader: each returns a result or a clean error, never a crash or a hang."
    )
    judges_clean_errors = True

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        for vector in ctx.vectors:
            for op in ("provenance.read", "metadata.read"):
                for v in ctx.with_op(op):
                    params = read_params(ctx, True) if op == "provenance.read" else {}
                    step = vendor_step(v.id, op, vector.id, params)
                    yield Cell(self.id, ctx.config.level, vector.id, None, v.id, op.split(".")[0], steps={"read": step})

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        res = answers.results["read"]
        if not res.ok:
            return Verdict(Outcome.PASS, f"refused cleanly: {res.error}", {"refused": True})
        report = res.report or {}
        summary = state_summary(report) if "manifest_present" in report else {"fields": sorted(report.get("fields", {}))}
        return Verdict(Outcome.PASS, "answered", {"refused": False, "answer": summary})
