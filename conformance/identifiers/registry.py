"""Registry identifiers (ISRC, ISWC, ISNI, ISBN, ...): curated valid and invalid values per
scheme, and identifiers carried through each metadata writer and reader."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from conformance.base import Answers, Check, PlanContext, planned
from conformance.fields import FieldRoundTrip
from conformance.planning import option, read_json
from runner.errors import PlanError
from runner.model import (
    NO_INPUT,
    Cell,
    CellContext,
    Outcome,
    Step,
    Vector,
    VendorManifest,
    Verdict,
    vendor_step,
)
from runner.paths import display

# -- registry identifiers ---------------------------------------------------------------


def validators(ctx: PlanContext, scheme: str) -> list[VendorManifest]:
    return [v for v in ctx.with_op("identifier.validate")
            if scheme in option(v, "identifier.validate", "schemes", [])]


def load_cases(vector: Vector) -> dict[str, Any]:
    """The curated cases by scheme; a malformed file stops the plan, naming file and case."""
    doc = read_json(vector)
    where = f"vector {vector.id} ({display(vector.path)})"
    schemes = doc.get("schemes") if isinstance(doc, dict) else None
    if not isinstance(schemes, dict):
        raise PlanError(f"{where}: no 'schemes' object")
    for scheme, spec in schemes.items():
        cases = spec.get("cases") if isinstance(spec, dict) else None
        if not isinstance(cases, list):
            raise PlanError(f"{where}: schemes.{scheme}: no 'cases' list")
        for k, case in enumerate(cases):
            ok = (isinstance(case, dict) and isinstance(case.get("id"), str) and isinstance(case.get("value"), str)
                  and case.get("expect") in (True, False, "either"))
            if not ok:
                raise PlanError(f"{where}: schemes.{scheme}.cases[{k}]: needs a string 'id' and 'value' and"
                                " 'expect' true, false or \"either\"")
    return schemes


def validate_step(vendor: str, scheme: str, value: str) -> Step:
    return vendor_step(vendor, "identifier.validate", NO_INPUT, {"scheme": scheme, "value": value})


@dataclass(frozen=True)
class RegistryCase(CellContext):
    """One curated case of a scheme: the value, what the specification says of it (True:
    valid, False: invalid, "either": left to the implementation), its category and note."""

    scheme: str
    value: str
    expect: bool | str
    category: str | None = None
    note: str | None = None


class RegistryIdentifiers(Check):
    id = "identifiers.registry"
    catalogue_data = "the registry cases"
    title = "Registry identifiers: curated valid and invalid values"
    family = "identifiers"
    description = (
        "Each validator answers every curated case of the schemes it declares (check digits, lengths, case,"
        " separators, whitespace, Unicode look-alikes) as the scheme's specification does."
    )

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        for vector in ctx.vectors:
            for scheme, spec in sorted(load_cases(vector).items()):
                for case in spec.get("cases", []):
                    for v in validators(ctx, scheme):
                        cell = self.cell(ctx, vector=vector.id, producer=None, consumer=v.id, variant=f"{scheme}.{case['id']}")
                        context = RegistryCase(scheme=scheme, value=case["value"], expect=case["expect"],
                                               category=case.get("category"), note=case.get("note"))
                        yield planned(cell, steps={"validate": validate_step(v.id, scheme, case["value"])}, context=context)

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        ctx = cell.context_as(RegistryCase)
        report = answers.report("validate")
        said = "valid" if report["valid"] else "invalid"
        measurements = {"value": ctx.value, "category": ctx.category, "expect": ctx.expect, "answer": report}
        if ctx.expect == "either":
            return Verdict(Outcome.PASS, f"{said} (the specification leaves this case to the implementation)", measurements)
        if report["valid"] == ctx.expect:
            return Verdict(Outcome.PASS, f"{said}, as expected ({ctx.category})", measurements)
        why = f": {report['reason']}" if report.get("reason") else ""
        return Verdict(Outcome.FAIL, f"{ctx.value!r} ({ctx.category}): answered {said}, the specification says "
                                     f"{'valid' if ctx.expect else 'invalid'}{why}", measurements)


# -- identifiers in metadata ------------------------------------------------------------

IDENTIFIER_VALUES = {
    "iscc": "ISCC:KACYPXW445FTYNJ3CYSXHAFJMA2HUWULUNRFE3BLHRSCXYH2M5AEGQY",
    "isrc": "USRC17607839",
    "iswc": "T-034.524.680-1",
}


class IdentifiersInMetadata(FieldRoundTrip):
    id = "identifiers.in_metadata"
    title = "Identifiers carried in metadata (writer x reader x format)"
    family = "identifiers"
    description = (
        "ISCC, ISRC and ISWC written into XMP (images) and ID3/Vorbis (audio) by each metadata writer"
        " must be read back identically by each reader."
    )

    def chosen_sets(self, ctx: PlanContext) -> dict[str, dict[str, str]]:
        return {"identifiers": dict(IDENTIFIER_VALUES)}
