"""Content recognition: perceptual hashes and audio fingerprints across implementations.

Vendors declare ``fingerprint.compute`` with the algorithms they implement
(``options.algorithms``: ahash, phash, dhash, whash, colorhash, pdq, chromaprint) and the
distance their match decision uses (``options.distance``); ISCC vendors join with their
Content-Codes (``iscc-content``) through ``identifier.generate``.  Checks plan by
algorithm, never by vendor: every two implementations of one algorithm are held against
each other (conformance/recognition/fingerprints.py).

Checks:
- ``recognition.agreement``: two implementations fingerprint every vector and derived
  format bit-identically, or within the profile's tolerance; differences with distances;
- ``recognition.cross``: A's fingerprint of the original matches B's of each channel's
  output at the profile's threshold (the network's real question);
- ``recognition.robustness``: per pair (A = B too) and channel, the true-positive rate at a
  threshold calibrated on pairs of different works for the target false-positive rate,
  with Wilson intervals, ROC curves and heatmaps (the watermark family's statistics);
- ``recognition.compare``: each vendor's own ``fingerprint.compare`` on pairs whose
  distance the harness planted (Hamming exact; Chromaprint's alignment and bit-error rate);
- ``recognition.quality``: a quality gate keeps and drops the same fingerprints in both
  implementations of an algorithm (PDQ's scales differ);
- ``recognition.differential``: Hypothesis-generated images and clips; a disagreement is
  shrunk to a minimal counterexample;
- ``recognition.iscc``: ISCC content codes survive channels and tell works apart
  (formerly ``identifiers.recognition``).
"""

import hashlib
from functools import cache
from importlib.metadata import version
from pathlib import Path

from conformance.family import Family
from conformance.recognition.agreement import Agreement, Cross
from conformance.recognition.compare import Compare
from conformance.recognition.differential import Differential
from conformance.recognition.generated import TRANSFORM, generate
from conformance.recognition.iscc import IsccRecognition
from conformance.recognition.quality import QualityGate
from conformance.recognition.robustness import Robustness


@cache
def _generator_version(name: str) -> str:
    """The generated media depend on the generator's code and the libraries that encode them."""
    code = hashlib.sha256(Path(__file__).with_name("generated.py").read_bytes()).hexdigest()[:16]
    libs = ",".join(f"{d}={version(d)}" for d in ("numpy", "pillow", "soundfile"))
    return f"{code};{libs}"


FAMILY = Family(
    name="recognition",
    checks=[Agreement(), Cross(), Compare(), Robustness(), QualityGate(), Differential(), IsccRecognition()],
    transforms={TRANSFORM: generate},
    transform_version=_generator_version,
)

__all__ = ["FAMILY"]
