"""Channel x evaluator, one matrix per purpose: every intent through every channel that
can express it, read back by every evaluator."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from aiii_kit.vocab import OPTOUT_PURPOSES, OPTOUT_SITE_CHANNELS, PLUS_VOCAB

from conformance.base import Answers, PlanContext, planned
from conformance.c2pa import read_params, sign_params
from conformance.optout.common import (
    DEFAULT_TIMEOUT_S,
    OptoutCheck,
    _resolve,
    _short,
    decision_of,
    declared_files,
    evaluate_step,
    evaluators,
    expected,
    load_intents,
    material_mode,
    plus_code,
    reads,
    training_mining_entries,
)
from conformance.planning import option
from runner.model import (
    NO_INPUT,
    Cell,
    CellContext,
    Outcome,
    Step,
    StepResult,
    Vector,
    Verdict,
    canonical_json,
    vendor_step,
    with_context,
)

# -- channel x evaluator, one matrix per purpose --------------------------------------------


@dataclass(frozen=True)
class MatrixContext(CellContext):
    """One intent through one channel, for one evaluator or reader: the intent's
    decisions by purpose, the channel and its family, the user agent, how the evaluator
    gets the material and its timeout; for an in-asset channel the asset's media type,
    and for plus:DataMining the code written."""

    purpose: str
    intent: Mapping[str, str]
    channel: str
    family: str
    agent: str
    mode: str
    timeout_s: float
    media_type: str | None = None
    code: str | None = None


class ChannelMatrix(OptoutCheck):

    def __init__(self, purpose: str) -> None:
        self.purpose = purpose
        self.id = f"optout.{purpose.replace('-', '_')}"  # type: ignore[misc]
        self.title = f"Opt-out for {purpose}: channel x evaluator"  # type: ignore[misc]
        self.description = (  # type: ignore[misc]
            f"Each intent is declared through each channel (row: the channel, with the vendor that wrote it) and read by each evaluator (column);"
            f" the {purpose} decision must equal the intent, or be unknown where the channel cannot express {purpose}.")

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        intents_vectors = [v for v in ctx.vectors if v.media_type == "application/json"]
        images = [v for v in ctx.vectors if v.media_type == "image/jpeg"]
        mode = str(ctx.config.params.get("material", "fetch"))
        timeout = float(ctx.config.params.get("timeout_s", DEFAULT_TIMEOUT_S))
        for vector in intents_vectors:
            doc = load_intents(vector)
            agent = doc["agents"][self.purpose][0]
            for intent in doc["intents"]:
                yield from self._site_cells(ctx, vector, doc, intent, agent, mode, timeout)
                for image in images[:1]:
                    yield from self._asset_cells(ctx, vector, image, intent, agent, mode, timeout)

    def _cell(self, ctx: PlanContext, vector: Vector, channel: str, producer: str, evaluator: str, intent: dict[str, Any],
              **context: Any) -> Cell:
        """Row: the channel (and the vendor that wrote it); column: the evaluator."""
        cell = self.cell(ctx, vector=vector.id, producer=producer, consumer=evaluator, variant=f"{channel}.{intent['id']}", channel=channel)
        return with_context(cell, MatrixContext(purpose=self.purpose, intent=intent["purposes"], channel=channel, **context))

    def _site_cells(self, ctx: PlanContext, vector: Vector, doc: dict[str, Any], intent: dict[str, Any], agent: str,
                    mode: str, timeout: float) -> Iterator[Cell]:
        for declarer in ctx.with_op("optout.declare"):
            for channel in option(declarer, "optout.declare", "channels", []):
                family = OPTOUT_SITE_CHANNELS[channel]
                params = {"channel": channel, "intent": {"purposes": intent["purposes"], "policy": intent.get("policy")},
                          "agents": doc["agents"]}
                declare = vendor_step(declarer.id, "optout.declare", NO_INPUT, params)
                for ev in [e for e in evaluators(ctx) if reads(e, channel)]:  # the others have no cell here
                    cell = self._cell(ctx, vector, channel, declarer.id, ev.id, intent, family=family, agent=agent,
                                      mode=material_mode(ctx, ev.id, mode), timeout_s=timeout)
                    yield planned(cell, steps={"declare": declare})

    def _asset_cells(self, ctx: PlanContext, vector: Vector, image: Vector, intent: dict[str, Any], agent: str,
                     mode: str, timeout: float) -> Iterator[Cell]:
        mt = image.media_type
        base = {"agent": agent, "mode": mode, "timeout_s": timeout, "media_type": mt}
        code = plus_code(intent["purposes"])
        for writer in [w for w in ctx.with_op("metadata.write") if w.capability("metadata.write", mt)]:
            write = vendor_step(writer.id, "metadata.write", image.id, {"fields": {"data_mining": PLUS_VOCAB + (code or "")}})
            consumers = [r for r in ctx.with_op("metadata.read") if r.capability("metadata.read", mt)]
            consumers += [e for e in evaluators(ctx) if reads(e, "plus-datamining")]
            for reader in consumers:
                cell = self._cell(ctx, vector, "plus-datamining", writer.id, reader.id, intent,
                                  **base | {"mode": material_mode(ctx, reader.id, mode), "family": "plus", "code": code})
                if code is None:
                    yield planned(cell, f"no plus:DataMining value says exactly {canonical_json(intent['purposes'])}")
                elif reader.capability("optout.evaluate"):
                    yield planned(cell, steps={"write": write})  # expand publishes the asset and evaluates it
                else:
                    yield planned(cell, steps={"write": write, "read": vendor_step(reader.id, "metadata.read", write, {})})
        for label in ("c2pa.training-mining", "cawg.training-mining"):
            channel = label.replace(".", "-")
            for signer in [s for s in ctx.with_op("provenance.sign") if s.capability("provenance.sign", mt)]:
                params = {**sign_params(ctx, signer.id, f"aiii optout {intent['id']}", label),
                          "training_mining": training_mining_entries(intent["purposes"])}
                sign = vendor_step(signer.id, "provenance.sign", image.id, params)
                for reader in [r for r in ctx.with_op("provenance.read") if r.capability("provenance.read", mt)]:
                    cell = self._cell(ctx, vector, channel, signer.id, reader.id, intent, **base, family="c2pa")
                    read = vendor_step(reader.id, "provenance.read", sign, read_params(ctx, True))
                    yield planned(cell, steps={"sign": sign, "read": read})
                for ev in [e for e in evaluators(ctx) if reads(e, channel)]:  # evaluators fetch the signed asset
                    cell = self._cell(ctx, vector, channel, signer.id, ev.id, intent,
                                      **base | {"mode": material_mode(ctx, ev.id, mode)}, family="c2pa")
                    yield planned(cell, steps={"sign": sign})

    def expand(self, cell: Cell, step: Callable[[Step], StepResult]) -> Cell:
        ctx = cell.context_as(MatrixContext)
        assert cell.consumer is not None
        if "declare" in cell.steps:
            declared = step(cell.steps["declare"])
            if not declared.ok or declared.report is None:
                return cell
            files, resource = declared_files(declared.report), declared.report["resource"]
            first = "declare"
        elif "read" not in cell.steps:  # an in-asset channel for an evaluator: the written or signed asset
            first = "write" if "write" in cell.steps else "sign"
            written = step(cell.steps[first])
            if not written.ok or written.asset_sha256 is None:
                return cell
            resource = "/photo.jpg"
            files = [{"path": resource, "headers": [["Content-Type", ctx.media_type]], "sha256": written.asset_sha256}]
        else:
            return cell
        files = [_resolve(f) for f in files]
        ev = evaluate_step(cell.consumer, files, resource, ctx.agent, [self.purpose], [ctx.family], ctx.mode, ctx.timeout_s)
        return replace(cell, steps={first: cell.steps[first], "evaluate": ev})

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        ctx = cell.context_as(MatrixContext)
        want = expected(ctx.intent, ctx.family, self.purpose)
        role = "evaluate" if "evaluate" in answers.results else "read"
        got, why = decision_of(answers, role, ctx.family, self.purpose)
        measurements = {"purpose": self.purpose, "channel": ctx.channel, "intent": ctx.intent, "expected": want,
                        "decision": got, "explanation": why}
        if ctx.code:
            measurements["plus_code"] = ctx.code
        if want is None:
            return Verdict(Outcome.UNSUPPORTED, f"the intent says nothing about {self.purpose}", measurements)
        if got == want:
            note = " (the channel cannot express it)" if want == "unknown" and ctx.intent.get(self.purpose) else ""
            return Verdict(Outcome.PASS, f"{got}, as declared{note}: {_short(why)}", measurements)
        return Verdict(Outcome.FAIL, f"{cell.consumer} says {got}, the declared intent gives {want}: {_short(why)}", measurements)


PURPOSE_CHECKS: tuple[ChannelMatrix, ...] = tuple(ChannelMatrix(p) for p in OPTOUT_PURPOSES)
