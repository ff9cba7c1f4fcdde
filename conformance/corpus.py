"""Checks that judge a statistic over a corpus of vectors: the profile params they share,
keys and payloads, corpus members, the channels chosen from the profile, and the base
class that plans one cell per vendor x channel over a corpus per media kind.

Written for the watermark family; a future statistical family reuses it (with
:mod:`conformance.trials` and :mod:`conformance.statistics`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from conformance.base import Check, PlanContext
from conformance.channels import NamedChannel, chain_step
from runner.errors import PlanError
from runner.model import (
    Step,
    Vector,
    VendorManifest,
    transform_step,
)

EMBED, DETECT = "watermark.embed", "watermark.detect"

#: Defaults of the profile params every watermark check reads.
DEFAULTS: dict[str, Any] = {
    "target_fpr": 1e-3,
    "seed": 20261122,
    "trials": 4,  # keys (and payloads) per vector for marked trials
    "null_keys": 4,  # keys per clean vector x channel for clean trials (keyed detectors)
    "min_tpr": 0.9,
}


def profile_params(ctx: PlanContext) -> dict[str, Any]:
    params = {**DEFAULTS, **dict(ctx.config.params)}
    fpr = params["target_fpr"]
    if not isinstance(fpr, (int, float)) or not 0 < fpr < 1:
        raise PlanError(f"params.target_fpr: {fpr!r} is not a rate between 0 and 1")
    for name in ("trials", "null_keys", "crosstalk_trials"):
        if name in params and (not isinstance(params[name], int) or params[name] < 1):
            raise PlanError(f"params.{name}: {params[name]!r} is not a positive whole number")
    return params


def trials_for(params: dict[str, Any], vendor: str, name: str = "trials") -> int:
    """Marks per vector for an embedder: the profile's ``vendor_trials`` may lower it for a
    slow embedder (aware takes over a minute per 10 s of audio)."""
    base = int(params.get(name, params["trials"]))
    own = params.get("vendor_trials", {}).get(vendor)
    return min(base, int(own)) if isinstance(own, int) and own >= 1 else base


def kind_of(media_type: str) -> str:
    return media_type.split("/", 1)[0]


def options(vendor: VendorManifest, operation: str) -> dict[str, Any]:
    cap = vendor.capability(operation)
    return dict(cap.options) if cap else {}


def watermarkers(ctx: PlanContext) -> list[VendorManifest]:
    """Selected vendors that both embed and detect."""
    return [v for v in ctx.with_op(EMBED) if v.capability(DETECT)]


def key(seed: int, trial: int) -> str:
    return f"aiii-{seed}-{trial}"


def payload(seed: int, vector: str, trial: int, bits: int) -> str:
    """A deterministic pseudo-random payload per vector and trial (never a pattern: a
    detector's bias towards a pattern must not pass for a detection)."""
    out = ""
    counter = 0
    while len(out) < bits:
        digest = hashlib.sha256(f"{seed}/{vector}/{trial}/{counter}".encode()).digest()
        out += "".join(f"{b:08b}" for b in digest)
        counter += 1
    return out[:bits]


def _sample_rate(vector: Vector) -> int | None:
    if kind_of(vector.media_type) != "audio":
        return None
    import soundfile as sf

    try:
        return int(sf.info(str(vector.path)).samplerate)
    except (RuntimeError, sf.LibsndfileError) as exc:
        raise PlanError(f"vector {vector.id}: cannot read its sample rate: {exc}") from exc


@dataclass(frozen=True)
class Member:
    """A corpus member as a vendor's trials need it: its id and, for audio at a rate the
    vendor does not take, the rate to resample to first."""

    id: str
    resample: int | None = None


def member(vector: Vector, vendor: VendorManifest) -> Member:
    """The vector as a member of the vendor's corpus."""
    rates = options(vendor, EMBED).get("sample_rates")
    rate = _sample_rate(vector)
    resample = int(rates[0]) if rates and rate is not None and rate not in rates else None
    return Member(vector.id, resample)


def source(m: Member) -> Step | str:
    """The embedder's input for a member: the vector, resampled where needed."""
    if m.resample:
        return transform_step("channel.resample", m.id, {"rate": m.resample})
    return str(m.id)


def through(channel: NamedChannel | None, step: Step | str) -> Step | str:
    return step if channel is None else chain_step(channel, step)


def chosen_channels(ctx: PlanContext, params: dict[str, Any], kind: str) -> list[NamedChannel | None]:
    """``None`` (no channel) first, then the profile's channels of this kind, in order."""
    names = list(params.get("channels", []))
    unknown = [n for n in names if n not in ctx.channels]
    if unknown:
        raise PlanError(f"params.channels: unknown channels {unknown}; known: {sorted(ctx.channels)}")
    return [None, *(ctx.channels[n] for n in names if ctx.channels[n].kind == kind)]


def handles(vendor: VendorManifest, operation: str, kind: str) -> bool:
    """Whether the vendor declares the operation for any media type of this kind (a
    vendor of the other kind gets no cells at all, not a column of unsupported ones)."""
    cap = vendor.capability(operation)
    return bool(cap and any(kind_of(mt) == kind for c in vendor.capabilities if c.operation == operation
                            for mt in c.media_types))


class CorpusCheck(Check):
    """Plans one cell per embedder (or detector pair) x channel over a corpus per kind."""

    def corpora(self, ctx: PlanContext) -> dict[str, Vector]:
        if ctx.corpus is None:
            raise PlanError("this planner cannot make corpus vectors")
        out = {}
        for kind in ("image", "audio"):
            members = [v for v in ctx.vectors if kind_of(v.media_type) == kind]
            if members:
                # Named by kind, size and members, so checks selecting other vectors get their own.
                tag = hashlib.sha256(" ".join(v.id for v in members).encode()).hexdigest()[:6]
                out[kind] = ctx.corpus(f"watermark-{kind}-{len(members)}-{tag}", members)
        return out

    def members(self, ctx: PlanContext, vendor: VendorManifest, kind: str, operation: str) -> list[Member] | str:
        """The vendor's members of the kind's corpus, or why it takes none of them."""
        vectors = [v for v in ctx.vectors if kind_of(v.media_type) == kind]
        refused = sorted({v.media_type for v in vectors if not vendor.capability(operation, v.media_type)})
        if refused:
            return f"{vendor.id} does not declare {operation} for {', '.join(refused)}"
        return [member(v, vendor) for v in vectors]
