"""Identifiers: ISCC (ISO 24138) across implementations, registry identifiers, and the
differential property-testing mode applied to validators.

Checks:
- ``identifiers.iscc_conformance``: the conformance data shipped in iscc-core, every test
  of every function against every ISCC vendor (function mode of identifier.generate);
- ``identifiers.iscc_agreement``: every pair of ISCC vendors makes identical codes;
- ``identifiers.recognition``: the content code survives distribution channels (distance
  at most the profile's threshold) and tells different works apart (more than it);
- ``identifiers.compare``: a vendor's distances between two codes equal the harness's;
- ``identifiers.registry``: curated valid and invalid identifiers per scheme;
- ``identifiers.differential``: Hypothesis-driven search for a disagreement between two
  validators of one scheme, shrunk to a minimal counterexample;
- ``identifiers.in_metadata``: ISCC/ISRC/ISWC through each metadata writer and reader;
- ``identifiers.soft_binding``: an ``io.iscc.v0`` soft binding signed into a manifest,
  recovered from the stripped asset by recomputing its ISCC.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import Any

from aiii_kit.iscc import ASSET_AS_BYTES, ASSET_AS_STREAM
from hypothesis import strategies as st

from conformance import differential
from conformance.base import Answers, Check, PlanContext, unsupported
from conformance.channels import chain_steps, describe_channel
from conformance.metadata import MetadataRoundTrip
from conformance.provenance import read_params, sign_params
from runner.errors import PlanError
from runner.model import (
    NO_INPUT,
    Cell,
    Outcome,
    Step,
    StepResult,
    VendorManifest,
    Verdict,
    canonical_json,
    transform_step,
    vendor_step,
)
from runner.paths import display
from runner.vectors import Vector

# -- ISCC codes, decoded by the harness itself ------------------------------------------
# ISO 24138 header: MainType, SubType, Version, Length as variable-length nibbles; the
# units compared here use values below 8, so each is one 4-bit nibble (two header bytes).

MAIN_TYPES = {0: "meta", 1: "semantic", 2: "content", 3: "data", 4: "instance", 5: "iscc"}


def decode_unit(code: str) -> tuple[str, int, bytes]:
    """(unit name, subtype, body) of a canonical single-unit ISCC; ValueError otherwise."""
    body32 = code.removeprefix("ISCC:")
    raw = base64.b32decode(body32 + "=" * (-len(body32) % 8))
    if len(raw) < 3:
        raise ValueError(f"{code}: too short")
    main, sub, ver, length = raw[0] >> 4, raw[0] & 15, raw[1] >> 4, raw[1] & 15
    if main >= 8 or sub >= 8 or ver >= 8 or length >= 8 or main not in MAIN_TYPES or main == 5:
        raise ValueError(f"{code}: not a single ISCC-UNIT with a short header")
    body = raw[2:]
    if len(body) * 8 != (length + 1) * 32:
        raise ValueError(f"{code}: body of {len(body) * 8} bits, header says {(length + 1) * 32}")
    return MAIN_TYPES[main], sub, body


def encode_unit(main: int, sub: int, body: bytes) -> str:
    """The canonical string of a version-0 ISCC-UNIT (the inverse of :func:`decode_unit`)."""
    length = len(body) * 8 // 32 - 1
    raw = bytes([(main << 4) | sub, length]) + body
    return "ISCC:" + base64.b32encode(raw).decode().rstrip("=")


def hamming(a: bytes, b: bytes) -> int:
    return sum(bin(x ^ y).count("1") for x, y in zip(a, b, strict=True))


def unit_distance(a: str, b: str) -> tuple[str, int]:
    """(unit, Hamming distance in bits) of two codes of the same unit type and length."""
    ua, sa, ba = decode_unit(a)
    ub, sb, bb = decode_unit(b)
    if (ua, sa, len(ba)) != (ub, sb, len(bb)):
        raise ValueError(f"{a} and {b} are not comparable (unit, subtype or length differ)")
    return ua, hamming(ba, bb)


def option(vendor: VendorManifest, operation: str, key: str, default: Any = None) -> Any:
    """An option of a vendor's capability for an operation (``default`` if it has none)."""
    cap = vendor.capability(operation)
    return cap.options.get(key, default) if cap else default


def _iscc_vendors(ctx: PlanContext) -> list[VendorManifest]:
    """The selected vendors that generate ISCCs."""
    return [v for v in ctx.with_op("identifier.generate") if "iscc" in option(v, "identifier.generate", "schemes", ["iscc"])]


def read_json(vector: Vector) -> Any:
    """A JSON vector's content; a file that is not JSON stops the plan, naming it."""
    try:
        return json.loads(vector.path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PlanError(f"vector {vector.id} ({display(vector.path)}): not readable as JSON: {exc}") from None


def conformance_tests(vector: Vector) -> Iterator[tuple[str, str, list[Any], Any]]:
    """(function, test name, inputs, outputs) of every test in conformance data shaped
    like iscc-core's data.json (keys starting with "_" are metadata)."""
    data = read_json(vector)
    if not isinstance(data, dict):
        raise PlanError(f"vector {vector.id} ({display(vector.path)}): expected an object of functions")
    for function, tests in sorted(data.items()):
        if function.startswith("_"):
            continue
        if not isinstance(tests, dict):
            raise PlanError(f"vector {vector.id} ({display(vector.path)}): {function}: expected an object of tests")
        for name, test in sorted(tests.items()):
            if not isinstance(test, dict) or not isinstance(test.get("inputs"), list) or "outputs" not in test:
                raise PlanError(f"vector {vector.id} ({display(vector.path)}): {function}.{name}: "
                                "a test needs an 'inputs' list and 'outputs'")
            yield function, name, test["inputs"], test["outputs"]


# -- ISCC conformance -------------------------------------------------------------------


class IsccConformance(Check):
    id = "identifiers.iscc_conformance"
    title = "ISCC conformance data (ISO 24138, from iscc-core)"
    family = "identifiers"
    description = (
        "Every test of iscc-core's conformance data (data.json) runs against every ISCC vendor;"
        " stream: and bytes: inputs arrive decoded as the asset. Every output key must match."
    )

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        vendors = _iscc_vendors(ctx)
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
                    cell = Cell(self.id, ctx.config.level, vector.id, None, v.id, f"{function}.{name}")
                    if not option(v, "identifier.generate", "functions", True):
                        yield unsupported(cell, f"{v.id} has no function mode (it works on files)")
                        continue
                    steps: dict[str, Step] = {}
                    if isinstance(source, Step):
                        steps["input"] = source
                    steps["outputs"] = vendor_step(v.id, "identifier.generate", source,
                                                   {"scheme": "iscc", "function": function, "args": args})
                    yield replace(cell, steps=steps, context_json=canonical_json({"expected": outputs}))

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        expected = cell.context["expected"]
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


def generate_params(vector: Vector, bits: int, units: list[str] | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"scheme": "iscc", "bits": bits, "meta": {"name": vector.id, "description": "aiii-interop"}}
    if units:
        params["units"] = units
    return params


class IsccAgreement(Check):
    id = "identifiers.iscc_agreement"
    title = "ISCC agreement (vendor x vendor x vector)"
    family = "identifiers"
    description = "Every pair of ISCC vendors makes identical codes, unit by unit, for every media vector and derived format."

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        bits = int(ctx.config.params.get("bits", 64))
        vendors = _iscc_vendors(ctx)
        for vector in ctx.vectors:
            for a, b in itertools.combinations(vendors, 2):
                cell = Cell(self.id, ctx.config.level, vector.id, a.id, b.id)
                missing = [v.id for v in (a, b) if not v.capability("identifier.generate", vector.media_type)]
                if missing:
                    yield unsupported(cell, f"{', '.join(missing)} make no ISCC of {vector.media_type}")
                    continue
                params = generate_params(vector, bits)
                yield replace(cell, steps={"a": vendor_step(a.id, "identifier.generate", vector.id, params),
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


# -- content recognition ----------------------------------------------------------------

#: The channels of the catalogue (conformance/channels.py) a content code is tried
#: through unless the profile names others.
RECOGNITION_DEFAULT = ("jpeg-q50", "resize-0.5", "mp3-128k", "resample-16k")


class Recognition(Check):
    id = "identifiers.recognition"
    title = "Content recognition through distribution channels"
    family = "identifiers"
    description = (
        "The content-code distance between a vector and its channel versions stays at or under the profile's"
        " threshold; between different vectors of one kind it stays above it. Distances are reported."
    )

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        params = ctx.config.params
        bits = int(params.get("bits", 64))
        threshold = dict(params.get("threshold_bits", {"image": 8, "audio": 8}))
        channels = list(params.get("channels", RECOGNITION_DEFAULT))
        unknown = [c for c in channels if c not in ctx.channels]
        if unknown:
            raise PlanError(f"params.channels: unknown channels {unknown}; known: {sorted(ctx.channels)}")
        for v in _iscc_vendors(ctx):
            by_kind: dict[str, list[Vector]] = {}
            for vector in ctx.vectors:
                kind = vector.media_type.split("/", 1)[0]
                by_kind.setdefault(kind, []).append(vector)
                gen = vendor_step(v.id, "identifier.generate", vector.id, generate_params(vector, bits, ["content"]))
                for name in channels:
                    channel = ctx.channels[name]
                    if channel.kind != kind:
                        continue
                    cell = Cell(self.id, ctx.config.level, vector.id, None, v.id, name)
                    if not v.capability("identifier.generate", vector.media_type):
                        yield unsupported(cell, f"{v.id} makes no ISCC of {vector.media_type}")
                        continue
                    moved = chain_steps(channel, vector.id)
                    again = vendor_step(v.id, "identifier.generate", moved[-1], generate_params(vector, bits, ["content"]))
                    context = {"kind": "same", "threshold": threshold.get(kind), "bits": bits, "channel": name,
                               "described": describe_channel(channel)}
                    roles = {"channel" if i == len(moved) - 1 else f"channel.{i}": s for i, s in enumerate(moved)}
                    yield replace(cell, steps={"original": gen, **roles, "transformed": again},
                                  context_json=canonical_json(context))
            for kind, group in by_kind.items():
                for first, second in zip(group, group[1:] + group[:1], strict=True):
                    if first.id == second.id or (first.source or first.id) == (second.source or second.id):
                        continue
                    if not (v.capability("identifier.generate", first.media_type) and v.capability("identifier.generate", second.media_type)):
                        continue
                    cell = Cell(self.id, ctx.config.level, first.id, None, v.id, f"vs-{second.id}")
                    context = {"kind": "different", "threshold": threshold.get(kind), "bits": bits, "other": second.id}
                    yield replace(cell, steps={
                        "original": vendor_step(v.id, "identifier.generate", first.id, generate_params(first, bits, ["content"])),
                        "other": vendor_step(v.id, "identifier.generate", second.id, generate_params(second, bits, ["content"])),
                    }, context_json=canonical_json(context))

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        ctx = cell.context
        role = "transformed" if ctx["kind"] == "same" else "other"
        first, second = answers.report("original"), answers.report(role)
        a, b = first.get("codes", {}).get("content"), second.get("codes", {}).get("content")
        if a is None or b is None:
            why = (first.get("not_made") or {}).get("content") or (second.get("not_made") or {}).get("content") or "no content code"
            return Verdict(Outcome.UNSUPPORTED, f"no content code: {why}")
        try:
            _unit, distance = unit_distance(a, b)
        except ValueError as exc:
            return Verdict(Outcome.FAIL, f"content codes are not comparable: {exc}", {"codes": [a, b]})
        threshold = ctx["threshold"]
        measurements = {"distance_bits": distance, "threshold_bits": threshold, "code_bits": ctx["bits"], "codes": [a, b]}
        if ctx["kind"] == "same":
            measurements["channel"] = ctx["described"]
            if distance <= threshold:
                return Verdict(Outcome.PASS, f"recognised after {ctx['channel']}: distance {distance} <= {threshold}", measurements)
            return Verdict(Outcome.FAIL, f"not recognised after {ctx['channel']}: distance {distance} > {threshold}", measurements)
        measurements["other"] = ctx["other"]
        if distance > threshold:
            return Verdict(Outcome.PASS, f"told apart from {ctx['other']}: distance {distance} > {threshold}", measurements)
        return Verdict(Outcome.FAIL, f"confused with {ctx['other']}: distance {distance} <= {threshold}", measurements)


# -- comparison -------------------------------------------------------------------------


class IsccCompare(Check):
    id = "identifiers.compare"
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
                        cell = Cell(self.id, ctx.config.level, vector.id, None, v.id, f"{unit}{sub}-{size * 8}.{k}")
                        step = vendor_step(v.id, "identifier.compare", NO_INPUT, {"scheme": "iscc", "a": a, "b": b})
                        yield replace(cell, steps={"compare": step}, context_json=canonical_json({"a": a, "b": b}))

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        a, b = cell.context["a"], cell.context["b"]
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


class RegistryIdentifiers(Check):
    id = "identifiers.registry"
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
                        cell = Cell(self.id, ctx.config.level, vector.id, None, v.id, f"{scheme}.{case['id']}")
                        context = {"scheme": scheme, **{k: case.get(k) for k in ("value", "expect", "category", "note")}}
                        yield replace(cell, steps={"validate": validate_step(v.id, scheme, case["value"])},
                                      context_json=canonical_json(context))

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        ctx = cell.context
        report = answers.report("validate")
        said = "valid" if report["valid"] else "invalid"
        measurements = {"value": ctx["value"], "category": ctx["category"], "expect": ctx["expect"], "answer": report}
        if ctx["expect"] == "either":
            return Verdict(Outcome.PASS, f"{said} (the specification leaves this case to the implementation)", measurements)
        if report["valid"] == ctx["expect"]:
            return Verdict(Outcome.PASS, f"{said}, as expected ({ctx['category']})", measurements)
        why = f": {report['reason']}" if report.get("reason") else ""
        return Verdict(Outcome.FAIL, f"{ctx['value']!r} ({ctx['category']}): answered {said}, the specification says "
                                     f"{'valid' if ctx['expect'] else 'invalid'}{why}", measurements)


# -- differential property testing of validators ----------------------------------------

DIGITS = "0123456789"
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _mod11_2(digits: str) -> str:
    """ISO 7064 MOD 11-2 check character (ISNI, ORCID)."""
    total = 0
    for d in digits:
        total = (total + int(d)) * 2
    check = (12 - total % 11) % 11
    return "X" if check == 10 else str(check)


def _ean(digits: str) -> str:
    """EAN-13 check digit of 12 digits (ISBN-13, ISMN)."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return str((10 - total % 10) % 10)


def _issn(digits: str) -> str:
    total = sum(int(d) * (8 - i) for i, d in enumerate(digits))
    check = (11 - total % 11) % 11
    return "X" if check == 10 else str(check)


def iswc_check(digits: str) -> str:
    """ISWC check digit (ISO 15707): (10 - ((1 + sum(i * d_i)) mod 10)) mod 10, i from 1."""
    return str((10 - (1 + sum(i * int(d) for i, d in enumerate(digits, 1))) % 10) % 10)


_COUNTRIES = ["US", "GB", "DE", "FR", "JP", "NL", "SE", "CA", "AU", "BR", "QM", "QZ"]


def _digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=DIGITS, min_size=n, max_size=n)


@st.composite
def _iswc(draw: st.DrawFn) -> str:
    d = draw(_digits(9))
    if draw(st.booleans()):
        return f"T-{d[:3]}.{d[3:6]}.{d[6:]}-{iswc_check(d)}"
    return f"T{d}{iswc_check(d)}"


@st.composite
def _isrc(draw: st.DrawFn) -> str:
    cc = draw(st.sampled_from(_COUNTRIES))
    reg = draw(st.text(alphabet=UPPER + DIGITS, min_size=3, max_size=3))
    yy, nnnnn = draw(_digits(2)), draw(_digits(5))
    return f"{cc}-{reg}-{yy}-{nnnnn}" if draw(st.booleans()) else f"{cc}{reg}{yy}{nnnnn}"


@st.composite
def _isni(draw: st.DrawFn) -> str:
    d = "000" + draw(_digits(12))
    full = d + _mod11_2(d)
    return " ".join(full[i:i + 4] for i in range(0, 16, 4)) if draw(st.booleans()) else full


@st.composite
def _orcid(draw: st.DrawFn) -> str:
    d = "0000000" + draw(st.sampled_from("123")) + draw(_digits(7))
    full = d + _mod11_2(d)
    return "-".join(full[i:i + 4] for i in range(0, 16, 4))


@st.composite
def _isbn(draw: st.DrawFn) -> str:
    d = draw(st.sampled_from(["978", "979"])) + draw(_digits(9))
    return d + _ean(d)


@st.composite
def _issn_value(draw: st.DrawFn) -> str:
    d = draw(_digits(7))
    return f"{d[:4]}-{d[4:]}{_issn(d)}"


@st.composite
def _ismn(draw: st.DrawFn) -> str:
    d = "9790" + draw(_digits(8))
    return d + _ean(d)


@st.composite
def _doi(draw: st.DrawFn) -> str:
    prefix = draw(st.integers(1000, 99999))
    suffix = draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.-_;()/:", min_size=1, max_size=20))
    return f"10.{prefix}/{suffix}"


@st.composite
def _iscc(draw: st.DrawFn) -> str:
    main, sub = draw(st.sampled_from([(0, 0), (2, 0), (2, 1), (2, 2), (3, 0), (4, 0)]))
    body = bytes(draw(st.lists(st.integers(0, 255), min_size=8, max_size=8)))
    return encode_unit(main, sub, body)


#: scheme -> (valid values by construction, the alphabet of random candidates)
SCHEMES: dict[str, tuple[st.SearchStrategy[str], str]] = {
    "iswc": (_iswc(), "T-." + DIGITS),
    "isrc": (_isrc(), UPPER + DIGITS + "-"),
    "isni": (_isni(), DIGITS + "X "),
    "orcid": (_orcid(), DIGITS + "X-"),
    "isbn": (_isbn(), DIGITS + "X-"),
    "issn": (_issn_value(), DIGITS + "X-"),
    "ismn": (_ismn(), DIGITS + "M-"),
    "doi": (_doi(), "10./abcxyz"),
    "iscc": (_iscc(), "ISC:" + UPPER + "234567"),
}


def answer_key(result: StepResult) -> tuple[str, Any]:
    """What a validator's answer is compared on: its valid flag, or how it failed."""
    if result.ok and result.report is not None:
        return ("valid", bool(result.report["valid"]))
    return ("failed", result.error_kind or "error")


class Differential(Check):
    id = "identifiers.differential"
    title = "Differential property testing of validators (Hypothesis)"
    family = "identifiers"
    description = (
        "For each scheme and each pair of its validators, Hypothesis generates valid, mutated and random"
        " candidates from a fixed seed within the profile's example budget; a disagreement is shrunk to a"
        " minimal counterexample, shown with each vendor's answer."
    )

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        seed = int(ctx.config.params.get("seed", 20261122))
        budget = int(ctx.config.params.get("examples", 200))
        for vector in ctx.vectors:
            cases = load_cases(vector)
            schemes = sorted(set(cases) | set(SCHEMES))
            for scheme in schemes:
                vendors = validators(ctx, scheme)
                seeds = [c["value"] for c in cases.get(scheme, {}).get("cases", []) if c.get("expect") is True]
                for a, b in itertools.combinations(vendors, 2):
                    cell = Cell(self.id, ctx.config.level, vector.id, a.id, b.id, scheme)
                    if scheme not in SCHEMES and not seeds:
                        yield unsupported(cell, f"no generator and no curated valid {scheme} values")
                        continue
                    # each pair searches with its own seed, derived from the run's seed
                    pair_seed = int(hashlib.sha256(f"{seed}/{scheme}/{a.id}/{b.id}".encode()).hexdigest()[:8], 16)
                    context = {"scheme": scheme, "seed": seed, "pair_seed": pair_seed, "budget": budget, "seeds": seeds}
                    yield replace(cell, context_json=canonical_json(context))

    def expand(self, cell: Cell, step: Callable[[Step], StepResult]) -> Cell:
        ctx = cell.context
        scheme = ctx["scheme"]
        valid, alphabet = SCHEMES.get(scheme, (st.sampled_from(ctx["seeds"]), UPPER + DIGITS + "-"))
        strategy = differential.candidates(valid, alphabet, 40, ctx["seeds"])
        assert cell.producer and cell.consumer

        def answer(vendor: str, value: str) -> tuple[str, Any]:
            return answer_key(step(validate_step(vendor, scheme, value)))

        result = differential.search(strategy, answer, (cell.producer, cell.consumer), lambda x, y: x == y,
                                     ctx["pair_seed"], ctx["budget"])
        found = {"examples": result.examples, "distinct": result.answered, "found": result.found}
        steps: dict[str, Step] = {}
        if result.found:
            found["counterexample"] = result.counterexample
            steps = {"a": validate_step(cell.producer, scheme, result.counterexample),
                     "b": validate_step(cell.consumer, scheme, result.counterexample)}
        return replace(cell, steps=steps, context_json=canonical_json({**ctx, "search": found}))

    #: a crash of either validator on the counterexample is itself the finding
    judges_clean_errors = True

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        ctx = cell.context
        search = ctx.get("search", {})
        measurements: dict[str, Any] = {"seed": ctx["seed"], "pair_seed": ctx["pair_seed"], "budget": ctx["budget"],
                                        "examples": search.get("examples"), "distinct_candidates": search.get("distinct")}
        if not search.get("found"):
            return Verdict(Outcome.PASS, f"no disagreement in {search.get('distinct')} distinct candidates "
                                         f"(seed {ctx['seed']}, budget {ctx['budget']})", measurements)
        value = search["counterexample"]
        said: dict[str, dict[str, Any]] = {}
        for role, vendor in (("a", cell.producer), ("b", cell.consumer)):
            res = answers.results[role]
            said[str(vendor)] = dict(res.report or {}) if res.ok else {"error": res.error, "kind": res.error_kind}
        measurements["counterexample"] = value
        measurements["answers"] = said

        def brief(v: dict[str, Any]) -> str:
            if "error" in v:
                return f"failed ({v['kind']})"
            return "valid" if v["valid"] else f"invalid ({v.get('reason') or 'no reason'})"

        return Verdict(Outcome.FAIL, f"minimal counterexample {value!r}: " + "; ".join(
            f"{vendor} says {brief(v)}" for vendor, v in said.items()), measurements)


# -- identifiers in metadata ------------------------------------------------------------

IDENTIFIER_VALUES = {
    "iscc": "ISCC:KACYPXW445FTYNJ3CYSXHAFJMA2HUWULUNRFE3BLHRSCXYH2M5AEGQY",
    "isrc": "USRC17607839",
    "iswc": "T-034.524.680-1",
}


class IdentifiersInMetadata(MetadataRoundTrip):
    id = "identifiers.in_metadata"
    title = "Identifiers carried in metadata (writer x reader x format)"
    family = "identifiers"
    description = (
        "ISCC, ISRC and ISWC written into XMP (images) and ID3/Vorbis (audio) by each metadata writer"
        " must be read back identically by each reader."
    )

    def chosen_sets(self, ctx: PlanContext) -> dict[str, dict[str, str]]:
        return {"identifiers": dict(IDENTIFIER_VALUES)}


# -- ISCC as a C2PA soft binding --------------------------------------------------------


def _binding_bytes(value: Any) -> bytes | None:
    """A soft-binding block value as a reader reports it (``bytes:<hex>`` or base64)."""
    if not isinstance(value, str):
        return None
    if value.startswith("bytes:"):
        return bytes.fromhex(value[6:])
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        return None


class SoftBinding(Check):
    id = "identifiers.soft_binding"
    title = "ISCC as a C2PA soft binding (io.iscc.v0)"
    family = "identifiers"
    description = (
        "A builder (iscc-sdk) makes an io.iscc.v0 soft binding; each C2PA signer signs it into a manifest;"
        " the manifest store is stripped; each ISCC vendor recomputes the content code of the stripped"
        " asset, which must equal the Content-Code unit of the binding in the original manifest."
    )

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        builders = [v for v in ctx.with_op("identifier.generate")
                    if option(v, "identifier.generate", "soft_binding") == "io.iscc.v0"]
        readers = ctx.with_op("provenance.read")
        for vector in ctx.vectors:
            mt = vector.media_type
            for signer in ctx.with_op("provenance.sign"):
                for v in _iscc_vendors(ctx):
                    cell = Cell(self.id, ctx.config.level, vector.id, signer.id, v.id)
                    builder = next((b for b in builders if b.capability("identifier.generate", mt)), None)
                    reader = signer if signer.capability("provenance.read", mt) else next(
                        (r for r in readers if r.capability("provenance.read", mt)), None)
                    missing = [why for ok, why in (
                        (builder, f"no selected vendor builds io.iscc.v0 soft bindings of {mt}"),
                        (signer.capability("provenance.sign", mt), f"{signer.id} does not sign {mt}"),
                        (v.capability("identifier.generate", mt), f"{v.id} makes no ISCC of {mt}"),
                        (reader, f"no selected vendor reads manifests in {mt}"),
                    ) if not ok]
                    if missing:
                        yield unsupported(cell, "; ".join(missing))
                        continue
                    assert builder is not None and reader is not None
                    # "signed" and "read" are templates: expand() adds the binding to the signature
                    template = vendor_step(signer.id, "provenance.sign", vector.id, sign_params(ctx, signer.id, f"aiii {vector.id}"))
                    binding = vendor_step(builder.id, "identifier.generate", vector.id,
                                          {"scheme": "iscc", "soft_binding": True, "bits": 256, "units": ["content"]})
                    yield replace(cell, steps={"binding": binding, "signed": template,
                                               "read": vendor_step(reader.id, "provenance.read", template, read_params(ctx, True))},
                                  context_json=canonical_json({"builder": builder.id, "reader": reader.id}))

    def expand(self, cell: Cell, step: Callable[[Step], StepResult]) -> Cell:
        binding_step, template, read_template = cell.steps["binding"], cell.steps["signed"], cell.steps["read"]
        built = step(binding_step)
        if not built.ok or not built.report or "soft_binding" not in built.report:
            return replace(cell, steps={"binding": binding_step})  # judged from the builder's answer
        sb = built.report["soft_binding"]
        assert cell.producer and cell.consumer
        params = {**template.params, "soft_bindings": [{"alg": sb["alg"], "value_hex": sb["value_hex"],
                                                        "binding_metadata": sb.get("binding_metadata") or {}}]}
        signed = vendor_step(cell.producer, "provenance.sign", cell.vector, params)
        read = vendor_step(str(read_template.vendor), "provenance.read", signed, read_template.params)
        stripped = transform_step("tamper.strip", signed)
        again = vendor_step(cell.consumer, "identifier.generate", stripped,
                            {"scheme": "iscc", "bits": 256, "units": ["content"]})
        steps = {"binding": binding_step, "signed": signed, "read": read, "stripped": stripped, "recomputed": again}
        return replace(cell, steps=steps)

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        built = answers.report("binding")
        sb = built.get("soft_binding")
        if not sb:
            return Verdict(Outcome.ERROR, f"{cell.context['builder']} answered without a soft binding")
        content_units = [u for u in sb["units"] if _unit_name(u) == "content"]
        manifest = (answers.report("read").get("active_manifest") or {})
        stored = [b for b in manifest.get("soft_bindings") or [] if b.get("alg") == sb["alg"]]
        recomputed = answers.report("recomputed").get("codes", {}).get("content")
        measurements: dict[str, Any] = {"alg": sb["alg"], "binding_units": sb["units"], "recomputed_content": recomputed,
                                        "manifest_values": [b.get("value") for b in stored]}
        if not stored:
            return Verdict(Outcome.FAIL, f"the signed manifest carries no {sb['alg']} soft binding", measurements)
        if not any(_binding_bytes(b.get("value")) == bytes.fromhex(sb["value_hex"]) for b in stored):
            return Verdict(Outcome.FAIL, "the manifest's soft-binding value differs from the one signed", measurements)
        if not content_units:
            return Verdict(Outcome.UNSUPPORTED, "the soft binding holds no Content-Code unit (featureless image?)", measurements)
        if recomputed is None:
            why = (answers.report("recomputed").get("not_made") or {}).get("content", "no content code")
            return Verdict(Outcome.UNSUPPORTED, f"{cell.consumer} made no content code: {why}", measurements)
        if recomputed == content_units[0]:
            return Verdict(Outcome.PASS, "the stripped asset's Content-Code equals the binding's", measurements)
        try:
            measurements["distance_bits"] = unit_distance(recomputed, content_units[0])[1]
        except ValueError as exc:
            measurements["not_comparable"] = str(exc)
        return Verdict(Outcome.FAIL, f"recomputed Content-Code {recomputed} differs from the binding's {content_units[0]}"
                                     f" ({measurements.get('distance_bits', '?')} bits)", measurements)


def _unit_name(code: str) -> str | None:
    try:
        return decode_unit(code)[0]
    except ValueError:
        return None
