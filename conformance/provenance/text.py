"""C2PA in plain text (C2PA 2.x Annex A.8: the manifest store appended to the text as
U+FEFF and a run of Unicode variation selectors).

``provenance.text``: a manifest embedded by one implementation extracts byte-identical,
and validates, in every other.  A signer marks the text; each embed-only implementation
(capability option ``signs = false``) re-embeds the same manifest store in that text
with its own encoder; every reader then reads each embedder's text.  The reference is
the signer's own reader: the bytes it extracted (``manifest_store``) and its state.

``provenance.text_channels``: the signer's text through each text channel (NFC, NFKC,
trimming, a clipboard that drops variation selectors, HTML, UTF-16): is the manifest still
found, the same bytes, and still valid?  What a channel did decides what a reader must
say: wrapper kept and visible text unchanged, the signer's state; visible text changed,
found but ``Invalid`` (the hard binding covers the text); wrapper lost (removed or cut), no
valid manifest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from conformance.base import Answers, Check, PlanContext, planned
from conformance.c2pa import read_params, sign_params, state_summary, validates
from conformance.channel_transforms import VARIATION_SELECTORS
from conformance.channels import TEXT_CHANNELS, chain_step
from runner.errors import PlanError
from runner.model import Cell, CellContext, Outcome, Step, Vector, VendorManifest, Verdict, vendor_step

TEXT = "text/plain"
#: An Annex A.8 wrapper as it sits in a text: U+FEFF, then variation selectors.
WRAPPER = re.compile("\ufeff(?:" + VARIATION_SELECTORS.pattern + ")+")


def signs(vendor: VendorManifest, media_type: str) -> bool:
    """Whether the vendor signs in ``media_type`` (an embed-only vendor says ``signs = false``)."""
    cap = vendor.capability("provenance.sign", media_type)
    return bool(cap and cap.options.get("signs", True))


def _sources(ctx: PlanContext) -> Iterator[tuple[Vector, VendorManifest]]:
    """Each text vector with each signer of text that reads its own output back."""
    for vector in ctx.vectors:
        if vector.media_type != TEXT:
            continue
        for s in ctx.with_op("provenance.sign"):
            if signs(s, TEXT) and s.capability("provenance.read", TEXT) and validates(s, TEXT):
                yield vector, s


def _signed(ctx: PlanContext, s: VendorManifest, vector: Vector) -> dict[str, Step]:
    signed = vendor_step(s.id, "provenance.sign", vector.id, sign_params(ctx, s.id, f"aiii {vector.id}"))
    # the trust anchor is not offered: a text signer may sign with its own chain (c2patxt: Ed25519)
    return {"signed": signed, "own": vendor_step(s.id, "provenance.read", signed, read_params(ctx, False))}


@dataclass(frozen=True)
class TextContext(CellContext):
    """Who embedded the judged text (the signer, or an embed-only vendor re-embedding its
    manifest), whether the reader validates, and the channel the text went through."""

    embedder: str
    validates: bool
    channel: str | None = None


def _store(report: dict[str, Any]) -> dict[str, Any] | None:
    store = report.get("manifest_store")
    return store if isinstance(store, dict) else None


def _bytes(read: dict[str, Any], own: dict[str, Any]) -> str:
    """How the reader's manifest bytes compare with the signer's reader's."""
    mine, ref = _store(read), _store(own)
    if not read["manifest_present"]:
        return "none found"
    if mine is None:
        return "not reported"
    return "identical" if ref is not None and mine["sha256"] == ref["sha256"] else "different"


def _measure(answers: Answers, ctx: TextContext) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    read, own = answers.report("read"), answers.report("own")
    store = _store(read)
    m: dict[str, Any] = {"embedder": ctx.embedder, "bytes": _bytes(read, own), "reader": state_summary(read),
                         "signer_reader": state_summary(own), "manifest_store": store,
                         "signer_manifest_store": _store(own)}
    return m, read, own


def _state_problem(read: dict[str, Any], state: str | None, failure: list[str]) -> str | None:
    got = state_summary(read)
    if got["state"] != state or got["failure"] != failure:
        return f"{got['state']} {got['failure']} where the signer's reader says {state} {failure}"
    return None


class TextEmbedding(Check):
    id = "provenance.text"
    title = "C2PA in text: embed x extract x validate"
    family = "provenance"
    description = (
        "A manifest store embedded in plain text (Annex A.8, variation selectors) by one implementation, signer or"
        " re-embedder, extracts byte-identical in every reader, and validates to the signer's reader's state."
    )

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        embedders = [e for e in ctx.with_op("provenance.sign") if e.capability("provenance.sign", TEXT) and not signs(e, TEXT)]
        for vector, s in _sources(ctx):
            for e in [s, *embedders]:
                for r in ctx.with_op("provenance.read"):
                    producer = s.id if e is s else f"{s.id}+{e.id}"
                    cell = self.cell(ctx, vector=vector.id, producer=producer, consumer=r.id, variant="direct")
                    if not r.capability("provenance.read", TEXT):
                        yield planned(cell, f"{r.id} does not read manifests in {TEXT}")
                        continue
                    steps = _signed(ctx, s, vector)
                    marked = steps["signed"]
                    if e is not s:
                        marked = steps["embedded"] = vendor_step(e.id, "provenance.sign", marked,
                                                                 sign_params(ctx, e.id, f"aiii {vector.id}"))
                    steps["read"] = vendor_step(r.id, "provenance.read", marked, read_params(ctx, False))
                    yield planned(cell, steps=steps, context=TextContext(embedder=e.id, validates=validates(r, TEXT)))

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        ctx = cell.context_as(TextContext)
        m, read, own = _measure(answers, ctx)
        if "embedded" in answers.results:
            m["text"] = "identical" if answers.asset("embedded").data == answers.asset("signed").data else "different"
        problems = []
        if m["bytes"] != "identical":
            problems.append(f"manifest store {m['bytes']} (signer's reader: {_store(own)}, this reader: {_store(read)})")
        if ctx.validates and read["manifest_present"]:
            mismatch = _state_problem(read, own["validation_state"], state_summary(own)["failure"])
            if mismatch:
                problems.append(mismatch)
        who = f"embedded by {ctx.embedder}"
        if problems:
            return Verdict(Outcome.FAIL, f"{who}: " + "; ".join(problems), m)
        size = (_store(read) or {}).get("size")
        state = f"{read['validation_state']} {m['reader']['failure'] or ''}".strip() if ctx.validates else "decoded (no validation)"
        return Verdict(Outcome.PASS, f"{who}: the same {size}-byte manifest store; {state}", m)


class TextChannels(Check):
    id = "provenance.text_channels"
    title = "C2PA in text through text channels"
    family = "provenance"
    description = (
        "The signer's marked text through each text channel: readers must still find the same manifest store and the"
        " signer's state when the channel kept the wrapper and the text, report it Invalid when the visible text"
        " changed, and report no valid manifest when the wrapper is gone."
    )

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        names = list(ctx.config.params.get("channels", TEXT_CHANNELS))
        unknown = [n for n in names if n not in ctx.channels or ctx.channels[n].kind != "text"]
        if unknown:
            raise PlanError(f"check {self.id}: params.channels: {unknown} are not text channels;"
                            f" known: {sorted(n for n, c in ctx.channels.items() if c.kind == 'text')}")
        for vector, s in _sources(ctx):
            for name in names:
                for r in ctx.with_op("provenance.read"):
                    cell = self.cell(ctx, vector=vector.id, producer=s.id, consumer=r.id, variant=name, channel=name)
                    if not r.capability("provenance.read", TEXT):
                        yield planned(cell, f"{r.id} does not read manifests in {TEXT}")
                        continue
                    steps = _signed(ctx, s, vector)
                    steps["channelled"] = chain_step(ctx.channels[name], steps["signed"])
                    steps["read"] = vendor_step(r.id, "provenance.read", steps["channelled"], read_params(ctx, False))
                    context = TextContext(embedder=s.id, validates=validates(r, TEXT), channel=name)
                    yield planned(cell, steps=steps, context=context)

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        ctx = cell.context_as(TextContext)
        m, read, own = _measure(answers, ctx)
        effect = channel_effect(answers.asset("signed").data, answers.asset("channelled").data)
        m["channel_effect"] = effect
        m["channel"] = ctx.channel
        found = read["manifest_present"]
        if effect == "wrapper lost":
            if _store(read) is not None or read["validation_state"] in ("Valid", "Trusted"):
                return Verdict(Outcome.FAIL, f"{ctx.channel} removed or cut the wrapper, yet the reader reports a manifest"
                                             f" ({m['bytes']}, {read['validation_state']})", m)
            return Verdict(Outcome.PASS, f"{ctx.channel} removed or cut the wrapper: "
                                         + ("found, and not valid" if found else "no manifest found"), m)
        if m["bytes"] != "identical":
            return Verdict(Outcome.FAIL, f"{ctx.channel} ({effect}): manifest store {m['bytes']}", m)
        if not ctx.validates:
            return Verdict(Outcome.PASS, f"{ctx.channel} ({effect}): the same manifest store decoded (no validation)", m)
        if effect == "visible text changed":
            if read["validation_state"] != "Invalid":
                return Verdict(Outcome.FAIL, f"{ctx.channel} changed the visible text, yet the manifest is"
                                             f" {read['validation_state']}", m)
            return Verdict(Outcome.PASS, f"{ctx.channel} changed the visible text: Invalid {m['reader']['failure']}", m)
        mismatch = _state_problem(read, own["validation_state"], state_summary(own)["failure"])
        if mismatch:
            return Verdict(Outcome.FAIL, f"{ctx.channel} ({effect}): {mismatch}", m)
        return Verdict(Outcome.PASS, f"{ctx.channel} ({effect}): the same manifest store, {read['validation_state']}", m)


def channel_effect(before: bytes, after: bytes) -> str:
    """What a channel did to a marked text: ``unchanged`` (same bytes), ``wrapper lost``
    (a wrapper of the input is not found whole in the output: removed or cut), ``visible text changed`` (the text
    outside the wrappers differs) or ``re-encoded, same text`` (neither, bytes differ)."""
    if before == after:
        return "unchanged"
    old, new = before.decode("utf-8"), after.decode("utf-8", errors="replace")
    if any(w not in WRAPPER.findall(new) for w in WRAPPER.findall(old)):
        return "wrapper lost"
    if WRAPPER.sub("", old) != WRAPPER.sub("", new):
        return "visible text changed"
    return "re-encoded, same text"
