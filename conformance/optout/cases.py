"""Curated cases: precedence, malformed and hostile signals, and cross-channel conflicts."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from aiii_kit.optout import plus_decisions
from aiii_kit.vocab import OPTOUT_PURPOSES, OPTOUT_SIGNAL_FAMILIES

from conformance.base import Answers, PlanContext, planned
from conformance.optout.common import (
    DEFAULT_TIMEOUT_S,
    SIGNAL_FAMILY,
    OptoutCase,
    OptoutCheck,
    _resolve,
    _short,
    evaluate_step,
    evaluators,
    families_read,
    load_cases,
    material_mode,
    reads,
)
from runner.model import (
    Cell,
    CellContext,
    Outcome,
    Step,
    StepResult,
    Verdict,
    vendor_step,
)

# -- curated cases: precedence, malformed and hostile signals ------------------------------


@dataclass(frozen=True)
class CaseContext(CellContext):
    """A curated case for one evaluator: how it gets the site (``mode``) and its timeout."""

    case: OptoutCase
    mode: str
    timeout_s: float



class CaseCheck(OptoutCheck):

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        mode = str(ctx.config.params.get("material", "fetch"))
        timeout = float(ctx.config.params.get("timeout_s", DEFAULT_TIMEOUT_S))
        for vector in [v for v in ctx.vectors if v.media_type == "application/json"]:
            for case in load_cases(vector):
                for ev in evaluators(ctx):
                    if not all(reads(ev, c) for c in case.channels):
                        continue  # an evaluator of other channels has no cell here
                    context = CaseContext(case=case, mode=material_mode(ctx, ev.id, mode),
                                          timeout_s=float(timeout if case.timeout_s is None else case.timeout_s))
                    yield planned(self.cell(ctx, vector=vector.id, producer=None, consumer=ev.id, variant=case.id), context=context)

    def expand(self, cell: Cell, step: Callable[[Step], StepResult]) -> Cell:
        ctx = cell.context_as(CaseContext)
        case = ctx.case
        assert cell.consumer is not None
        families = sorted({SIGNAL_FAMILY[c] for c in case.channels}, key=OPTOUT_SIGNAL_FAMILIES.index)
        ev = evaluate_step(cell.consumer, list(case.site), case.resource, case.agent, list(case.expect),
                           families, ctx.mode, ctx.timeout_s)
        return replace(cell, steps={"evaluate": ev})

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        case = cell.context_as(CaseContext).case
        report = answers.report("evaluate")
        got = {p: report["decisions"].get(p, {}).get("decision") for p in case.expect}
        wrong = {p: {"expected": v, "decision": got[p], "source": report["decisions"].get(p, {}).get("source"),
                     "rule": report["decisions"].get(p, {}).get("rule")} for p, v in case.expect.items() if got[p] != v}
        asked = cell.steps["evaluate"].params
        measurements = {"spec": case.spec, "rule": case.rule, "expected": case.expect, "decisions": got,
                        "notes": report.get("notes", []), "url": asked["url"], "agent": asked["agent"],
                        "material": "inline" if asked.get("material") else "fetched by the evaluator"}
        if wrong:
            measurements["wrong"] = wrong
            first = next(iter(wrong.items()))
            return Verdict(Outcome.FAIL, f"{case.spec}: {first[0]} {first[1]['decision']}, the spec gives {first[1]['expected']}"
                                         f" ({_short(first[1]['source'])})", measurements)
        return Verdict(Outcome.PASS, f"{case.spec}: " + ", ".join(f"{p} {d}" for p, d in got.items()), measurements)


class Precedence(CaseCheck):
    id = "optout.precedence"
    title = "Opt-out precedence and combination rules"
    description = ("Curated sites for each rule: a TDMRep file beats a header, which beats embedded metadata; in AI"
                   " preferences any disallow wins; robots.txt longest match with * and $; EPUB 3 and PDF namespaces;"
                   " Content-Signal against the agent's Disallow, its group and Content-Usage."
                   " Each case names its spec section.")


class Malformed(CaseCheck):
    id = "optout.malformed"
    title = "Malformed and hostile opt-out signals"
    description = ("Reservation values other than 0 and 1, bad structured fields, uppercase and duplicate keys, a huge"
                   " robots.txt, redirects, timeouts and non-UTF-8 bytes get the outcome their spec defines; nothing crashes.")


# -- cross-channel conflicts ----------------------------------------------------------------


@dataclass(frozen=True)
class ConflictContext(CellContext):
    """A conflict case: the evaluators (each with the signal families it reads), the
    metadata readers and writer of an embedded file, and the evaluators that get the
    site's material ``inline`` instead of ``mode``."""

    case: OptoutCase
    mode: str
    timeout_s: float
    evaluators: Mapping[str, tuple[str, ...]]
    readers: tuple[str, ...]
    writer: str | None
    inline: tuple[str, ...] = ()



class Conflicts(OptoutCheck):
    id = "optout.conflicts"
    title = "Cross-channel conflicts: what each evaluator decides"
    description = ("Sites whose channels disagree (headers allow, XMP prohibits, ...): every evaluator's decision per"
                   " channel and purpose is reported; a cell fails where evaluators reading the same channel disagree.")

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        mode = str(ctx.config.params.get("material", "fetch"))
        timeout = float(ctx.config.params.get("timeout_s", DEFAULT_TIMEOUT_S))
        images = [v for v in ctx.vectors if v.media_type == "image/jpeg"]
        cases_vectors = [v for v in ctx.vectors if v.media_type == "application/json"]
        writers = [w for w in ctx.with_op("metadata.write") if images and w.capability("metadata.write", images[0].media_type)]
        for vector in cases_vectors:
            for case in load_cases(vector):
                cell = self.cell(ctx, vector=vector.id, producer=None, consumer=None, variant=case.id)
                embeds = [f for f in case.site if "embed" in f]
                steps: dict[str, Step] = {}
                readers: list[str] = []
                if embeds:
                    if not images or not writers:
                        yield planned(cell, "the case embeds plus:DataMining: needs a JPEG vector and a metadata writer")
                        continue
                    image = images[0]
                    steps["write"] = vendor_step(writers[0].id, "metadata.write", image.id,
                                                 {"fields": {"data_mining": str(embeds[0]["embed"]["data_mining"])}})
                    for r in ctx.with_op("metadata.read"):
                        if r.capability("metadata.read", image.media_type):
                            steps[f"read:{r.id}"] = vendor_step(r.id, "metadata.read", steps["write"], {})
                            readers.append(r.id)
                evs = {e.id: tuple(families_read(e)) for e in evaluators(ctx)}
                context = ConflictContext(case=case, mode=mode, timeout_s=timeout, evaluators=evs, readers=tuple(readers),
                                          writer=writers[0].id if embeds else None,
                                          inline=tuple(sorted(e for e in evs if material_mode(ctx, e, mode) != mode)))
                yield planned(cell, steps=steps, context=context)

    def expand(self, cell: Cell, step: Callable[[Step], StepResult]) -> Cell:
        ctx = cell.context_as(ConflictContext)
        case = ctx.case
        files: list[dict[str, Any]] = []
        for f in case.site:
            if "embed" in f:
                written = step(cell.steps["write"])
                if not written.ok or written.asset_sha256 is None:
                    return cell
                files.append(_resolve({"path": f["path"], "headers": f.get("headers", []), "sha256": written.asset_sha256}))
            else:
                files.append(f)
        steps = dict(cell.steps)
        for ev, families in ctx.evaluators.items():
            steps[f"evaluate:{ev}"] = evaluate_step(ev, files, case.resource, case.agent, list(OPTOUT_PURPOSES), list(families),
                                                    "inline" if ev in ctx.inline else ctx.mode, ctx.timeout_s)
        return replace(cell, steps=steps)

    judges_clean_errors = False

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        ctx = cell.context_as(ConflictContext)
        table: dict[str, dict[str, dict[str, str]]] = {}  # family -> purpose -> who -> decision
        combined: dict[str, dict[str, str]] = {}
        for role in answers.results:
            if role.startswith("evaluate:"):
                who, report = role.split(":", 1)[1], answers.report(role)
                combined[who] = {p: d["decision"] for p, d in report["decisions"].items()}
                for family, said in (report.get("channels") or {}).items():
                    for p, d in said.items():
                        table.setdefault(family, {}).setdefault(p, {})[who] = d
            elif role.startswith("read:"):
                who = role.split(":", 1)[1]
                value = answers.report(role)["fields"].get("data_mining")
                for p, d in plus_decisions(value).items():
                    table.setdefault("plus", {}).setdefault(p, {})[who] = d
        disagreements = []
        for family, by_purpose in table.items():
            for p, said in by_purpose.items():
                if len(set(said.values())) > 1:
                    groups: dict[str, list[str]] = {}
                    for who, d in sorted(said.items()):
                        groups.setdefault(d, []).append(who)
                    disagreements.append(f"{family}/{p}: " + "; ".join(f"{d} by {', '.join(w)}" for d, w in groups.items()))
        per_channel = {f: {p: sorted(set(s.values())) for p, s in by.items()} for f, by in table.items()}
        conflicts = sorted(f"{p}: " + " vs ".join(f"{f} {v[0]}" for f, v in ((f, per_channel[f][p]) for f in per_channel)
                                                if p in per_channel[f] and len(v) == 1 and v[0] != "unknown")
                           for p in OPTOUT_PURPOSES)
        measurements = {"spec": ctx.case.spec, "rule": ctx.case.rule, "by_channel": table, "combined": combined,
                        "channel_conflicts": conflicts, "disagreements": disagreements, "writer": ctx.writer}
        if disagreements:
            return Verdict(Outcome.FAIL, f"evaluators disagree: {_short(' | '.join(disagreements), 400)}", measurements)
        return Verdict(Outcome.PASS, "every evaluator reads each channel alike; channels say "
                                     + _short("; ".join(c for c in conflicts if " vs " in c) or "the same", 300), measurements)
