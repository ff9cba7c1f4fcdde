"""Embedded metadata fields, shared by the families that write them: the canonical value
sets, what a vendor declares, the normalisation passes, a decoded-content hash, and the
field round trip (writer x reader) that the metadata and identifiers families specialise."""

from __future__ import annotations

import hashlib
import io
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiii_kit import Asset
from aiii_kit.metadata import METADATA_FIELDS
from aiii_kit.vocab import IPTC_DST, PLUS_VOCAB

from conformance.base import Answers, Check, PlanContext, planned
from runner.model import Cell, CellContext, Outcome, Step, StepKind, VendorManifest, Verdict, canonical_json, vendor_step

# -- the values written ---------------------------------------------------------------

_NFC = unicodedata.normalize("NFC", "Zoë Ångström, Café Müller")
_NFD = unicodedata.normalize("NFD", "Crème brûlée: naïve façade, résumé")
_RTL = "צילום: אורי כהן — تصوير: علي"
_EMOJI = "© 2026 Studio 🎨🤖 — all rights reserved"


def value_sets(attacks: dict[str, list[str]]) -> dict[str, dict[str, str]]:
    """Named sets of canonical field values; each is one variant of the round trip."""
    sets: dict[str, dict[str, str]] = {
        "ascii": {
            "digital_source_type": IPTC_DST + "trainedAlgorithmicMedia",
            "data_mining": PLUS_VOCAB + "DMI-PROHIBITED-AIMLTRAINING",
            "creator": "Jane Example",
            "copyright_notice": "Copyright 2026 Jane Example",
            "web_statement": "https://example.org/licence/photo-123",
            "title": "Harbour at dawn",
            "description": "A test photo for the aiii interoperability matrix.",
        },
        "unicode": {
            "digital_source_type": IPTC_DST + "compositeWithTrainedAlgorithmicMedia",
            "data_mining": "DMI-PROHIBITED-GENAIMLTRAINING",  # the bare-code form some tools write
            "creator": _NFC,
            "copyright_notice": _EMOJI,
            "web_statement": "https://example.org/licence/ümlaut?q=ä&x=1",
            "title": _RTL,
            "description": _NFD,
        },
        "long": {
            "digital_source_type": IPTC_DST + "digitalCapture",
            "data_mining": PLUS_VOCAB + "DMI-PROHIBITED-SEECONSTRAINT",
            "creator": "Long Value Test",
            "copyright_notice": "Copyright 2026 " + "Ω" * 500,
            "web_statement": "https://example.org/" + "a" * 2000,
            "title": "T" * 1000,
            "description": ("Lorem ipsum dolor sit amet " * 371)[:10000],
        },
    }
    if attacks:
        def first(name: str, default: str) -> str:
            lines = attacks.get(name) or [default]
            return lines[0]

        sets["attacks"] = {
            "digital_source_type": IPTC_DST + "algorithmicMedia",
            "data_mining": PLUS_VOCAB + "DMI-PROHIBITED",
            "creator": first("sql_injection", "'; DROP TABLE cells; --"),
            "copyright_notice": first("rendering", "\u202eevil"),
            "web_statement": "javascript:alert(1)",
            "title": first("xss", "<script>alert(1)</script>"),
            "description": first("special_characters", "\"'<>&"),
        }
    return sets


def declared_fields(vendor: VendorManifest, operation: str, media_type: str) -> set[str]:
    cap = vendor.capability(operation, media_type)
    if cap is None:
        return set()
    return set(cap.options.get("fields", METADATA_FIELDS))


def normalisations(vendor: VendorManifest, operation: str, media_type: str) -> list[str]:
    cap = vendor.capability(operation, media_type)
    return list(cap.options.get("normalisation", [])) if cap else []


#: Normalisation passes a vendor may declare; the comparison applies those of both sides.
PASSES = {
    "nfc": lambda v: unicodedata.normalize("NFC", v),
    "strip": lambda v: v.strip(),
    "data_mining_code": lambda v: v.removeprefix(PLUS_VOCAB),
    "crlf": lambda v: v.replace("\r\n", "\n"),
}


def normalise(value: str, passes: Iterable[str]) -> str:
    for name in passes:
        value = PASSES[name](value)
    return value


def diff_text(expected: str, got: str) -> str:
    """A short, readable description of how two strings differ."""
    if len(expected) != len(got):
        where = next((i for i, (a, b) in enumerate(zip(expected, got, strict=False)) if a != b), min(len(expected), len(got)))
        return f"length {len(expected)} -> {len(got)}, first difference at {where}: {got[where:where + 20]!r}"
    where = next(i for i, (a, b) in enumerate(zip(expected, got, strict=False)) if a != b)
    return f"at {where}: expected {expected[where:where + 10]!r}, got {got[where:where + 10]!r}"


@dataclass(frozen=True)
class RoundTripContext(CellContext):
    """What a round trip's judge needs: the values written (the fields both sides
    declare), the normalisation passes of both sides, and the fields not tested."""

    expected: dict[str, str]
    passes: list[str]
    undeclared: list[str]


class FieldRoundTrip(Check):
    """Writer x reader x format: each reader reads back every field both declare, equal after
    the normalisation passes they declare.  Subclasses name the check and its value sets."""

    def chosen_sets(self, ctx: PlanContext) -> dict[str, dict[str, str]]:
        """The named value sets this check writes (the profile's ``value_sets``, default all)."""
        sets = value_sets(ctx.fixtures.attack_strings)
        names = ctx.config.params.get("value_sets", list(sets))
        return {name: sets[name] for name in names if name in sets}

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        sets = self.chosen_sets(ctx)
        writers, readers = ctx.with_op("metadata.write"), ctx.with_op("metadata.read")
        # Cells of one writer and vector share its written step, and steps and cells of one
        # field set share its params and context: made once, one object each, so a plan of a
        # million cells holds neither a million copies of the long values nor the time to
        # encode them.
        written_steps: dict[tuple[str, str, str, frozenset[str]], Step] = {}
        written_params: dict[tuple[str, frozenset[str]], str] = {}
        contexts: dict[tuple[str, frozenset[str], tuple[str, ...]], str] = {}
        for vector in ctx.vectors:
            mt = vector.media_type
            for w in writers:
                can_w = bool(w.capability("metadata.write", mt))
                w_fields = declared_fields(w, "metadata.write", mt)
                w_passes = set(normalisations(w, "metadata.write", mt))
                for r in readers:
                    can_r = bool(r.capability("metadata.read", mt))
                    if not (can_w or can_r):
                        continue
                    if not (can_w and can_r):
                        side = f"{w.id} does not write" if not can_w else f"{r.id} does not read"
                        for name in sets:
                            cell = self.cell(ctx, vector=vector.id, producer=w.id, consumer=r.id, variant=name)
                            yield planned(cell, f"{side} metadata in {mt}")
                        continue
                    fields = frozenset(w_fields & declared_fields(r, "metadata.read", mt))
                    passes = tuple(sorted(w_passes | set(normalisations(r, "metadata.read", mt))))
                    for name, chosen in sets.items():
                        written = written_steps.get((vector.id, w.id, name, fields))
                        if written is None:
                            params = written_params.get((name, fields))
                            if params is None:
                                values = {f: v for f, v in chosen.items() if f in fields}
                                params = canonical_json({"fields": values})  # as vendor_step writes it
                                written_params[(name, fields)] = params
                            written = Step(StepKind.VENDOR, "metadata.write", vector.id, w.id, params)
                            written_steps[(vector.id, w.id, name, fields)] = written
                        context = contexts.get((name, fields, passes))
                        if context is None:
                            values = {f: v for f, v in chosen.items() if f in fields}
                            context = RoundTripContext(expected=values, passes=list(passes),
                                                       undeclared=sorted(set(METADATA_FIELDS) - fields)).to_json()
                            contexts[(name, fields, passes)] = context
                        yield self.cell(ctx, vector=vector.id, producer=w.id, consumer=r.id, variant=name,
                                        steps={"written": written, "read": vendor_step(r.id, "metadata.read", written)},
                                        context_json=context)

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        ctx = cell.context_as(RoundTripContext)
        got: dict[str, str] = answers.report("read")["fields"]
        per_field: dict[str, Any] = {}
        problems = []
        for name, expected in ctx.expected.items():
            value = got.get(name)
            if value is None:
                per_field[name] = {"status": "lost", "expected": expected}
                problems.append(f"{name} lost")
            elif normalise(value, ctx.passes) != normalise(expected, ctx.passes):
                detail = diff_text(normalise(expected, ctx.passes), normalise(value, ctx.passes))
                per_field[name] = {"status": "altered", "expected": expected, "got": value, "diff": detail}
                problems.append(f"{name} altered ({detail})")
            else:
                per_field[name] = {"status": "equal"}
        measurements = {"fields": per_field, "normalisation": ctx.passes, "not_tested": ctx.undeclared}
        if not ctx.expected:
            return Verdict(Outcome.UNSUPPORTED, "writer and reader declare no common field", measurements)
        if problems:
            return Verdict(Outcome.FAIL, "; ".join(problems), measurements)
        return Verdict(Outcome.PASS, f"{len(ctx.expected)} fields read back equal", measurements)


def content_hash(asset: Asset) -> tuple[str, str]:
    """A hash of the decoded pixels or samples (not the file bytes), and what was hashed."""
    if asset.media_type.startswith("image/"):
        from PIL import Image

        with Image.open(io.BytesIO(asset.data)) as img:
            img.load()
            desc = f"{img.mode} {img.size[0]}x{img.size[1]}"
            return hashlib.sha256(img.tobytes()).hexdigest(), desc
    if asset.media_type.startswith("audio/"):
        import soundfile

        data, rate = soundfile.read(io.BytesIO(asset.data), dtype="int16", always_2d=True)
        return hashlib.sha256(data.tobytes()).hexdigest(), f"{data.shape[0]} frames x {data.shape[1]} ch @ {rate} Hz"
    raise ValueError(f"no decoder for {asset.media_type}")
