"""Watermark statistics: derived thresholds, intervals, rate claims, calibration, ROC, payloads
and quality measures.  Whole runs with the light vendors and a detector answering at random
are in tests/e2e/test_watermark_e2e.py."""

from __future__ import annotations

import io
import math
from fractions import Fraction

import numpy as np
import pytest
import soundfile as sf
from helpers import ROOT

from conformance.statistics import (
    binomial_tail,
    bit_threshold,
    calibrate,
    judge_rate_at_least,
    judge_rate_at_most,
    roc,
    trials_to_show_fpr,
    wilson,
)
from conformance.watermark import audio_quality, image_quality, payload

# -- thresholds and intervals, against numbers worked out by hand ------------------------


def test_binomial_thresholds_match_the_hand_computed_tail() -> None:
    # P(X >= 26 | n = 32) = (C(32,6) + C(32,5) + ... + C(32,0)) / 2^32
    #                     = (906192 + 201376 + 35960 + 4960 + 496 + 32 + 1) / 4294967296
    assert binomial_tail(32, 26) == pytest.approx(1149017 / 2**32, rel=1e-12)
    # one bit fewer adds C(32,7) = 3365856 and crosses 1e-3: 26 is the threshold
    assert binomial_tail(32, 25) == pytest.approx(4514873 / 2**32, rel=1e-12)
    assert binomial_tail(32, 25) > 1e-3 >= binomial_tail(32, 26)
    # DOMAIN.md's table for a false-positive rate of 1e-3
    assert bit_threshold(16, 1e-3) == 15  # (C(16,1) + 1) / 65536 = 17/65536 = 2.6e-4
    assert binomial_tail(16, 14) == pytest.approx((120 + 16 + 1) / 2**16)  # 2.1e-3: too likely
    assert bit_threshold(32, 1e-3) == 26
    assert bit_threshold(64, 1e-3) == 45
    assert bit_threshold(20, 1e-3) == 18  # aware's 20 bits: (190 + 20 + 1) / 2^20 = 2.0e-4
    assert bit_threshold(8, 1e-3) is None  # all 8 bits by chance: 1/256 > 1e-3
    assert binomial_tail(4, 2, Fraction(1, 2)) == pytest.approx(11 / 16)


def test_wilson_intervals_and_the_trials_a_small_rate_needs() -> None:
    # zero successes: the upper bound is z^2 / (n + z^2)
    z2 = 1.959963984540054**2
    assert wilson(0, 48) == (0.0, pytest.approx(z2 / (48 + z2)))
    assert wilson(48, 48) == (pytest.approx(48 / (48 + z2)), 1.0)
    lo, hi = wilson(24, 48)
    assert lo < 0.5 < hi and hi - 0.5 == pytest.approx(0.5 - lo)
    assert wilson(0, 0) == (0.0, 1.0)
    # showing a rate <= 1e-3 with no false positive at all takes n with z^2/(n+z^2) <= 1e-3
    n = trials_to_show_fpr(1e-3)
    assert wilson(0, n)[1] <= 1e-3 < wilson(0, n - 1)[1]


def test_rate_claims_pass_fail_or_say_insufficient_evidence() -> None:
    assert judge_rate_at_least(48, 48, 0.9, "detected").verdict == "pass"
    assert judge_rate_at_least(4, 4, 0.9, "detected").verdict == "inconclusive"  # [0.51, 1]
    assert "insufficient evidence" in judge_rate_at_least(4, 4, 0.9, "detected").reason
    assert judge_rate_at_least(10, 48, 0.9, "detected").verdict == "fail"
    assert judge_rate_at_most(0, 100, 1e-3, "fp").verdict == "inconclusive"
    assert judge_rate_at_most(0, 4000, 1e-3, "fp").verdict == "pass"
    assert judge_rate_at_most(20, 1000, 1e-3, "fp").verdict == "fail"


def test_calibration_keeps_clean_trials_below_the_threshold() -> None:
    clean = [0.1, 0.5, 0.2, 0.9, 0.3]
    cal = calibrate(clean, 1e-3)
    assert cal.threshold is not None and cal.threshold > 0.9 and cal.false_positives == 0
    assert not cal.supported and "needs 3838" in cal.rule
    # with enough clean trials the threshold sits just above the allowed share
    many = [i / 10000 for i in range(10000)]
    cal = calibrate(many, 1e-3)
    assert cal.supported and cal.false_positives <= 10 and 0.998 < cal.threshold < 0.9992
    # the same values, but only 300 of them independent (vectors x keys): not enough
    dependent = calibrate(many, 1e-3, independent=300)
    assert dependent.threshold == cal.threshold and not dependent.supported and "300 independent" in dependent.rule


def test_roc_points_and_area_worked_by_hand() -> None:
    fpr, tpr, auc = roc([3, 4, 5], [1, 2, 3])
    # thresholds 5, 4, 3, 2, 1
    assert fpr == [0, 0, 0, 1 / 3, 2 / 3, 1]
    assert tpr == [0, 1 / 3, 2 / 3, 1, 1, 1]
    assert auc == pytest.approx(1 - 1 / 18)  # the tie at 3 costs half a third of a third
    assert roc([1.0], [1.0])[2] == pytest.approx(0.5)
    assert math.isnan(roc([], [1.0])[2])


def test_payloads_are_deterministic_and_not_patterns() -> None:
    a = payload(7, "kodim01", 0, 32)
    assert a == payload(7, "kodim01", 0, 32) and len(a) == 32 and set(a) <= {"0", "1"}
    assert a != payload(7, "kodim01", 1, 32) != payload(7, "kodim03", 0, 32)
    assert len(payload(7, "v", 0, 300)) == 300


# -- quality metrics ---------------------------------------------------------------------


def test_image_quality_of_identical_and_of_noisy_images() -> None:
    data = (ROOT / "test_vectors/images/kodak/kodim03.png").read_bytes()
    assert image_quality(data, data) == {"psnr_db": 999.0, "ssim": 1.0}
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        pixels = np.asarray(img.convert("RGB")).astype(np.int16)
    noisy = np.clip(pixels + np.random.default_rng(1).integers(-8, 9, pixels.shape), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(noisy).save(out, format="PNG")
    q = image_quality(data, out.getvalue())
    # uniform noise on [-8, 8]: mean square about 24, PSNR about 10 log10(255^2 / 24) = 34.3 dB
    assert 33.5 < q["psnr_db"] < 35.0 and q["ssim"] < 0.95


def test_audio_snr_of_a_known_noise_level() -> None:
    rate = 16000
    t = np.arange(rate * 2) / rate
    clean = 0.5 * np.sin(2 * np.pi * 440 * t)
    noise = np.random.default_rng(2).normal(0, 1, clean.shape)
    noise *= math.sqrt(np.mean(clean**2) / np.mean(noise**2)) / 10  # 20 dB below the signal
    a, b = io.BytesIO(), io.BytesIO()
    sf.write(a, clean, rate, format="WAV", subtype="FLOAT")
    sf.write(b, clean + noise, rate, format="WAV", subtype="FLOAT")
    q = audio_quality(a.getvalue(), b.getvalue())
    assert q["snr_db"] == pytest.approx(20.0, abs=0.05)
    assert q["segmental_snr_db"] == pytest.approx(20.0, abs=1.0)


# -- whole runs --------------------------------------------------------------------------
