"""Run the default matrix twice, cold then warm, and print where the time goes.

    python benchmarks/warm_cold.py [--profile default] [--jobs N]

Both runs use a fresh, private state folder (caches, PKI, store): the first starts with
empty caches (derived vectors, producer outputs and answers), the second reuses them.
Printed side by side: wall time, time inside adapter calls versus harness overhead,
calls made versus served from the cache, and the warm/cold ratio.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aiii-bench-") as tmp:
        os.environ["AIII_HOME"] = tmp
        from conformance.discovery import discover
        from runner.run import RunOptions, execute_run

        rows = []
        for label in ("cold", "warm"):
            opts = RunOptions(profile=args.profile, jobs=args.jobs, out=str(Path(tmp) / f"out-{label}"),
                              store=str(Path(tmp) / "results.sqlite"))
            started = time.perf_counter()
            summary = execute_run(opts, discover(), progress=False)
            wall = time.perf_counter() - started
            rows.append((label, wall, summary))
        print(f"{'run':<6} {'wall s':>8} {'cells':>6} {'adapter s':>10} {'overhead s':>11} {'adapter %':>10} {'calls':>6} {'cached':>7}")
        for label, wall, s in rows:
            adapter = s.timing.adapter_s / max(args.jobs, 1)  # summed over workers: per-worker share
            print(f"{label:<6} {wall:>8.1f} {s.cells:>6} {adapter:>10.1f} {wall - adapter:>11.1f} "
                  f"{100 * adapter / wall:>9.0f}% {s.timing.calls:>6} {s.timing.cached:>7}")
        if rows[1][2].timing.calls:
            print("calls the warm run still made:", dict(rows[1][2].timing.by_operation.most_common()))
        cold, warm = rows[0][1], rows[1][1]
        print(f"warm/cold wall-time ratio: {warm / cold:.3f}")
        same = rows[0][2].outcomes == rows[1][2].outcomes
        print(f"outcomes identical cold vs warm: {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
