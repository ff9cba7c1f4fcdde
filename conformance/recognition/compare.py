"""``recognition.compare``: a vendor's own ``fingerprint.compare`` on pairs of known distance.

A platform matches with the implementation's own comparison, not the harness's: PDQ and
the imagehash family by Hamming distance, Chromaprint by aligning two sequences of
sub-fingerprints (rusty-chromaprint's ``match_fingerprints``).  Each algorithm gets pairs
whose distance the harness planted from a fixed seed: identical, one bit apart, exactly
the profile's match threshold apart, and unrelated; for Chromaprint, identical, 5 % of
bits flipped, shifted by 12 sub-fingerprints with 3 % flipped, and unrelated.  Every
vendor that declares the operation is asked about each pair:

- Hamming distances must equal the harness's count exactly;
- a bit-error rate must be within 0.005 of the harness's at the planted alignment, at the
  planted offset when the vendor gives one;
- a vendor's own match decision, where it makes one, must say yes for related pairs and no
  for the unrelated one.

A vendor whose distance is of another kind is inconclusive, with its answer shown.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiii_kit import recognition as reference

from conformance.base import Answers, CellContext, Check, PlanContext, planned
from conformance.recognition.agreement import THRESHOLD
from conformance.recognition.fingerprints import ALGORITHMS, ISCC, per_algorithm
from runner.errors import PlanError
from runner.model import NO_INPUT, Cell, Outcome, Verdict, vendor_step

COMPARE = "fingerprint.compare"
#: Bits of one bit-string fingerprint: PDQ's 256, imagehash's colour hash at its default
#: binbits of 3 (14 x 3), every other hash an 8 x 8 grid.
LENGTH = {"pdq": 256, "colorhash": 42}
#: Sub-fingerprints of a Chromaprint sequence: about 19 s of audio.
SEQUENCE = 150
#: How far a vendor's bit-error rate may be from the harness's at the planted alignment.
RATE_TOLERANCE = 0.005


@dataclass(frozen=True)
class KnownPair(CellContext):
    """Two fingerprints, what the harness planted between them, and what it measures."""

    algorithm: str
    encoding: str
    a_hex: str
    b_hex: str
    related: bool
    distance: float
    offset: int | None = None


def _bits(rng: random.Random, n: int) -> list[int]:
    return [rng.getrandbits(1) for _ in range(n)]


def _flip(bits: list[int], k: int, rng: random.Random) -> list[int]:
    out = list(bits)
    for i in rng.sample(range(len(bits)), k):
        out[i] ^= 1
    return out


def _noisy(words: list[int], rate: float, rng: random.Random) -> list[int]:
    return [w ^ sum(1 << i for i in range(32) if rng.random() < rate) for w in words]


def bit_pairs(algorithm: str, threshold: int, seed: int) -> dict[str, KnownPair]:
    """Identical, one bit, ``threshold`` bits and unrelated pairs of ``algorithm``'s length."""
    rng = random.Random(f"{seed}/{algorithm}")
    n = LENGTH.get(algorithm, 64)
    a = _bits(rng, n)
    flips = {"identical": 0, "one-bit": 1, "at-threshold": min(threshold, n)}
    made = {name: _flip(a, k, rng) for name, k in flips.items()}
    made["unrelated"] = _bits(rng, n)
    a_hex = reference.bits_to_hex(a)
    out = {}
    for name, b in made.items():
        b_hex = reference.bits_to_hex(b)
        out[name] = KnownPair(algorithm, "bits", a_hex, b_hex, name != "unrelated",
                              float(reference.hamming_distance(a_hex, b_hex)))
    return out


def sequence_pairs(seed: int) -> dict[str, KnownPair]:
    """Chromaprint-shaped pairs: identical, noisy, shifted and noisy, unrelated."""
    rng = random.Random(f"{seed}/chromaprint")
    a = [rng.getrandbits(32) for _ in range(SEQUENCE)]
    made = {"identical": (a, 0), "noisy-5%": (_noisy(a, 0.05, rng), 0),
            "shifted-12": (_noisy(a[12:], 0.03, rng), 12),
            "unrelated": ([rng.getrandbits(32) for _ in range(SEQUENCE)], None)}
    a_hex = reference.uint32_to_hex(a)
    out = {}
    for name, (b, offset) in made.items():
        if offset is None:  # no alignment to plant: the harness's best one, for the record
            rate = reference.aligned_bit_error_rate(a, b).bit_error_rate
        else:
            overlap = min(len(b), len(a) - offset)
            rate = sum((a[j + offset] ^ b[j]).bit_count() for j in range(overlap)) / (32 * overlap)
        out[name] = KnownPair("chromaprint", "uint32be", a_hex, reference.uint32_to_hex(b), offset is not None,
                              round(rate, 6), offset)
    return out


def _compared(ctx: PlanContext) -> list[tuple[str, str]]:
    """(vendor, algorithm) for every selected vendor's ``fingerprint.compare``."""
    wanted = ctx.config.params.get("algorithms")
    out = []
    for v in ctx.with_op(COMPARE):
        for cap in (c for c in v.capabilities if c.operation == COMPARE):
            for algorithm in map(str, cap.options.get("algorithms", [])):
                if algorithm in ALGORITHMS and algorithm != ISCC and (wanted is None or algorithm in wanted):
                    out.append((v.id, algorithm))
    return sorted(set(out))


class Compare(Check):
    id = "recognition.compare"
    title = "A vendor's own fingerprint comparison on pairs of known distance"
    family = "recognition"
    description = (
        "Pairs of fingerprints whose distance the harness planted (identical, one bit, the match threshold,"
        " unrelated; for Chromaprint noisy and shifted sequences) go to every vendor's fingerprint.compare:"
        " Hamming distances must be exact, a bit-error rate within 0.005 at the planted alignment, and a"
        " vendor's own match decision right."
    )

    def plan(self, ctx: PlanContext) -> Iterable[Cell]:
        seed = int(ctx.config.params.get("seed", 20261205))
        threshold = per_algorithm(ctx, "threshold", THRESHOLD)
        if ctx.corpus is None:
            raise PlanError("this planner cannot make corpus vectors")
        vector = ctx.corpus("recognition-known-pairs", [])
        known: dict[str, dict[str, KnownPair]] = {}
        for vendor, algorithm in _compared(ctx):
            if algorithm not in known:
                known[algorithm] = (sequence_pairs(seed) if algorithm == "chromaprint"
                                    else bit_pairs(algorithm, int(threshold.get(algorithm, 10)), seed))
            for name, pair in known[algorithm].items():
                cell = self.cell(ctx, vector=vector.id, producer=None, consumer=vendor, variant=f"{algorithm}/{name}")
                params = {"algorithm": algorithm, "a": {"encoding": pair.encoding, "fingerprint_hex": pair.a_hex},
                          "b": {"encoding": pair.encoding, "fingerprint_hex": pair.b_hex}}
                yield planned(cell, steps={"compare": vendor_step(vendor, COMPARE, NO_INPUT, params)}, context=pair)

    def judge(self, cell: Cell, answers: Answers) -> Verdict:
        pair = cell.context_as(KnownPair)
        report = answers.report("compare")
        got, kind, match, offset = report["distance"], report["distance_kind"], report.get("match"), report.get("offset")
        truth = "hamming" if pair.encoding == "bits" else "bit-error-rate"
        m: dict[str, Any] = {"algorithm": pair.algorithm, "planted": {"related": pair.related, "offset": pair.offset},
                             "harness_distance": pair.distance, "distance_kind": kind, "vendor_distance": got,
                             "vendor_match": match, "vendor_offset": offset, "vendor_score": report.get("score")}
        if kind != truth:
            return Verdict(Outcome.INCONCLUSIVE, f"the vendor's distance is {kind} {got:g}; the harness measures {truth}", m)
        wrong = []
        if truth == "hamming" and got != pair.distance:
            wrong.append(f"{got:g} bits differ, the harness counts {pair.distance:g}")
        if truth == "bit-error-rate" and pair.related:
            if abs(got - pair.distance) > RATE_TOLERANCE:
                wrong.append(f"bit-error rate {got:.4f}, the harness measures {pair.distance:.4f} at the planted alignment")
            if offset is not None and offset != pair.offset:
                wrong.append(f"offset {offset}, planted {pair.offset}")
        if match is not None and match != pair.related:
            wrong.append(f"its match decision says {'same' if match else 'different'} for "
                         f"{'a related' if pair.related else 'an unrelated'} pair")
        said = f"{kind} {got:g}" + (f" at offset {offset}" if offset is not None else "") + (
            f", match {match}" if match is not None else "")
        if wrong:
            return Verdict(Outcome.FAIL, "; ".join(wrong), m)
        return Verdict(Outcome.PASS, f"{said}, as planted ({pair.distance:g})", m)
