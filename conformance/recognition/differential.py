"""``recognition.differential``: Hypothesis generates images and clips from a seed; two
implementations of one algorithm must give fingerprints within the profile's tolerance,
or both refuse; a disagreement is shrunk to a minimal counterexample
(:mod:`conformance.differential`, as ``identifiers.differential`` uses it)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from conformance import differential
from conformance.base import Answers, CellContext, Check, PlanContext, planned
from conformance.recognition.agreement import TOLERANCE
from conformance.recognition.fingerprints import (
    Fingerprint,
    Fingerprinter,
    NoFingerprint,
    compute_params,
    distance,
    fingerprinters,
    pairs,
    per_algorithm,
    read,
)
from conformance.recognition.generated import TRANSFORM, as_params, clips, describe, images
from runner.errors import PlanError
from runner.model import NO_INPUT, Cell, ErrorKind, Outcome, Step, StepResult, Verdict, transform_step, with_context


@dataclass(frozen=True)
class Search:
    examples: int
    distinct: int
    found: bool
    counterexample: tuple[Any, ...] | None = None


@dataclass(frozen=True)
class DifferentialPlan(CellContext):
    a: Fingerprinter
    b: Fingerprinter
    kind: str
    tolerance: float
    seed: int
    pair_seed: int
    budget: int
    params: dict[str, Any]
    search: Search | None = None


def answer(fp: Fingerprinter, result: StepResult) -> tuple[Any, ...]:
    """What an implementation said about a generated input: its fingerprint, that it
    refused (a clean error: it stated why not), or that it failed."""
    if result.ok and result.report is not None:
        try:
            got = read(fp, result.report)
        except NoFingerprint as exc:
            return ("refused", str(exc))
        return ("fingerprint", got.encoding, got.data.hex())
    return ("refused" if result.error_kind == ErrorKind.CLEAN else "failed", str(result.error))


def agree(x: tuple[Any, ...], y: tuple[Any, ...], tolerance: float) -> bool:
    """Both fingerprints within the tolerance, or both refused."""
    if x[0] == "refused" and y[0] == "refused":
        return True
    if x[0] != "fingerprint" or y[0] != "fingerprint":
        return False
    try:
        d = distance(Fingerprint(x[1], bytes.fromhex(x[2])), Fingerprint(y[1], bytes.fromhex(y[2])))
    except ValueError:
        return False
    return d.value <= tolerance


def source(candidate: tuple[Any, ...]) -> Step:
    return transform_step(TRANSFORM, NO_INPUT, as_params(candidate))


class Differential(Check):
    id = "recognition.differential"
    title = "Differential testing of fingerprinters on generated media (Hypothesis)"
    family = "recognition"
    description = (
        "Hypothesis generates images (flat, gradients, noise, 1x1, extreme aspect ratios, alpha, 16-bit) and short"
        " clips from a fixed seed within the profile's example budget; two implementations of one algorithm must"
        " agree within the tolerance or both refuse. A disagreement is shrunk to a minimal counterexample."
    )
    #: a refusal of one implementation on the counterexample is part of the finding
    judges_clean_errors = True

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        seed = int(ctx.config.params.get("seed", 20261122))
        budget = int(ctx.config.params.get("examples", 40))
        tolerance = per_algorithm(ctx, "tolerance", TOLERANCE)
        extra = compute_params(ctx)
        if ctx.corpus is None:
            raise PlanError("this planner cannot make corpus vectors")
        for algorithm, a, b in pairs(fingerprinters(ctx)):
            for kind, media_type in (("image", "image/png"), ("audio", "audio/wav")):
                if not (a.takes(media_type) or b.takes(media_type)):
                    continue
                vector = ctx.corpus(f"recognition-generated-{kind}", [])
                cell = self.cell(ctx, vector=vector.id, producer=a.vendor, consumer=b.vendor, variant=algorithm)
                lacking = [f.vendor for f in (a, b) if not f.takes(media_type)]
                if lacking:
                    yield planned(cell, f"{', '.join(lacking)} fingerprint no {media_type}, the generated {kind}s' type")
                    continue
                pair_seed = int(hashlib.sha256(f"{seed}/{algorithm}/{a.vendor}/{b.vendor}".encode()).hexdigest()[:8], 16)
                yield planned(cell, context=DifferentialPlan(a=a, b=b, kind=kind, tolerance=tolerance.get(algorithm, 0.0),
                                                             seed=seed, pair_seed=pair_seed, budget=budget, params=extra))

    def expand(self, cell: Cell, step: Callable[[Step], StepResult]) -> Cell:
        c = cell.context_as(DifferentialPlan)
        by_vendor = {c.a.vendor: c.a, c.b.vendor: c.b}

        def ask(vendor: str, candidate: tuple[Any, ...]) -> tuple[Any, ...]:
            fp = by_vendor[vendor]
            return answer(fp, step(fp.step(source(candidate), "generated", c.params)))

        strategy = images() if c.kind == "image" else clips()
        result = differential.search(strategy, ask, (c.a.vendor, c.b.vendor),
                                     lambda x, y: agree(x, y, c.tolerance), c.pair_seed, c.budget)
        found = Search(examples=result.examples, distinct=result.answered, found=result.found,
                       counterexample=tuple(result.counterexample) if result.found else None)
        steps: dict[str, Step] = {}
        if result.found:
            src = source(result.counterexample)
            steps = {"input": src, "a": c.a.step(src, "generated", c.params), "b": c.b.step(src, "generated", c.params)}
        return with_context(cell, replace(c, search=found), steps=steps)

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        c = cell.context_as(DifferentialPlan)
        s = c.search
        m: dict[str, Any] = {"seed": c.seed, "pair_seed": c.pair_seed, "budget": c.budget, "tolerance": c.tolerance,
                             "examples": s and s.examples, "distinct_candidates": s and s.distinct}
        if s is None or not s.found or s.counterexample is None:
            return Verdict(Outcome.PASS, f"no disagreement in {s and s.distinct} distinct generated {c.kind}s"
                                         f" (seed {c.seed}, budget {c.budget})", m)
        said = {c.a.vendor: answer(c.a, answers.results["a"]), c.b.vendor: answer(c.b, answers.results["b"])}
        m["counterexample"] = as_params(s.counterexample)
        m["answers"] = {v: list(x) for v, x in said.items()}

        def brief(x: tuple[Any, ...]) -> str:
            if x[0] == "fingerprint":
                return f"fingerprint {x[2][:32]}{'...' if len(x[2]) > 32 else ''}"
            return f"{x[0]} ({x[1][:200]})"

        gap = ""
        xa, xb = said[c.a.vendor], said[c.b.vendor]
        if xa[0] == xb[0] == "fingerprint":
            try:
                d = distance(Fingerprint(xa[1], bytes.fromhex(xa[2])), Fingerprint(xb[1], bytes.fromhex(xb[2])))
                m["distance"] = d.as_dict()
                gap = f"; distance {d.value:g} > tolerance {c.tolerance:g}"
            except ValueError as exc:
                gap = f"; not comparable: {exc}"
        return Verdict(Outcome.FAIL, f"minimal counterexample: {describe(s.counterexample)}: "
                                     + "; ".join(f"{v} {brief(x)}" for v, x in said.items()) + gap, m)
