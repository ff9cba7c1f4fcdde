"""A CPU-bound adapter's calls at once: in the harness's process against its process pool.

    python benchmarks/pool_speed.py [--vendor blind-watermark] [--calls 8] [--threads 2]

The vendor's ``watermark.detect`` on its own marks of a few photos, ``--calls`` calls from
``--threads`` threads at once, three ways side by side: in the harness's process one call at
a time (``max_concurrency = 1``, ``--placement inproc``), in the harness's process with all
threads' calls at once (``max_concurrency`` = threads: they contend for the interpreter
lock), and served by its pool of processes (``[adapter] processes``, one call at a time
each: runner/transports/pool.py).  Printed: wall time, seconds per call as the caller sees
it, and calls per second, with the speed-up over the first.  Figures, never assertions.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiii_kit import Asset  # noqa: E402

from runner.model import VendorManifest  # noqa: E402
from runner.paths import state_dir  # noqa: E402
from runner.transports import Transport, make_transport  # noqa: E402
from runner.transports.pool import pool_size  # noqa: E402
from runner.vectors import load_catalogue  # noqa: E402
from runner.vendors import load_manifest  # noqa: E402


def _marks(manifest: VendorManifest, n: int) -> list[tuple[Asset, dict[str, object]]]:
    """``n`` photos marked by the vendor in the harness's process, with their detect params."""
    catalogue = load_catalogue(ROOT / "test_vectors", state_dir() / "cache")
    photos = [v for v in catalogue.vectors if v.media_type == "image/png" and "photo" in v.tags][:n]
    cap = manifest.capability("watermark.embed", "image/png")
    bits = int(cap.options.get("payload_bits", 32)) if cap else 32
    transport = make_transport(replace(manifest, processes=None), "inproc")
    transport.start()
    try:
        out = []
        for i, photo in enumerate(photos):
            key = f"pool-speed-{i}"
            marked = transport.call("watermark.embed", Asset(photo.path.read_bytes(), "image/png", photo.path.name),
                                    {"key": key, "payload": ("10" * bits)[:bits]}, 600)
            assert isinstance(marked, Asset)
            out.append((marked, {"key": key, "payload_bits": bits}))
        return out
    finally:
        transport.close()


def _measure(transport: Transport, marks: list[tuple[Asset, dict[str, object]]], calls: int,
             threads: int) -> tuple[float, list[float]]:
    """Wall time of ``calls`` detect calls from ``threads`` threads, and each call's time."""
    todo = list(range(calls))
    lock = threading.Lock()
    each: list[float] = []

    def worker() -> None:
        while True:
            with lock:
                if not todo:
                    return
                i = todo.pop()
            asset, params = marks[i % len(marks)]
            started = time.perf_counter()
            transport.call("watermark.detect", asset, dict(params), 600)
            with lock:
                each.append(time.perf_counter() - started)

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return time.perf_counter() - started, each


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vendor", default="blind-watermark")
    parser.add_argument("--calls", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    manifest = load_manifest(ROOT / "vendors" / args.vendor / "vendor.toml")
    if manifest.processes is None:
        manifest = replace(manifest, processes="cores")  # what declaring it would give
    marks = _marks(manifest, 4)
    ways = [
        ("in-process, 1 call at a time", replace(manifest, processes=None, max_concurrency=1), "inproc"),
        (f"in-process, {args.threads} calls at once", replace(manifest, processes=None, max_concurrency=args.threads),
         "inproc"),
        (f"pool of {pool_size(manifest)} processes, {manifest.max_concurrency} call each", manifest, "process"),
    ]
    rows = []
    with tempfile.TemporaryDirectory(prefix="aiii-pool-speed-") as logs:
        for label, variant, placement in ways:
            transport = make_transport(variant, placement, Path(logs))
            transport.start()
            try:
                _measure(transport, marks, args.threads, args.threads)  # warm: every server started
                wall, each = _measure(transport, marks, args.calls, args.threads)
            finally:
                transport.close()
            rows.append((label, wall, each))
    print(f"{args.vendor} watermark.detect, {args.calls} calls from {args.threads} threads, 768x512 photos")
    print(f"{'how':<36}{'wall s':>8}{'s/call':>8}{'calls/s':>9}{'speed-up':>10}")
    base = rows[0][1]
    for label, wall, each in rows:
        print(f"{label:<36}{wall:>8.2f}{statistics.median(each):>8.2f}{len(each) / wall:>9.2f}{base / wall:>9.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
