"""Watermark embed and detect time per vendor, side by side in one run.

    python benchmarks/watermark_speed.py [--repeat 3] [--vendors blind-watermark,voicesign,...]

Every selected watermark vendor, in its own placement (the light ones in-process, the
torch ones in their own environment), marks every photo (PNG) or audio clip (WAV) of the
catalogue it declares, then detects on its own output. Rounds interleave the vendors
(the order rotates every round) so machine noise hits all of them. Printed: the median
wall time per file of embed and of detect, per media type, with the ratio to the
fastest vendor of that media type; audio times are also given per 10 s of audio.
Per-transform times: benchmarks/channels_speed.py; the watermark profiles' cost with a
cold and a warm cache: benchmarks/warm_cold.py --profile watermark-image.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiii_kit import Asset  # noqa: E402
from vendor_transports import start_vendors  # noqa: E402

from runner.paths import state_dir  # noqa: E402
from runner.vectors import load_catalogue  # noqa: E402

LIGHT = "blind-watermark,voicesign"


def _duration(vector_path: Path) -> float | None:
    import soundfile as sf

    try:
        return float(sf.info(str(vector_path)).duration)
    except RuntimeError:
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds over the vector set (default 3)")
    parser.add_argument("--vendors", default=LIGHT, help=f"comma-separated vendor ids (default {LIGHT})")
    parser.add_argument("--limit", type=int, default=4, help="files per media type (default 4)")
    args = parser.parse_args()
    catalogue = load_catalogue(ROOT / "test_vectors", state_dir() / "cache")
    pngs = [v for v in catalogue.vectors if v.media_type == "image/png" and {"photo", "photo-extra"} & set(v.tags)]
    wavs = [v for v in catalogue.vectors if v.media_type == "audio/wav" and "audio" in v.tags]
    vectors = pngs[:args.limit] + wavs[:args.limit]
    transports = start_vendors(args.vendors.split(","))
    if not transports:
        print("no watermark vendor runnable", file=sys.stderr)
        return 1
    times: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    seconds: dict[str, list[float]] = defaultdict(list)
    names = list(transports)
    try:
        for rnd in range(args.repeat):
            order = names[rnd % len(names):] + names[:rnd % len(names)]
            for vector in vectors:
                asset = Asset(vector.path.read_bytes(), vector.media_type, vector.path.name)
                for vid in order:
                    manifest, transport = transports[vid]
                    cap = manifest.capability("watermark.embed", vector.media_type)
                    if not cap:
                        continue
                    bits = cap.options.get("payload_bits")
                    params = {"key": f"bench-{rnd}", **({"payload": ("10" * bits)[:bits]} if bits else {})}
                    started = time.perf_counter()
                    marked = transport.call("watermark.embed", asset, params, 600)
                    times[(vid, vector.media_type, "embed")].append(time.perf_counter() - started)
                    detect = {"key": params["key"], **({"payload_bits": bits} if bits else {})}
                    started = time.perf_counter()
                    transport.call("watermark.detect", marked, detect, 600)
                    times[(vid, vector.media_type, "detect")].append(time.perf_counter() - started)
                    if vector.media_type.startswith("audio/"):
                        seconds[vid].append(_duration(vector.path) or 0.0)
            print(f"round {rnd + 1}/{args.repeat} done", file=sys.stderr)
    finally:
        for _, transport in transports.values():
            transport.close()
    for mt in sorted({mt for _, mt, _ in times}):
        present = [vid for vid in names if (vid, mt, "embed") in times]
        print(f"\n{mt}: median ms per file (ratio to the fastest of this media type)")
        print(f"{'vendor':<32}{'embed ms':>12}{'ratio':>8}{'detect ms':>12}{'ratio':>8}")
        medians = {(vid, op): statistics.median(times[(vid, mt, op)]) for vid in present for op in ("embed", "detect")}
        fastest = {op: min(medians[(vid, op)] for vid in present) for op in ("embed", "detect")}
        for vid in present:
            row = f"{vid:<32}"
            for op in ("embed", "detect"):
                row += f"{medians[(vid, op)] * 1000:>12.0f}{medians[(vid, op)] / fastest[op]:>7.1f}x"
            print(row)
        if mt.startswith("audio/"):
            for vid in present:
                total = sum(seconds[vid]) or 1.0
                per10 = sum(times[(vid, mt, "embed")]) / total * 10
                print(f"  {vid}: embed {per10:.2f} s per 10 s of audio")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
