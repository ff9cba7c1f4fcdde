"""Issue 13's figures in one run: what sharding costs, and signing, verifying and merging.

    python benchmarks/federation.py [--cells 10000,100000] [--profile default]

Runs, one after the other in this process, the three benchmarks that measure a federated
run, each printing its own table of counts, times and ratios (none asserts anything):

1. ``shard_cost.py``: the extra producer calls that n = 2, 4, 8 shards of the profile
   make beyond one whole run, beside a naive split (plan level: no adapter is called);
2. ``sign_bundles.py``: the time to sign and to verify bundles of each size;
3. ``merge_bundles.py``: the time to verify, merge, write and sign two signed shard
   bundles of a plan of each size.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import merge_bundles  # noqa: E402
import shard_cost  # noqa: E402
import sign_bundles  # noqa: E402


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--cells", default="10000,100000", help="bundle and plan sizes, comma-separated")
    parser.add_argument("--profile", default="default", help="the profile whose sharding is counted")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    print("== 1. the cost of sharding (extra producer calls for n = 2, 4, 8)", flush=True)
    saved, sys.argv = sys.argv, ["shard_cost.py", "--profile", args.profile]
    try:
        shard_cost.main()
    finally:
        sys.argv = saved
    print("\n== 2. signing and verifying bundles", flush=True)
    sign_bundles.main(["--cells", args.cells])
    print("\n== 3. merging signed shard bundles", flush=True)
    merge_bundles.main(["--cells", args.cells])
    print(f"\n(all three in {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
