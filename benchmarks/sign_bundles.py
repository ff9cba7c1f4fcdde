"""Time to sign and to verify result bundles of 10k and 100k cells, side by side.

    python benchmarks/sign_bundles.py [--cells 10000,100000] [--repeat 3]

The bundles are synthetic (every outcome, two artifacts per cell, one log per vendor)
and written to a temporary folder; signing and verifying are the library calls behind
``aiii bundle sign`` and ``aiii bundle verify`` (runner/attest.py), with a fresh Ed25519
key.  Each time is the best of ``--repeat``; the table shows times and ratios only, and
asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reports.bundle import write_bundle  # noqa: E402
from runner.attest import sign_bundle, verify_bundle  # noqa: E402
from runner.keys import generate, load_registry, load_signer  # noqa: E402

OUTCOMES = ("pass", "fail", "inconclusive", "error", "unsupported", "blocked", "xfail", "xpass")
VENDORS = [f"v{i:02d}" for i in range(20)]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def synthetic_bundle(cells: int, folder: Path) -> dict[str, Any]:
    """A valid bundle of ``cells`` cells over 20 vendors; each cell cites two artifacts
    (not linked into the folder: only their digests are signed), each vendor has a log."""
    (folder / "logs").mkdir(parents=True, exist_ok=True)
    for vendor in VENDORS:
        (folder / "logs" / f"{vendor}.log").write_text(f"log of {vendor}\n" * 100)
    vectors = [{"id": f"vec{i}", "media_type": "image/jpeg", "sha256": _sha(f"vec{i}"), "licence": "CC0-1.0",
                "tags": [], "source": None} for i in range(50)]
    out = []
    for i in range(cells):
        producer, consumer = VENDORS[i % 20], VENDORS[(i // 20) % 20]
        vector = f"vec{(i // 400) % 50}"
        cid = f"metadata.roundtrip/{vector}/{producer}/{consumer}/v{i // 20000}"
        out.append({
            "id": cid, "check": "metadata.roundtrip", "level": "MUST", "producer": producer, "consumer": consumer,
            "vector": vector, "channel": None, "variant": f"v{i // 20000}", "outcome": OUTCOMES[i % 8],
            "reason": "all 7 fields read back", "measurements": {"fields": 7},
            "artifacts": {"produced": {"sha256": _sha(f"p{i}"), "media_type": "image/jpeg", "path": None},
                          "read": {"sha256": _sha(f"r{i}"), "media_type": "application/json", "path": None}},
            "expectation": None, "duration_s": 0.01, "finished": "2026-11-03T10:05:00Z",
        })
    vendors = [{"id": v, "name": v, "organisation": "Bench", "version": "1", "transport": "inproc", "role": "reference",
                "runnable": True, "reason": None, "capabilities": [], "retention": None, "homepage": None} for v in VENDORS]
    counts = Counter(c["outcome"] for c in out)
    return {
        "schema_version": 1,
        "run": {"id": f"bench-{cells}", "profile": "bench", "harness_version": "0.1.0", "methodology_version": "bench",
                "catalogue_sha256": _sha("catalogue"), "started": "2026-11-03T10:00:00Z",
                "finished": "2026-11-03T10:06:00Z", "status": "complete",
                "environment": {"python": "3.11", "platform": "Linux", "machine": "x86_64", "cpu_count": 2, "libraries": {}},
                "options": {}, "plan_digest": {"sha256": _sha("plan"), "components": {
                    k: _sha(k) for k in ("profile", "vectors", "methodology", "channels", "cells")}}},
        "vendors": vendors,
        "checks": [{"id": "metadata.roundtrip", "title": "t", "family": "metadata", "level": "MUST", "description": "d"}],
        "vectors": vectors,
        "cells": out,
        "summary": {"outcomes": dict(counts), "must_failures": counts["fail"] + counts["error"], "cells": cells},
    }


def best(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--cells", default="10000,100000", help="bundle sizes, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is shown")
    args = parser.parse_args(argv)
    sizes = [int(n) for n in args.cells.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root / "keys", "bench")
        signer = load_signer(root / "keys" / "bench.pem")
        (root / "registry" / "bench-vendor" / "keys").mkdir(parents=True)
        (root / "registry" / "bench-vendor" / "keys" / "bench.pub").write_bytes((root / "keys" / "bench.pub").read_bytes())
        registry = load_registry([root / "registry"])
        for n in sizes:
            folder = root / f"b{n}"
            path = write_bundle(synthetic_bundle(n, folder), folder / "results.json")
            checked_s = best(lambda path=path: sign_bundle(path, signer, "bench-vendor"), args.repeat)  # type: ignore[misc]
            sign_s = best(lambda path=path: sign_bundle(path, signer, "bench-vendor", validate=False),  # type: ignore[misc]
                          args.repeat)
            verify_s = best(lambda path=path: verify_bundle(path, registry), args.repeat)  # type: ignore[misc]
            mib = path.stat().st_size / 2**20
            env_mib = (folder / "results.dsse.json").stat().st_size / 2**20
            rows.append((n, mib, env_mib, checked_s, sign_s, verify_s))
    print("sign: as `aiii run --sign-key` (the bundle was validated when written); sign+schema: as `aiii bundle sign`")
    print(f"{'cells':>8} {'bundle MiB':>11} {'envelope MiB':>13} {'sign+schema s':>14} {'sign s':>8} {'verify s':>9} "
          f"{'sign us/cell':>13} {'verify us/cell':>15}")
    for n, mib, env_mib, checked_s, sign_s, verify_s in rows:
        print(f"{n:>8} {mib:>11.1f} {env_mib:>13.1f} {checked_s:>14.2f} {sign_s:>8.2f} {verify_s:>9.2f} "
              f"{sign_s / n * 1e6:>13.1f} {verify_s / n * 1e6:>15.1f}")
    if len(rows) >= 2:
        (n0, *_, c0, s0, v0), (n1, *_, c1, s1, v1) = rows[0], rows[-1]
        print(f"{n1 // n0}x the cells: sign+schema {c1 / c0:.1f}x the time, sign {s1 / s0:.1f}x, verify {v1 / v0:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
