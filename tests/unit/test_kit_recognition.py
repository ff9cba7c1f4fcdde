"""The adapter kit's content recognition helpers (``aiii_kit.recognition``): the protocol's
two fingerprint encodings, and the harness's reference distances."""

from __future__ import annotations

import random

import pytest
from aiii_kit import AdapterError
from aiii_kit.recognition import (
    aligned_bit_error_rate,
    bits_to_hex,
    hamming_distance,
    hex_to_bits,
    hex_to_uint32,
    uint32_to_hex,
)


def test_bits_are_the_big_endian_integer_imagehash_prints() -> None:
    # a 64-bit hash is imagehash's 16 digits as they are
    bits = "1101000111000100101100011011001110100011101001111000110010001100"
    assert bits_to_hex(bits) == "d1c4b1b3a3a78c8c"
    assert bits_to_hex([c == "1" for c in bits]) == "d1c4b1b3a3a78c8c"
    # a 42-bit colour hash is imagehash's 11 digits ("06600018000") with a zero in front
    colour = f"{0x06600018000:042b}"
    assert bits_to_hex(colour) == "006600018000"
    assert hex_to_bits("006600018000", 42) == colour
    assert hex_to_bits("d1c4b1b3a3a78c8c") == bits
    assert bits_to_hex("") == "" and bits_to_hex("1") == "01"


def test_bits_refuse_what_is_not_a_fingerprint_of_that_length() -> None:
    with pytest.raises(AdapterError, match="front padding"):
        hex_to_bits("ff6600018000", 42)
    with pytest.raises(AdapterError, match="do not hold"):
        hex_to_bits("00006600018000", 42)  # a byte too many
    with pytest.raises(AdapterError, match="lower-case hex"):
        hex_to_bits("D1C4", 16)
    with pytest.raises(AdapterError, match="whole bytes"):
        hex_to_bits("d1c", 12)
    with pytest.raises(ValueError, match="not a bit string"):
        bits_to_hex("0102")


def test_uint32be_takes_fpcalc_signed_values_modulo_2_32() -> None:
    raw = [-1, 0, 1, -2147483648, 2147483647, 0x12345678]
    text = uint32_to_hex(raw)
    assert text == "ffffffff" "00000000" "00000001" "80000000" "7fffffff" "12345678"
    assert hex_to_uint32(text) == [0xFFFFFFFF, 0, 1, 0x80000000, 0x7FFFFFFF, 0x12345678]
    with pytest.raises(AdapterError, match="32-bit words"):
        hex_to_uint32("ffffff")


def test_hamming_distance_counts_differing_bits() -> None:
    assert hamming_distance("d1c4b1b3a3a78c8c", "d1c4b1b3a3a78c9c") == 1
    assert hamming_distance("00", "ff") == 8
    assert hamming_distance("", "") == 0
    with pytest.raises(AdapterError, match="different lengths"):
        hamming_distance("d1c4", "d1c4b1")


def test_aligned_bit_error_rate_finds_the_shift_of_a_cut_recording() -> None:
    rng = random.Random(16)
    a = [rng.getrandbits(32) for _ in range(120)]
    b = a[7:100]  # b starts 7 sub-fingerprints into a
    found = aligned_bit_error_rate(a, b)
    assert (found.offset, found.overlap, found.bit_error_rate, found.differing_bits) == (7, 93, 0.0, 0)
    # and the other way round: a is b's offset -7
    assert aligned_bit_error_rate(b, a).offset == -7
    # 3 flipped bits in every ninth word (11 words): the rate is 33 of 93 * 32 bits
    noisy = [v ^ (0b10101 if i % 9 == 0 else 0) for i, v in enumerate(b)]
    found = aligned_bit_error_rate(a, noisy)
    assert found.offset == 7 and found.differing_bits == 3 * 11
    assert found.bit_error_rate == pytest.approx(33 / (93 * 32))


def test_aligned_bit_error_rate_of_unrelated_sequences_is_about_a_half() -> None:
    rng = random.Random(9)
    a = [rng.getrandbits(32) for _ in range(100)]
    b = [rng.getrandbits(32) for _ in range(100)]
    found = aligned_bit_error_rate(a, b, max_offset=10)
    assert 0.4 < found.bit_error_rate < 0.5  # the best of 21 offsets is a little under a half


def test_aligned_bit_error_rate_keeps_its_window_and_overlap() -> None:
    a = [0] * 20
    b = [1] * 20
    # identical at every offset: the offset nearest 0 wins
    assert aligned_bit_error_rate(a, a).offset == 0
    assert aligned_bit_error_rate(a, b).bit_error_rate == 1 / 32
    with pytest.raises(AdapterError, match="overlapping"):
        aligned_bit_error_rate(a, b, max_offset=5, min_overlap=30)
    with pytest.raises(AdapterError, match="empty"):
        aligned_bit_error_rate([], b)
    # a periodic sequence matches at several offsets: the one nearest 0 wins
    shifted = aligned_bit_error_rate([1, 2, 3, 1, 2, 3, 1, 2, 3], [2, 3, 1, 2, 3, 1], max_offset=4)
    assert shifted.bit_error_rate == 0 and shifted.offset == 1
