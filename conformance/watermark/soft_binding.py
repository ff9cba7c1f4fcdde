"""``watermark.soft_binding``: a watermark declared as a C2PA soft binding, recovered
after the manifest is stripped."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from conformance.base import Answers, CellContext, PlanContext, planned
from conformance.c2pa import read_params, sign_params
from conformance.channels import NamedChannel, chain_step
from conformance.corpus import (
    DETECT,
    EMBED,
    CorpusCheck,
    chosen_channels,
    handles,
    kind_of,
    options,
    profile_params,
    source,
    watermarkers,
)
from conformance.trials import DetectorSpec, detect_params, detector_spec, mark
from runner.errors import PlanError
from runner.model import (
    Cell,
    Outcome,
    Step,
    StepResult,
    VendorManifest,
    Verdict,
    vendor_step,
    with_context,
)

#: Soft-binding algorithm names from the C2PA soft-binding algorithm list, by vendor;
#: a vendor not listed there gets a clearly private name (see soft_binding_alg).
PRIVATE_ALG_PREFIX = "org.aiii-interop.private."


@dataclass(frozen=True)
class SoftBindingPlan(CellContext):
    """A vector marked by one vendor and signed with its payload declared as a soft
    binding, then stripped by a channel."""

    vector: str
    detector: DetectorSpec
    alg: str
    registered: bool
    sign: dict[str, Any]
    read: dict[str, Any]
    strip: NamedChannel


@dataclass(frozen=True)
class SoftBindingEvidence(CellContext):
    """The plan and the soft-binding value signed: the payload as hex, and its bits."""

    plan: SoftBindingPlan
    value_hex: str
    bits: int


def soft_binding_alg(vendor: VendorManifest) -> tuple[str, bool]:
    """The vendor's soft-binding algorithm name and whether it is a registered one."""
    registered = options(vendor, EMBED).get("soft_binding_alg")
    if isinstance(registered, str) and registered:
        return registered, True
    return f"{PRIVATE_ALG_PREFIX}{vendor.id}.1", False


class WatermarkSoftBinding(CorpusCheck):
    id = "watermark.soft_binding"
    title = "A watermark declared as a C2PA soft binding, recovered after the manifest is stripped"
    family = "watermark"
    description = (
        "A multi-bit mark is embedded; the signer's manifest declares it in c2pa.soft-binding (the registry's"
        " algorithm name where one exists, else a private one) with a c2pa.watermarked action; a channel that"
        " strips the manifest (social media for images, MP3 for audio) follows; the detector's payload must"
        " equal the soft-binding value read from the original manifest."
    )

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        params = profile_params(ctx)
        strip = {"image": params.get("strip_channel_image", "social-media"), "audio": params.get("strip_channel_audio", "mp3-128k")}
        for kind, _corpus in self.corpora(ctx).items():
            name = strip[kind]
            if name not in ctx.channels:
                raise PlanError(f"params.strip_channel_{kind}: unknown channel {name!r}")
            channels = chosen_channels(ctx, params, kind)
            for vector in [v for v in ctx.vectors if kind_of(v.media_type) == kind]:
                mt = vector.media_type
                for a in [w for w in watermarkers(ctx) if handles(w, EMBED, kind)]:
                    for s in ctx.with_op("provenance.sign"):
                        cell = self.cell(ctx, vector=vector.id, producer=s.id, consumer=a.id, variant=name)
                        members = self.members(ctx, a, kind, EMBED)
                        why = (members if isinstance(members, str) else
                               f"{a.id} is a zero-bit mark: no payload to bind" if options(a, EMBED).get("mode") == "zero-bit" else
                               f"{s.id} does not sign {mt}" if not s.capability("provenance.sign", mt) else
                               f"{s.id} does not read {mt}" if not s.capability("provenance.read", mt) else None)
                        if why:
                            yield planned(cell, why)
                            continue
                        assert not isinstance(members, str)
                        alg, registered = soft_binding_alg(a)
                        spec = detector_spec(a, members, channels, params)
                        plan = SoftBindingPlan(vector=vector.id, detector=spec, alg=alg, registered=registered,
                                               sign=sign_params(ctx, s.id, f"aiii {vector.id}"), read=read_params(ctx, True),
                                               strip=ctx.channels[name])
                        yield planned(cell, context=plan)

    def expand(self, cell: Cell, step: Callable[[Step], StepResult]) -> Cell:
        c = cell.context_as(SoftBindingPlan)
        spec = c.detector
        m = spec.member(c.vector)
        mk = mark(spec, m.id, 0)
        marked = vendor_step(str(cell.consumer), EMBED, source(m), mk.params)
        bits: str = mk.params["payload"]  # a multi-bit mark: zero-bit ones are not planned
        value_hex = f"{int(bits, 2):0{(len(bits) + 7) // 8 * 2}x}"
        sign = {**c.sign,
                "actions": [*c.sign["actions"], {"action": "c2pa.watermarked"}],
                "soft_bindings": [{"alg": c.alg, "value_hex": value_hex,
                                   "binding_metadata": {"payload_bits": len(bits)}}]}
        signed = vendor_step(str(cell.producer), "provenance.sign", marked, sign)
        read = vendor_step(str(cell.producer), "provenance.read", signed, c.read)
        stripped = chain_step(c.strip, signed)
        detected = vendor_step(str(cell.consumer), DETECT, stripped, detect_params(spec, mk.key))
        steps = {"marked": marked, "signed": signed, "read": read, "stripped": stripped, "detected": detected,
                 "after_strip": vendor_step(str(cell.producer), "provenance.read", stripped, c.read)}
        return with_context(cell, SoftBindingEvidence(plan=c, value_hex=value_hex, bits=len(bits)), steps=steps)

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        e = cell.context_as(SoftBindingEvidence)
        alg, strip = e.plan.alg, e.plan.strip.name
        manifest = answers.report("read").get("active_manifest") or {}
        blocks = [b for b in manifest.get("soft_bindings") or [] if b.get("alg") == alg]
        actions = [a.get("action") for a in manifest.get("actions") or []]
        stored = [_binding_hex(b.get("value")) for b in blocks]
        bits = answers.report("detected").get("bits") or ""
        n = int(e.bits)
        recovered = f"{int(bits, 2):0{(n + 7) // 8 * 2}x}" if len(bits) == n else None
        still = answers.report("after_strip")["manifest_present"]
        m = {"alg": alg, "registered_alg": e.plan.registered, "signed_value_hex": e.value_hex,
             "manifest_values_hex": stored, "recovered_hex": recovered, "manifest_after_strip": still,
             "actions": actions}
        if not blocks:
            return Verdict(Outcome.FAIL, f"the signed manifest carries no {alg} soft binding", m)
        if "c2pa.watermarked" not in actions:
            return Verdict(Outcome.FAIL, f"the manifest lacks the c2pa.watermarked action ({actions})", m)
        if still:
            return Verdict(Outcome.FAIL, f"the channel {strip} did not strip the manifest", m)
        if recovered is None:
            return Verdict(Outcome.FAIL, f"the detector decoded {len(bits)} bits, not {n}", m)
        if recovered not in stored:
            wrong = sum(a != b for a, b in zip(bits, f"{int(stored[0] or '0', 16):0{n}b}"[-n:], strict=False)) if stored[0] else n
            m["wrong_bits"] = wrong
            return Verdict(Outcome.FAIL, f"recovered payload {recovered} differs from the manifest's {stored} ({wrong} bits)", m)
        return Verdict(Outcome.PASS, f"payload {recovered} recovered after {strip} stripped the manifest;"
                                     f" it equals the {alg} soft binding", m)


def _binding_hex(value: Any) -> str | None:
    """A normalised soft-binding value (``bytes:<hex>``, base64 text or a byte list) as hex."""
    import base64

    if isinstance(value, str) and value.startswith("bytes:"):
        return value[6:]
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True).hex()
        except ValueError:
            return None
    if isinstance(value, list) and all(isinstance(x, int) for x in value):
        return bytes(value).hex()
    return None
