"""Time, file count and size of the HTML scorecard site for 2.6k, 10k and 100k cells, side by side.

    python benchmarks/site_render.py [--cells 2600,10000,100000] [--repeat 1] [--real RESULTS_JSON]

Each bundle is synthetic but shaped like a real run (:func:`site_bundle`): 20 vendors,
seven checks in three families (producer x consumer round trips, a producer's own
output judged, pipelines ``a+b``, catalogue files read with no producer, channels and
variants), every outcome (mostly ``pass``), measurements, two artifacts and an origin
per cell, known issues on the ``xfail`` and ``xpass`` cells.  Each is rendered with the
real renderer (``reports.html.render_site``, as ``aiii run`` calls it: the bundle was
validated when it was written) into a temporary folder.  ``--real`` adds a stored
run's ``results.json``.  The table shows times, sizes and ratios; it asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reports.bundle import validate_bundle  # noqa: E402
from reports.html import render_site  # noqa: E402

VENDORS = [f"vendor-{i:02d}" for i in range(20)]
#: Outcome weights of a plausible nightly: mostly passes, every outcome present.
WEIGHTS = {"pass": 62, "fail": 9, "unsupported": 14, "error": 3, "blocked": 4, "xfail": 3, "xpass": 1,
           "inconclusive": 4}
CHECKS = [
    ("metadata.roundtrip", "metadata", "MUST"),
    ("metadata.preservation", "metadata", "MUST"),
    ("provenance.sign_validate", "provenance", "MUST"),
    ("provenance.pipeline", "provenance", "SHOULD"),
    ("identifiers.iscc_conformance", "identifiers", "MUST"),
    ("identifiers.compare", "identifiers", "SHOULD"),
    ("recognition.iscc", "recognition", "MAY"),
]
CHANNELS = ["none", "jpeg-q50", "social-media"]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _roles(vector: str) -> Iterator[tuple[str, str | None, str | None, str | None, str | None]]:
    """(check, producer, consumer, channel, variant) of every cell one vector takes part in."""
    for p in VENDORS:
        for c in VENDORS:
            yield "metadata.roundtrip", p, c, None, "xmp"
    for p in VENDORS:
        yield "metadata.preservation", p, None, None, None
    for p in VENDORS:
        for c in VENDORS:
            yield "provenance.sign_validate", p, c, None, None
    for a, b in zip(VENDORS[:5], VENDORS[5:10], strict=True):
        for c in VENDORS:
            yield "provenance.pipeline", f"{a}+{b}", c, None, None
    for c in VENDORS:
        for variant in ("text", "image"):
            yield "identifiers.iscc_conformance", None, c, None, variant
    for p in VENDORS[:10]:
        for c in VENDORS[:10]:
            for channel in CHANNELS:
                yield "identifiers.compare", p, c, channel, None
    for c in VENDORS:
        yield "recognition.iscc", None, c, "none", None


def site_bundle(cells: int, seed: int = 14) -> dict[str, Any]:
    """A valid bundle of ``cells`` cells shaped like a real run (see the module's docstring)."""
    rng = random.Random(seed)
    outcomes, weights = list(WEIGHTS), list(WEIGHTS.values())
    levels = {check: level for check, _, level in CHECKS}
    vectors: list[dict[str, Any]] = []
    out: list[dict[str, Any]] = []
    while len(out) < cells:
        vector = f"vec-{len(vectors):03d}-jpg"
        vectors.append({"id": vector, "media_type": "image/jpeg", "sha256": _sha(vector), "licence": "CC0-1.0",
                        "tags": ["photo"], "source": None})
        for check, producer, consumer, channel, variant in _roles(vector):
            if len(out) == cells:
                break
            n = len(out)  # every outcome at least once, even in a tiny bundle
            outcome = outcomes[n] if n < len(outcomes) else rng.choices(outcomes, weights)[0]
            cid = "/".join([check, vector, producer or "-", consumer or "-", channel or variant or "-"])
            expectation = None
            if outcome in ("xfail", "xpass"):
                expectation = {"check": f"{check}/*/{producer or '*'}/*", "reason": "known bug in the XMP writer",
                               "link": f"https://tracker.example/{producer}/{n % 97}", "expires": "2027-06-30"}
            out.append({
                "id": cid, "check": check, "level": levels[check], "producer": producer, "consumer": consumer,
                "vector": vector, "channel": channel, "variant": variant, "outcome": outcome,
                "reason": f"{outcome}: field dc:creator read back as 'Jane Doe' ({n % 7} of 7 fields differ)",
                "measurements": {"fields": 7, "differ": n % 7, "psnr_db": round(30 + (n % 100) / 10, 2),
                                 "read": {"dc:creator": "Jane Doe", "dc:title": f"Title {n % 50}"}},
                "artifacts": {
                    "written": {"sha256": _sha(f"w{n}"), "media_type": "image/jpeg",
                                "path": f"artifacts/{_sha(f'w{n}')}.jpg"},
                    "read": {"sha256": _sha(f"r{n}"), "media_type": "application/json", "path": None},
                },
                "expectation": expectation, "duration_s": 0.0123, "finished": "2026-11-03T10:05:00Z",
                "origin": {"written": {"participant": "hub", "run": "bench-run", "placement": "inproc",
                                       "keyid": None, "verified": None}},
            })
    vendors = [{"id": v, "name": f"Vendor {v[-2:]}", "organisation": "Bench Ltd", "version": "1.2.3",
                "transport": "inproc", "role": "reference", "runnable": True, "reason": None,
                "capabilities": [{"operation": "metadata.write", "media_types": ["image/jpeg"], "options": {}}],
                "retention": None, "homepage": None} for v in VENDORS]
    counts = Counter(c["outcome"] for c in out)
    must = sum(1 for c in out if c["level"] == "MUST" and c["outcome"] in ("fail", "error"))
    return {
        "schema_version": 1,
        "run": {"id": f"bench-{cells}", "profile": "bench", "harness_version": "0.1.0", "methodology_version": "bench",
                "catalogue_sha256": _sha("catalogue"), "started": "2026-11-03T10:00:00Z",
                "finished": "2026-11-03T10:06:00Z", "status": "complete",
                "environment": {"python": "3.11", "platform": "Linux", "machine": "x86_64", "cpu_count": 2,
                                "libraries": {}},
                "options": {}, "plan_digest": {"sha256": _sha("plan"), "components": {
                    k: _sha(k) for k in ("profile", "vectors", "methodology", "channels", "cells")}}},
        "vendors": vendors,
        "checks": [{"id": cid, "title": cid.split(".")[1].replace("_", " "), "family": family, "level": level,
                    "description": f"The {cid} check."} for cid, family, level in CHECKS],
        "vectors": vectors,
        "cells": out,
        "summary": {"outcomes": dict(counts), "must_failures": must, "cells": cells},
    }


def measure(bundle: dict[str, Any], out: Path, repeat: int) -> tuple[float, int, int]:
    """Best render time of ``repeat`` into a fresh ``out``, then its file count and bytes."""
    times = []
    for attempt in range(repeat):
        target = out / f"try{attempt}"
        started = time.perf_counter()
        render_site(bundle, target, validate=False)
        times.append(time.perf_counter() - started)
    files = [p for p in (out / "try0").rglob("*") if p.is_file()]
    return min(times), len(files), sum(p.stat().st_size for p in files)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--cells", default="2600,10000,100000", help="bundle sizes, comma-separated")
    parser.add_argument("--repeat", type=int, default=1, help="renders per bundle; the best time is shown")
    parser.add_argument("--real", type=Path, help="also render this results.json (a stored run's bundle)")
    args = parser.parse_args(argv)
    bundles: list[tuple[str, dict[str, Any]]] = []
    for n in (int(n) for n in args.cells.split(",")):
        bundles.append((f"synthetic {n}", site_bundle(n)))
    validate_bundle(bundles[0][1])  # the generator keeps the schema (the others differ only in size)
    if args.real:
        bundles.append((f"real {args.real.parent.name}", json.loads(args.real.read_text(encoding="utf-8"))))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, (name, bundle) in enumerate(bundles):
            seconds, files, size = measure(bundle, Path(tmp) / str(index), args.repeat)
            rows.append((name, len(bundle["cells"]), seconds, files, size))
            print(f"rendered {name}", file=sys.stderr)
    print(f"{'bundle':<22} {'cells':>8} {'render s':>9} {'files':>7} {'MB':>8} {'us/cell':>8} {'KB/cell':>8}")
    for name, n, seconds, files, size in rows:
        print(f"{name:<22} {n:>8} {seconds:>9.2f} {files:>7} {size / 1e6:>8.1f} {seconds / n * 1e6:>8.0f} "
              f"{size / n / 1e3:>8.2f}")
    synthetic = [row for row in rows if row[0].startswith("synthetic")]
    if len(synthetic) >= 2:
        (_, n0, s0, f0, b0), (_, n1, s1, f1, b1) = synthetic[0], synthetic[-1]
        print(f"{n1 / n0:.1f}x the cells: {s1 / s0:.1f}x the time, {f1 / f0:.1f}x the files, {b1 / b0:.1f}x the bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
