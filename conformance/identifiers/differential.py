"""Differential property testing of identifier validators: a Hypothesis search for a
disagreement between two validators of one scheme, shrunk to a minimal counterexample."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from hypothesis import strategies as st

from conformance import differential
from conformance.base import Answers, Check, PlanContext, planned
from conformance.identifiers.registry import load_cases, validate_step, validators
from conformance.iscc_codes import encode_unit
from runner.model import (
    Cell,
    CellContext,
    ErrorKind,
    Outcome,
    Step,
    StepResult,
    Verdict,
    with_context,
)

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
    return ("failed", (result.error_kind or ErrorKind.ERROR).value)


@dataclass(frozen=True)
class SearchSummary:
    """What expand's search found: candidates tried, distinct ones both answered, and
    the shrunk counterexample when the validators disagreed."""

    examples: int
    distinct: int
    found: bool
    counterexample: str | None = None


@dataclass(frozen=True)
class DifferentialContext(CellContext):
    """A pair's search: the scheme, the run's seed and the pair's own, the example budget,
    the curated valid values; ``search`` once expand has searched."""

    scheme: str
    seed: int
    pair_seed: int
    budget: int
    seeds: tuple[str, ...]
    search: SearchSummary | None = None



class Differential(Check):
    id = "identifiers.differential"
    catalogue_data = "the registry cases"
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
                    cell = self.cell(ctx, vector=vector.id, producer=a.id, consumer=b.id, variant=scheme)
                    if scheme not in SCHEMES and not seeds:
                        yield planned(cell, f"no generator and no curated valid {scheme} values")
                        continue
                    # each pair searches with its own seed, derived from the run's seed
                    pair_seed = int(hashlib.sha256(f"{seed}/{scheme}/{a.id}/{b.id}".encode()).hexdigest()[:8], 16)
                    context = DifferentialContext(scheme=scheme, seed=seed, pair_seed=pair_seed, budget=budget,
                                                  seeds=tuple(seeds))
                    yield planned(cell, context=context)

    def expand(self, cell: Cell, step: Callable[[Step], StepResult]) -> Cell:
        ctx = cell.context_as(DifferentialContext)
        scheme, seeds = ctx.scheme, list(ctx.seeds)
        valid, alphabet = SCHEMES.get(scheme, (st.sampled_from(seeds), UPPER + DIGITS + "-"))
        strategy = differential.candidates(valid, alphabet, 40, seeds)
        assert cell.producer and cell.consumer

        def answer(vendor: str, value: str) -> tuple[str, Any]:
            return answer_key(step(validate_step(vendor, scheme, value)))

        result = differential.search(strategy, answer, (cell.producer, cell.consumer), lambda x, y: x == y,
                                     ctx.pair_seed, ctx.budget)
        found = SearchSummary(examples=result.examples, distinct=result.answered, found=result.found,
                              counterexample=result.counterexample if result.found else None)
        steps: dict[str, Step] = {}
        if result.found:
            steps = {"a": validate_step(cell.producer, scheme, result.counterexample),
                     "b": validate_step(cell.consumer, scheme, result.counterexample)}
        return with_context(cell, replace(ctx, search=found), steps=steps)

    #: a crash of either validator on the counterexample is itself the finding
    judges_clean_errors = True

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        ctx = cell.context_as(DifferentialContext)
        search = ctx.search
        examples, distinct = (None, None) if search is None else (search.examples, search.distinct)
        measurements: dict[str, Any] = {"seed": ctx.seed, "pair_seed": ctx.pair_seed, "budget": ctx.budget,
                                        "examples": examples, "distinct_candidates": distinct}
        if search is None or not search.found:
            return Verdict(Outcome.PASS, f"no disagreement in {distinct} distinct candidates "
                                         f"(seed {ctx.seed}, budget {ctx.budget})", measurements)
        value = search.counterexample
        said: dict[str, dict[str, Any]] = {}
        for role, vendor in (("a", cell.producer), ("b", cell.consumer)):
            res = answers.results[role]
            said[str(vendor)] = dict(res.report or {}) if res.ok else {"error": res.error,
                                                                          "kind": res.error_kind and res.error_kind.value}
        measurements["counterexample"] = value
        measurements["answers"] = said

        def brief(v: dict[str, Any]) -> str:
            if "error" in v:
                return f"failed ({v['kind']})"
            return "valid" if v["valid"] else f"invalid ({v.get('reason') or 'no reason'})"

        return Verdict(Outcome.FAIL, f"minimal counterexample {value!r}: " + "; ".join(
            f"{vendor} says {brief(v)}" for vendor, v in said.items()), measurements)
