"""CAWG identity assertions (CAWG identity assertion 1.x): one signed with an X.509
credential (section 8.2, "X.509 certificates and COSE signatures") by each signer that
declares it, read by every validator of the run, intact and with one byte of the
identity assertion's own signature changed.  Validators must report the ``cawg.*``
codes (section 7, validation) the same way: a validator that reports other codes than
its peers, or none, fails, with every validator's codes in the reason.

The identity assertion is signed with a credential of its own from the run's test PKI
(the leaf of ``<signer>.identity``), apart from the claim's.  Readers get the C2PA trust
anchor; none is given for CAWG identities (no adapter configures a CAWG trust list), so
what a validator says of the credential's trust is part of what is compared.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from conformance.base import Answers, Check, PlanContext, planned
from conformance.c2pa import read_params, sign_params, validates
from runner.model import Cell, CellContext, Outcome, Step, VendorManifest, Verdict, transform_step, vendor_step

#: The credential type signed here (the capability option ``identity_sig_types``).
SIG_TYPE = "cawg.x509.cose"
#: The transform that changes one byte of the identity assertion's signature.
TAMPER = "tamper.identity_signature"
VARIANTS = ("intact", "tampered")
BUCKETS = ("success", "informational", "failure")
#: The role of each peer validator's read in a cell.
PEER = "read:"


def signs_identity(vendor: VendorManifest, media_type: str) -> bool:
    """Whether the vendor adds an X.509 CAWG identity assertion when it signs ``media_type``."""
    cap = vendor.capability("provenance.sign", media_type)
    return bool(cap and SIG_TYPE in cap.options.get("identity_sig_types", ()))


def identity_params(ctx: PlanContext, signer: str, title: str) -> dict[str, Any]:
    """``provenance.sign`` params asking for an identity assertion over the actions."""
    return {**sign_params(ctx, signer, title),
            "identity": {"signer": ctx.fixtures.credentials(f"{signer}.identity"), "referenced_assertions": ["c2pa.actions"]}}


def cawg_codes(report: Mapping[str, Any]) -> dict[str, list[str]]:
    """The ``cawg.*`` codes of a provenance report, by bucket, sorted."""
    codes = report.get("codes") or {}
    return {bucket: sorted({c for c in codes.get(bucket, []) if c.startswith("cawg.")}) for bucket in BUCKETS}


def shown(codes: Mapping[str, Sequence[str]]) -> str:
    """``success [a, b], failure [c]``; ``none`` when no bucket has a code."""
    parts = [f"{bucket} [{', '.join(codes[bucket])}]" for bucket in BUCKETS if codes.get(bucket)]
    return ", ".join(parts) or "none"


@dataclass(frozen=True)
class IdentityContext(CellContext):
    """Intact or tampered, and the peer validators whose reads the cell compares with."""

    variant: str
    peers: tuple[str, ...]


class IdentityAssertion(Check):
    id = "provenance.cawg"
    title = "CAWG identity assertion (X.509) across validators"
    family = "provenance"
    description = (
        "A CAWG X.509 identity assertion, intact and with its signature changed by one byte: every validator"
        " reports the same cawg.* codes as the others."
    )

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        variants = ctx.config.params.get("variants", list(VARIANTS))
        readers = ctx.with_op("provenance.read")
        for vector in ctx.vectors:
            mt = vector.media_type
            validators = [v.id for v in readers if v.capability("provenance.read", mt) and validates(v, mt)]
            for s in ctx.with_op("provenance.sign"):
                if not signs_identity(s, mt):
                    continue
                signed = vendor_step(s.id, "provenance.sign", vector.id, identity_params(ctx, s.id, f"aiii {vector.id}"))
                for variant in variants:
                    steps: dict[str, Step] = {"signed": signed}
                    if variant == "tampered":
                        steps["tampered"] = transform_step(TAMPER, signed)
                    asset = steps.get("tampered", signed)
                    reads = {v: vendor_step(v, "provenance.read", asset, read_params(ctx, True)) for v in validators}
                    for r in readers:
                        cell = self.cell(ctx, vector=vector.id, producer=s.id, consumer=r.id, variant=variant)
                        peers = tuple(v for v in validators if v != r.id)
                        missing = (f"{r.id} does not read manifests in {mt}" if not r.capability("provenance.read", mt) else
                                   f"{r.id} decodes but does not validate manifests" if r.id not in reads else
                                   f"no other validator of {mt} in this run to compare {r.id} with" if not peers else None)
                        if missing:
                            yield planned(cell, missing)
                            continue
                        cell_steps = {**steps, "read": reads[r.id], **{PEER + p: reads[p] for p in peers}}
                        yield planned(cell, steps=cell_steps, context=IdentityContext(variant=variant, peers=peers))

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        ctx = cell.context_as(IdentityContext)
        mine = answers.report("read")
        codes = {cell.consumer or "": cawg_codes(mine)}
        codes.update({p: cawg_codes(answers.report(PEER + p)) for p in ctx.peers})
        m: dict[str, Any] = {"variant": ctx.variant, "cawg_codes": codes,
                             "states": {cell.consumer or "": mine["validation_state"],
                                        **{p: answers.report(PEER + p)["validation_state"] for p in ctx.peers}}}
        return judge_codes(cell.consumer or "", ctx.variant, codes, m)


def judge_codes(consumer: str, variant: str, codes: Mapping[str, Mapping[str, Sequence[str]]],
                measurements: dict[str, Any]) -> Verdict:
    """Pass when ``consumer``'s CAWG codes equal every peer's; else fail naming who said what."""
    mine = codes[consumer]
    others = [v for v in codes if v != consumer]
    differ = [v for v in others if dict(codes[v]) != dict(mine)]
    what = f"{variant} identity assertion"
    if differ:
        said = "; ".join(f"{v}: {shown(codes[v])}" for v in [consumer, *others])
        return Verdict(Outcome.FAIL, f"{what}: validators disagree on the cawg.* codes ({said})", measurements)
    return Verdict(Outcome.PASS, f"{what}: {len(codes)} validators agree: {shown(mine)}", measurements)


__all__ = ["IdentityAssertion", "cawg_codes", "identity_params", "judge_codes", "signs_identity"]
