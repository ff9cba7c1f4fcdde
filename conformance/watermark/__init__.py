"""Watermarks: robustness through distribution channels, false positives, cross-talk,
quality, coexistence and C2PA soft bindings.

A watermark decision needs a threshold, and none of the libraries gives one that says
what it costs: the harness derives it.  Multi-bit marks: the binomial tail (``n`` fair
coin bits reach ``k`` matches with probability at most the target false-positive rate).
Zero-bit scores: calibrated on clean content (every clean vector through every channel,
detected with many keys), at the lowest score that no more than the target share of
clean trials reaches.  Rates are reported with Wilson intervals; a cell whose trials
cannot support its claim is ``inconclusive`` ("insufficient evidence").

Robustness, false-positive and cross-talk cells judge a statistic over a corpus: their
vector is a corpus vector (``corpus:watermark-image``), and they run their trials in
``expand`` through the shared, cached step function, so a trial that several cells need
(an embedding, a clean detection) runs once.
"""

from conformance.corpus import key, payload
from conformance.family import Family
from conformance.watermark.coexistence import Coexistence
from conformance.watermark.crosstalk import CrossTalk
from conformance.watermark.false_positives import FalsePositives
from conformance.watermark.quality import Quality, audio_quality, image_quality
from conformance.watermark.robustness import Robustness
from conformance.watermark.soft_binding import WatermarkSoftBinding

FAMILY = Family(
    name="watermark",
    checks=[Robustness(), FalsePositives(), CrossTalk(), Quality(), Coexistence(), WatermarkSoftBinding()],
)

__all__ = ["FAMILY", "audio_quality", "image_quality", "key", "payload"]
