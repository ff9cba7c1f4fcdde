"""Validators agree on any corpus: on every file with a manifest, the catalogue's or a
user's own (``aiii run --vectors DIR``), every validator's answer is compared with every
other's: manifest found or not, the validation state (C2PA 2.x "Validation": well-formed,
valid, trusted), the failure codes, and field by field the active manifest, the claim
generator, the assertions' labels, the ingredients and the signer's certificate subject.

A field a validator does not expose is listed as not exposed (``fields_not_exposed``),
never counted as a disagreement.  The comparison is pure (:func:`answers_of`,
:func:`disagreements`) so it is tested without any validator.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from conformance.base import Answers, Check, PlanContext, planned
from conformance.c2pa import failure_codes, read_params, validates
from runner.model import Cell, CellContext, ErrorKind, Outcome, VendorManifest, Verdict, vendor_step

READ = "provenance.read"
#: The compared fields, in the order a reason lists them.
FIELDS = ("manifest", "state", "failure_codes", "active_manifest", "claim_generator", "assertion_labels",
          "ingredients", "signer")
#: Fields read from the active manifest: report key -> compared field.
_MANIFEST_FIELDS = {"label": "active_manifest", "claim_generator": "claim_generator", "assertion_labels": "assertion_labels",
                    "ingredients": "ingredients", "signer": "signer"}


@dataclass(frozen=True)
class ReaderView:
    """What the check knows of a validator from its manifest: whether its assertion labels
    are the labels as stored, and which labels its listing leaves out (globs)."""

    labels_exposed: bool = True
    labels_omitted: tuple[str, ...] = ()


@dataclass(frozen=True)
class AgreementContext(CellContext):
    """The validators of the cell (role ``read:<id>`` each) and how each lists assertions."""

    readers: tuple[str, ...]
    views: Mapping[str, ReaderView]


def reader_view(vendor: VendorManifest, media_type: str) -> ReaderView:
    cap = vendor.capability(READ, media_type)
    options = cap.options if cap else {}
    return ReaderView(labels_exposed=bool(options.get("assertion_labels", True)),
                      labels_omitted=tuple(options.get("assertion_labels_omit", ())))


# ------------------------------------------------------------------ comparison


def _manifest_value(key: str, manifest: Mapping[str, Any]) -> Any:
    value = manifest[key]
    if key == "ingredients":
        return sorted(f"{i.get('title') or '(untitled)'} ({i.get('relationship') or 'no relationship'})" for i in value)
    if key == "signer":
        return value.get("common_name")
    if key == "assertion_labels":
        return sorted(set(value))
    return value


def answers_of(report: Mapping[str, Any] | None, view: ReaderView) -> tuple[dict[str, Any], list[str]]:
    """One validator's comparable answers by field, and the fields it does not expose.

    No report (the validator refused the file cleanly) is the answer ``refused``; a
    reader that finds no manifest answers only the ``manifest`` field (the others are
    not asked of it)."""
    if report is None:
        return {"manifest": "refused"}, []
    if not report["manifest_present"]:
        return {"manifest": "none"}, []
    out: dict[str, Any] = {"manifest": "present", "state": report["validation_state"], "failure_codes": failure_codes(dict(report))}
    hidden: list[str] = []
    manifest = report.get("active_manifest")
    if manifest is None:  # a store without a (readable) active manifest: its fields are not asked
        out["active_manifest"] = None
        return out, hidden
    for key, name in _MANIFEST_FIELDS.items():
        if key not in manifest or (key == "assertion_labels" and not view.labels_exposed):
            hidden.append(name)
        else:
            out[name] = _manifest_value(key, manifest)
    return out, hidden


def _shown(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


def _without(labels: list[str], omitted: Iterable[str]) -> list[str]:
    patterns = list(omitted)
    return [label for label in labels if not any(fnmatch.fnmatchcase(label, p) for p in patterns)]


def disagreements(answers: Mapping[str, Mapping[str, Any]], omitted: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Each field on which the validators that answer it differ, with every answer and
    who gave it: ``{field, answers: [{value, by}]}``.  ``omitted``: assertion label globs
    some validator's listing leaves out, dropped from every validator's labels first."""
    patterns = sorted(set(omitted))
    out = []
    for name in FIELDS:
        groups: dict[str, list[str]] = {}
        for vendor, answer in sorted(answers.items()):
            if name in answer:
                value = _without(answer[name], patterns) if name == "assertion_labels" and answer[name] else answer[name]
                groups.setdefault(_shown(value), []).append(vendor)
        if len(groups) > 1:
            out.append({"field": name, "answers": [{"value": v, "by": by} for v, by in groups.items()]})
    return out


def describe(found: list[dict[str, Any]]) -> str:
    """``claim_generator: X by a, b; Y by c`` for each disagreement, joined by `` | ``."""
    return " | ".join(f"{d['field']}: " + "; ".join(f"{a['value']} by {', '.join(a['by'])}" for a in d["answers"])
                      for d in found)


# ------------------------------------------------------------------ the check


class Agreement(Check):
    id = "provenance.agreement"
    title = "Validators agree on every file"
    family = "provenance"
    description = (
        "Every validator reads the same file with its default trust: whether a manifest is found, the state,"
        " the failure codes and, field by field, the active manifest, claim generator, assertion labels,"
        " ingredients and signer must be the same in all of them. Fields a validator does not expose are"
        " listed, not counted. Runs on the catalogue's C2PA files and on any folder of your own."
    )
    judges_clean_errors = True
    independent_roles = True

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        for vector in ctx.vectors:
            if vector.source:  # a format the harness derived: re-encoded, it carries no manifest of the file's
                continue
            mt = vector.media_type
            readers = [v for v in ctx.with_op(READ) if v.capability(READ, mt) and validates(v, mt)]
            cell = self.cell(ctx, vector=vector.id)
            if len(readers) < 2:
                names = ", ".join(v.id for v in readers) or "none"
                yield planned(cell, f"fewer than two validators read manifests in {mt} (selected: {names})")
                continue
            steps = {f"read:{v.id}": vendor_step(v.id, READ, vector.id, read_params(ctx, False)) for v in readers}
            context = AgreementContext(readers=tuple(v.id for v in readers),
                                       views={v.id: reader_view(v, mt) for v in readers})
            yield planned(cell, steps=steps, context=context)

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        ctx = cell.context_as(AgreementContext)
        given: dict[str, dict[str, Any]] = {}
        hidden: dict[str, list[str]] = {}
        refusals: dict[str, str] = {}
        unsupported: dict[str, str] = {}
        for vendor in ctx.readers:
            res = answers.results[f"read:{vendor}"]
            if res.error_kind == ErrorKind.UNSUPPORTED:  # cannot answer for this file: not compared
                unsupported[vendor] = str(res.error)
                continue
            if not res.ok:
                refusals[vendor] = str(res.error)
            given[vendor], not_exposed = answers_of(res.report if res.ok else None, ctx.views[vendor])
            for name in not_exposed:
                hidden.setdefault(name, []).append(vendor)
        with_manifest = [v for v in given if given[v]["manifest"] == "present"]
        omitted = sorted({p for v in with_manifest for p in ctx.views[v].labels_omitted})
        found = disagreements(given, omitted)
        m: dict[str, Any] = {"validators": given, "disagreements": found, "fields_not_exposed": hidden}
        m.update({k: v for k, v in (("refusals", refusals), ("unsupported", unsupported),
                                    ("assertion_labels_omitted", omitted)) if v})
        notes = ""
        if hidden:
            notes += "; not exposed: " + ", ".join(f"{name} by {', '.join(by)}" for name, by in sorted(hidden.items()))
        if unsupported:
            notes += "; unsupported by " + ", ".join(sorted(unsupported))
        if len(given) < 2:
            return Verdict(Outcome.UNSUPPORTED, f"fewer than two validators could answer{notes}", m)
        if found:
            return Verdict(Outcome.FAIL, f"{len(found)} disagreement{'s' if len(found) > 1 else ''}: {describe(found)}"
                           + notes, m)
        if not with_manifest:
            what = "no manifest" if next(iter(given.values()))["manifest"] == "none" else "every one refused the file"
            return Verdict(Outcome.PASS, f"no validator found a manifest: {len(given)} agree ({what}){notes}", m)
        one = given[with_manifest[0]]
        return Verdict(Outcome.PASS, f"{len(given)} validators agree: {one['state']}"
                       f" {_shown(one['failure_codes'])}{notes}", m)
