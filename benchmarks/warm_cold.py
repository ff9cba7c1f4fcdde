"""Run the default matrix twice, cold then warm, and print where the time goes.

    python benchmarks/warm_cold.py [--profile default] [--jobs N]

Both runs share a fresh, private state folder (caches, PKI, store): the first starts with
empty caches (derived vectors, producer outputs and answers), the second reuses them.
Printed side by side, with benchmarks/scale.py's figures (which add up: CPU seconds, the
wait for a concurrency slot apart): wall time, necessary work, harness overhead, the
limit, efficiency, calls made versus served from the cache, and the warm/cold ratio.
``benchmarks/scale.py`` adds the changed-vendor run, watermark-image and a million-cell plan.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale import copy_root, cores_here, print_runs, run_child  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aiii-bench-") as name:
        tmp = Path(name)
        env = {"AIII_HOME": str(tmp / "home"), "AIII_ROOT": str(copy_root(tmp / "root"))}
        rows = []
        for label in ("cold", "warm"):
            spec = {"profile": args.profile, "jobs": args.jobs, "out": str(tmp / f"out-{label}"),
                    "store": str(tmp / "home" / "results.sqlite")}
            rows.append((label, run_child("run", spec, env)))
        print_runs(rows, cores_here())
        cold, warm = rows[0][1], rows[1][1]
        if warm["calls"]:
            print("calls the warm run still made:", dict(sorted(warm["by_operation"].items(), key=lambda kv: -kv[1])))
        print(f"warm/cold wall-time ratio: {warm['wall_s'] / cold['wall_s']:.3f}")
        print(f"outcomes identical cold vs warm: {cold['outcomes'] == warm['outcomes']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
