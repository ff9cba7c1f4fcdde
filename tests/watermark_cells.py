"""Real-looking result cells of the watermark checks, for the figure and report tests.

The shapes are those ``watermark.robustness`` and ``watermark.crosstalk`` write into
``measurements``; the trial statistics come from a seeded generator, so every test sees
the same numbers.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

PAYLOAD_BITS = 32
THRESHOLD = {"value": 26, "rule": "binomial tail: P(X>=26 | n=32, p=1/2) = 2.8e-4 <= 1e-3",
             "target_fpr": 0.001, "supported": True}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def wilson(k: int, n: int, z: float = 1.96) -> list[float]:
    """The Wilson score interval of k successes in n trials (what the check reports)."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
    return [round(max(0.0, centre - half), 3), round(min(1.0, centre + half), 3)]


def _cell(check: str, vector: str, producer: str, consumer: str, variant: str, outcome: str, reason: str,
          measurements: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "/".join([check, vector, producer, consumer, variant]),
        "check": check,
        "level": "SHOULD",
        "producer": producer,
        "consumer": consumer,
        "vector": vector,
        "channel": None if variant == "none" else variant,
        "variant": variant,
        "outcome": outcome,
        "reason": reason,
        "measurements": measurements,
        "artifacts": {},
        "expectation": None,
        "duration_s": 1.5,
        "finished": "2026-11-22T03:00:00Z",
    }


def robustness(vendor: str, channel: str, outcome: str, *, kind: str = "image", trials: int = 48,
               flips: float = 0.0, seed: int = 0, tpr: float | None = None,
               tpr_ci95: list[float] | None = None, zero_bit: bool = False) -> dict[str, Any]:
    """A ``watermark.robustness`` cell; each marked trial loses bits with probability ``flips``."""
    rng = random.Random(f"{vendor}/{channel}/{seed}")
    if zero_bit:
        positives: list[float] = [round(rng.gauss(0.8 - flips, 0.08), 3) for _ in range(trials)]
        negatives: list[float] = [round(rng.gauss(0.1, 0.08), 3) for _ in range(trials)]
        threshold = {"value": 0.5, "rule": "vendor score threshold", "target_fpr": 0.001, "supported": True}
    else:
        positives = [sum(rng.random() >= flips for _ in range(PAYLOAD_BITS)) for _ in range(trials)]
        negatives = [sum(rng.random() < 0.5 for _ in range(PAYLOAD_BITS)) for _ in range(trials)]
        threshold = dict(THRESHOLD)
    detected = sum(p >= threshold["value"] for p in positives)
    false_positives = sum(n >= threshold["value"] for n in negatives)
    mark = {
        "kind": kind, "channel": channel, "mode": "zero-bit" if zero_bit else "multi-bit",
        "payload_bits": None if zero_bit else PAYLOAD_BITS,
        "statistic": "score" if zero_bit else "matching bits",
        "threshold": threshold,
        "trials": trials, "detected": detected,
        "tpr": round(detected / trials, 3) if tpr is None else tpr,
        "tpr_ci95": tpr_ci95 or wilson(detected, trials),
        "bit_accuracy_mean": None if zero_bit else round(sum(positives) / (trials * PAYLOAD_BITS), 3),
        "clean_trials": trials, "false_positives": false_positives, "fpr": round(false_positives / trials, 3),
        "fpr_ci95": wilson(false_positives, trials),
        "evidence": "insufficient" if outcome == "inconclusive" else "sufficient",
        "positives": positives, "negatives": negatives,
    }
    reason = f"detected {detected}/{trials} after {channel}"
    return _cell("watermark.robustness", f"corpus:watermark-{kind}", vendor, vendor, channel, outcome, reason,
                 {"watermark": mark})


def robustness_error(vendor: str, channel: str, outcome: str = "error", *, kind: str = "image") -> dict[str, Any]:
    """A ``watermark.robustness`` cell that measured nothing (the adapter crashed, ...)."""
    return _cell("watermark.robustness", f"corpus:watermark-{kind}", vendor, vendor, channel, outcome,
                 f"{vendor}: watermark.detect timed out", {})


def crosstalk(embedder: str, detector: str, channel: str, false_detections: int, trials: int = 48,
              outcome: str = "pass") -> dict[str, Any]:
    rate = round(false_detections / trials, 3)
    data = {"channel": channel, "trials": trials, "false_detections": false_detections, "rate": rate,
            "rate_ci95": wilson(false_detections, trials)}
    return _cell("watermark.crosstalk", "corpus:watermark-image", embedder, detector, channel, outcome,
                 f"{false_detections}/{trials} false detections", {"crosstalk": data})


def watermark_cells() -> list[dict[str, Any]]:
    """Two image embedders over three channels and an audio embedder over two, with
    every kind of square: pass, fail, inconclusive, error, unsupported; and crosstalk."""
    return [
        robustness("blind-watermark", "none", "pass", seed=1),
        robustness("blind-watermark", "jpeg-q50", "pass", flips=0.04, seed=2),
        robustness("blind-watermark", "resize-0.5", "fail", flips=0.3, seed=3),
        robustness("acme-mark", "none", "pass", seed=4),
        robustness("acme-mark", "jpeg-q50", "inconclusive", trials=8, flips=0.12, seed=5),
        robustness_error("acme-mark", "resize-0.5"),
        robustness("voicesign", "none", "pass", kind="audio", zero_bit=True, seed=6),
        robustness("voicesign", "mp3-128k", "pass", kind="audio", zero_bit=True, flips=0.2, seed=7),
        robustness_error("voicesign", "resample-16k", "unsupported", kind="audio"),
        crosstalk("blind-watermark", "acme-mark", "none", 0),
        crosstalk("acme-mark", "blind-watermark", "none", 2, outcome="fail"),
        crosstalk("blind-watermark", "acme-mark", "jpeg-q50", 1),
    ]


def bundle_with(cells: list[dict[str, Any]], figures: list[dict[str, Any]] | None) -> dict[str, Any]:
    """A whole bundle around ``cells`` (vendors, checks and vectors they name)."""
    from collections import Counter

    vendor_ids = sorted({v for c in cells for v in (c["producer"], c["consumer"]) if v})
    vectors = sorted({c["vector"] for c in cells})
    checks = sorted({c["check"] for c in cells})
    bundle: dict[str, Any] = {
        "schema_version": 1,
        "run": {
            "id": "run-wm", "profile": "watermark", "harness_version": "0.1.0", "methodology_version": "2026.11-1",
            "catalogue_sha256": _sha("catalogue"), "started": "2026-11-22T03:00:00Z",
            "finished": "2026-11-22T03:10:00Z", "status": "complete",
            "environment": {"python": "3.11.9", "platform": "Linux", "machine": "x86_64", "cpu_count": 8,
                            "libraries": {}},
            "options": {},
        },
        "vendors": [
            {"id": v, "name": v, "organisation": f"{v} org", "version": "1.0", "transport": "inproc",
             "role": "reference", "runnable": True, "reason": None,
             "capabilities": [{"operation": "watermark.embed", "media_types": ["image/png"], "options": {}}],
             "retention": None, "homepage": None}
            for v in vendor_ids
        ],
        "checks": [{"id": c, "title": c, "family": "watermark", "level": "SHOULD", "description": ""} for c in checks],
        "vectors": [{"id": v, "media_type": "application/json", "sha256": _sha(v), "licence": "CC0-1.0",
                     "tags": ["corpus"], "source": None} for v in vectors],
        "cells": cells,
        "summary": {"outcomes": dict(Counter(c["outcome"] for c in cells)),
                    "must_failures": sum(1 for c in cells if c["level"] == "MUST" and c["outcome"] in ("fail", "error")),
                    "cells": len(cells)},
    }
    if figures is not None:
        bundle["figures"] = figures
    return bundle
