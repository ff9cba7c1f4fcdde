"""``recognition.compare``: the pairs the harness plants, and how a vendor's own distance and
match decision are judged against them.  The vendors' real answers are in
tests/e2e/test_recognition_e2e.py."""

from __future__ import annotations

from typing import Any

from aiii_kit import recognition as reference
from test_recognition import _answers, _ctx, _vendor

from conformance.recognition.compare import Compare, KnownPair, bit_pairs, sequence_pairs
from runner.model import Capability, Outcome, StepResult

COMPARERS = [
    _vendor("imagehash", Capability("fingerprint.compare", ("application/octet-stream",),
                                    {"algorithms": ["phash", "colorhash"], "distance": "hamming"})),
    _vendor("rust", Capability("fingerprint.compare", ("application/octet-stream",),
                               {"algorithms": ["pdq", "chromaprint"]})),
]


def _said(distance: float, kind: str = "hamming", **extra: Any) -> StepResult:
    return StepResult(ok=True, report={"algorithm": "x", "distance": distance, "distance_kind": kind, **extra})


def test_planted_bit_pairs_are_as_far_apart_as_their_names_say() -> None:
    pairs = bit_pairs("pdq", 31, seed=7)
    assert {n: p.distance for n, p in pairs.items() if p.related} == {"identical": 0, "one-bit": 1, "at-threshold": 31}
    assert 90 < pairs["unrelated"].distance < 166 and not pairs["unrelated"].related  # about half of 256
    assert len(bytes.fromhex(pairs["identical"].a_hex)) == 32
    assert len(bytes.fromhex(bit_pairs("colorhash", 10, seed=7)["one-bit"].b_hex)) == 6  # 42 bits
    assert bit_pairs("pdq", 31, seed=7) == pairs and bit_pairs("pdq", 31, seed=8) != pairs


def test_planted_sequences_keep_their_offset_and_noise() -> None:
    pairs = sequence_pairs(seed=7)
    shifted = pairs["shifted-12"]
    a, b = reference.hex_to_uint32(shifted.a_hex), reference.hex_to_uint32(shifted.b_hex)
    found = reference.aligned_bit_error_rate(a, b)
    assert found.offset == shifted.offset == 12 and abs(found.bit_error_rate - shifted.distance) < 1e-6
    assert 0.02 < shifted.distance < 0.04 and 0.04 < pairs["noisy-5%"].distance < 0.06
    assert pairs["identical"].distance == 0 and pairs["unrelated"].distance > 0.3


def test_one_cell_per_vendor_algorithm_and_pair_asks_the_vendor_with_both_fingerprints() -> None:
    cells = list(Compare().plan(_ctx("recognition.compare", COMPARERS, [])))
    variants = sorted((c.consumer, c.variant) for c in cells)
    assert len(cells) == 16 and ("rust", "chromaprint/shifted-12") in variants and ("imagehash", "colorhash/one-bit") in variants
    cell = next(c for c in cells if c.variant == "pdq/at-threshold")
    step = cell.steps["compare"]
    assert step.operation == "fingerprint.compare" and step.vendor == "rust"
    pair = cell.context_as(KnownPair)
    assert step.params["a"] == {"encoding": "bits", "fingerprint_hex": pair.a_hex} and pair.distance == 31
    only = list(Compare().plan(_ctx("recognition.compare", COMPARERS, [], algorithms=["phash"])))
    assert {c.variant.split("/")[0] for c in only} == {"phash"}


def test_a_hamming_distance_must_be_exact_and_a_match_decision_right() -> None:
    check = Compare()
    cells = {(c.consumer, c.variant): c for c in check.plan(_ctx("recognition.compare", COMPARERS, []))}
    one = cells[("imagehash", "phash/one-bit")]
    assert check.judge(one, _answers({"compare": _said(1)})).outcome == Outcome.PASS
    wrong = check.judge(one, _answers({"compare": _said(2)}))
    assert wrong.outcome == Outcome.FAIL and "2 bits differ, the harness counts 1" in wrong.reason
    unrelated = cells[("rust", "pdq/unrelated")]
    far = unrelated.context_as(KnownPair).distance
    said_same = check.judge(unrelated, _answers({"compare": _said(far, match=True)}))
    assert said_same.outcome == Outcome.FAIL and "says same for an unrelated pair" in said_same.reason
    other_kind = check.judge(one, _answers({"compare": _said(0.9, "cosine")}))
    assert other_kind.outcome == Outcome.INCONCLUSIVE and "cosine" in other_kind.reason


def test_a_bit_error_rate_must_be_the_planted_one_at_the_planted_offset() -> None:
    check = Compare()
    cells = {(c.consumer, c.variant): c for c in check.plan(_ctx("recognition.compare", COMPARERS, []))}
    shifted = cells[("rust", "chromaprint/shifted-12")]
    rate = shifted.context_as(KnownPair).distance
    good = check.judge(shifted, _answers({"compare": _said(rate + 0.001, "bit-error-rate", offset=12, match=True)}))
    assert good.outcome == Outcome.PASS and "at offset 12" in good.reason
    misaligned = check.judge(shifted, _answers({"compare": _said(0.49, "bit-error-rate", offset=0, match=False)}))
    assert misaligned.outcome == Outcome.FAIL
    assert "offset 0, planted 12" in misaligned.reason and "says different for a related pair" in misaligned.reason
    unrelated = cells[("rust", "chromaprint/unrelated")]  # any rate; only the decision counts
    assert check.judge(unrelated, _answers({"compare": _said(0.3, "bit-error-rate", match=False)})).outcome == Outcome.PASS
