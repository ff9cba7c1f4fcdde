"""Distribution-channel time per named channel, side by side in one run.

    python benchmarks/channels_speed.py [--repeat 3] [--images kodim05,kodim12] [--audio sorohan-solo-trumpet,librispeech-198-209-0000]

Every named channel of ``conformance/channels.py`` (each step of its chain, as the
executor runs them) on a couple of catalogue vectors of its kind, after one warm-up
round (imports, ffmpeg's first start).  Rounds are interleaved, the channel order
rotating every round, so machine noise hits all.  The table shows the median wall time
per vector and the ratio to the reference channel of its kind (jpeg-q90 for images,
mp3-128k for audio), measured in the same run.  Most image channels write PNG, whose
zlib compression takes most of their time.
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

from conformance.channels import CHANNELS, NAMED, NamedChannel  # noqa: E402
from runner.paths import state_dir  # noqa: E402
from runner.vectors import load_catalogue  # noqa: E402

REFERENCE = {"image": "jpeg-q90", "audio": "mp3-128k"}


def apply(channel: NamedChannel, asset: Asset) -> Asset:
    for name, params in channel.steps:
        asset = CHANNELS[name](asset, dict(params))
    return asset


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds (default 3), after one warm-up round")
    parser.add_argument("--images", default="kodim05,kodim12", help="image vector ids")
    parser.add_argument("--audio", default="sorohan-solo-trumpet,librispeech-198-209-0000", help="audio vector ids")
    args = parser.parse_args()
    catalogue = load_catalogue(ROOT / "test_vectors", state_dir() / "cache", derive=False)
    chosen = {"image": args.images.split(","), "audio": args.audio.split(",")}
    assets = {kind: [(v.id, Asset(v.path.read_bytes(), v.media_type)) for v in catalogue.select(ids=ids)]
              for kind, ids in chosen.items()}
    names = list(NAMED)
    times: dict[str, list[float]] = defaultdict(list)
    for rnd in range(args.repeat + 1):
        order = names[rnd % len(names):] + names[:rnd % len(names)]
        for name in order:
            channel = NAMED[name]
            for _vid, asset in assets[channel.kind]:
                started = time.perf_counter()
                apply(channel, asset)
                if rnd:  # round 0 warms up
                    times[name].append(time.perf_counter() - started)
        print(f"round {rnd}/{args.repeat} done" + (" (warm-up)" if not rnd else ""), file=sys.stderr)
    for kind in ("image", "audio"):
        ref = REFERENCE[kind]
        base = statistics.median(times[ref])
        print(f"\n{kind}: {', '.join(vid for vid, _ in assets[kind])}: median ms per vector (ratio to {ref})")
        print(f"{'channel':<20}{'ms':>10}{'ratio':>9}  steps")
        for name in names:
            channel = NAMED[name]
            if channel.kind != kind:
                continue
            med = statistics.median(times[name])
            steps = " -> ".join(" ".join([t.removeprefix("channel."), *(f"{k}={v}" for k, v in p.items())])
                                for t, p in channel.steps)
            print(f"{name:<20}{med * 1000:>10.1f}{med / base:>8.2f}x  {steps}")
    print(f"\n{args.repeat} timed rounds; each vector once per round per channel.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
