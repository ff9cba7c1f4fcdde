"""ISCC across implementations: iscc-core's conformance data, agreement between every
pair of vendors, and a vendor's distances against the harness's."""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiii_kit.iscc import ASSET_AS_BYTES, ASSET_AS_STREAM

from conformance.base import Answers, Check, PlanContext, planned
from conformance.identifiers.codes import conformance_tests
from conformance.iscc_codes import decode_unit, generate_params, iscc_vendors, unit_distance
from conformance.planning import option
from runner.model import (
    NO_INPUT,
    Cell,
    CellContext,
    Outcome,
    Step,
    Verdict,
    transform_step,
    vendor_step,
)

# -- ISCC conformance -------------------------------------------------------------------


@dataclass(frozen=True)
class ExpectedOutputs(CellContext):
    """A conformance test's expected outputs, as iscc-core's data.json gives them (an
    object of output keys, or a single value)."""

    expected: Any


class IsccConformance(Check):
    id = "identifiers.iscc_conformance"
    catalogue_data = "the ISO 24138 conformance data"
    title = "ISCC conformance data (ISO 24138, from iscc-core)"
    family = "identifiers"
    description = (
        "Every test of iscc-core's conformance data (data.json) runs against every ISCC vendor;"
        " stream: and bytes: inputs arrive decoded as the asset. Every output key must match."
    )

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        vendors = iscc_vendors(ctx)
        for vector in ctx.vectors:
            for function, name, inputs, outputs in conformance_tests(vector):
                source: Step | str = NO_INPUT
                args: list[Any] = []
                for value in inputs:
                    if isinstance(value, str) and value.startswith(("stream:", "bytes:")):
                        kind, _, hexdata = value.partition(":")
                        source = transform_step("harness.bytes", NO_INPUT, {"hex": hexdata})
                        args.append(ASSET_AS_STREAM if kind == "stream" else ASSET_AS_BYTES)
                    else:
                        args.append(value)
                for v in vendors:
                    cell = self.cell(ctx, vector=vector.id, producer=None, consumer=v.id, variant=f"{function}.{name}")
                    if not option(v, "identifier.generate", "functions", True):
                        yield planned(cell, f"{v.id} has no function mode (it works on files)")
                        continue
                    steps: dict[str, Step] = {}
                    if isinstance(source, Step):
                        steps["input"] = source
                    steps["outputs"] = vendor_step(v.id, "identifier.generate", source,
                                                   {"scheme": "iscc", "function": function, "args": args})
                    yield planned(cell, steps=steps, context=ExpectedOutputs(expected=outputs))

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        expected = cell.context_as(ExpectedOutputs).expected
        got = answers.report("outputs").get("outputs")
        if isinstance(expected, dict):
            if not isinstance(got, dict):
                return Verdict(Outcome.FAIL, f"expected an object of {len(expected)} keys, got {type(got).__name__}",
                               {"expected": expected, "got": got})
            wrong = {k: {"expected": v, "got": got.get(k)} for k, v in expected.items() if got.get(k) != v}
            if wrong:
                return Verdict(Outcome.FAIL, "; ".join(f"{k}: expected {_short(w['expected'])}, got {_short(w['got'])}"
                                                       for k, w in wrong.items()), {"mismatches": wrong})
            return Verdict(Outcome.PASS, f"all {len(expected)} output keys match", {"keys": sorted(expected)})
        if got != expected:
            return Verdict(Outcome.FAIL, f"expected {_short(expected)}, got {_short(got)}", {"expected": expected, "got": got})
        return Verdict(Outcome.PASS, "output matches", {})


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "…"


# -- ISCC agreement ---------------------------------------------------------------------


class IsccAgreement(Check):
    id = "identifiers.iscc_agreement"
    title = "ISCC agreement (vendor x vendor x vector)"
    family = "identifiers"
    description = "Every pair of ISCC vendors makes identical codes, unit by unit, for every media vector and derived format."

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        bits = int(ctx.config.params.get("bits", 64))
        vendors = iscc_vendors(ctx)
        for vector in ctx.vectors:
            for a, b in itertools.combinations(vendors, 2):
                cell = self.cell(ctx, vector=vector.id, producer=a.id, consumer=b.id)
                missing = [v.id for v in (a, b) if not v.capability("identifier.generate", vector.media_type)]
                if missing:
                    yield planned(cell, f"{', '.join(missing)} make no ISCC of {vector.media_type}")
                    continue
                params = generate_params(vector, bits)
                yield planned(cell, steps={"a": vendor_step(a.id, "identifier.generate", vector.id, params),
                                           "b": vendor_step(b.id, "identifier.generate", vector.id, params)})

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        ra, rb = answers.report("a"), answers.report("b")
        ca, cb = ra.get("codes", {}), rb.get("codes", {})
        both = [u for u in ("meta", "content", "data", "instance", "iscc_code") if u in ca and u in cb]
        only = {u: (cell.producer if u in ca else cell.consumer) for u in set(ca) ^ set(cb)}
        differ = {u: {cell.producer: ca[u], cell.consumer: cb[u]} for u in both if ca[u] != cb[u]}
        measurements: dict[str, Any] = {"compared": both, "codes": {cell.producer: ca, cell.consumer: cb},
                                        "not_made": {cell.producer: ra.get("not_made", {}), cell.consumer: rb.get("not_made", {})}}
        if only:
            measurements["only_one_made"] = only
        if not both:
            return Verdict(Outcome.UNSUPPORTED, "the two vendors made no unit in common", measurements)
        if differ:
            for codes in differ.values():
                with contextlib.suppress(ValueError):
                    codes["distance_bits"] = unit_distance(*codes.values())[1]  # type: ignore[arg-type]
            measurements["differ"] = differ
            return Verdict(Outcome.FAIL, "codes differ: " + ", ".join(differ), measurements)
        note = f"; not compared: {', '.join(sorted(only))}" if only else ""
        return Verdict(Outcome.PASS, f"{len(both)} units identical ({', '.join(both)}){note}", measurements)


# -- comparison -------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitPair(CellContext):
    """The two ISCC-UNITs a comparing vendor is asked about."""

    a: str
    b: str


class IsccCompare(Check):
    id = "identifiers.compare"
    catalogue_data = "ISCC-UNIT pairs of the ISO 24138 conformance data"
    title = "ISCC comparison (vendor distance = harness distance)"
    family = "identifiers"
    description = "Pairs of ISCC-UNITs from the conformance data: each comparing vendor's distance equals the Hamming distance the harness computes."

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        vendors = ctx.with_op("identifier.compare")
        for vector in ctx.vectors:
            codes: dict[tuple[str, int, int], list[str]] = {}
            for function, _name, _inputs, out in conformance_tests(vector):
                code = out.get("iscc") if function.startswith("gen_") and isinstance(out, dict) else None
                if not isinstance(code, str):
                    continue
                try:
                    unit, sub, body = decode_unit(code)
                except ValueError:  # composite codes and long headers are not single units
                    continue
                group = codes.setdefault((unit, sub, len(body)), [])
                if code not in group:
                    group.append(code)
            for (unit, sub, size), group in sorted(codes.items()):
                for k, (a, b) in enumerate(zip(group, group[1:], strict=False)):
                    for v in vendors:
                        cell = self.cell(ctx, vector=vector.id, producer=None, consumer=v.id, variant=f"{unit}{sub}-{size * 8}.{k}")
                        step = vendor_step(v.id, "identifier.compare", NO_INPUT, {"scheme": "iscc", "a": a, "b": b})
                        yield planned(cell, steps={"compare": step}, context=UnitPair(a=a, b=b))

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        pair = cell.context_as(UnitPair)
        a, b = pair.a, pair.b
        unit, expected = unit_distance(a, b)
        report = answers.report("compare")
        if unit == "instance":
            match = report.get("instance_match")
            if match is None and "instance" in report["distances"]:
                match = report["distances"]["instance"] == 0
            ok = match == (expected == 0)
            measurements = {"unit": unit, "harness_match": expected == 0, "vendor_match": match}
            return Verdict(Outcome.PASS if ok else Outcome.FAIL,
                           f"instance match {match} ({'as' if ok else 'but'} the harness says {expected == 0})", measurements)
        got = report["distances"].get(unit)
        measurements = {"unit": unit, "harness_distance": expected, "vendor_distance": got, "a": a, "b": b}
        if got == expected:
            return Verdict(Outcome.PASS, f"{unit} distance {got} bits, as the harness computes", measurements)
        return Verdict(Outcome.FAIL, f"{unit} distance {got}, the harness computes {expected}", measurements)
