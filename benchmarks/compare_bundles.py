"""Compare two result bundles cell by cell: id, outcome, reason and measurements.

    python benchmarks/compare_bundles.py A/results.json B/results.json

Timings, run ids and dates are not compared.  Prints the counts and the first differing
cells; exits 1 when any cell differs (or is only in one bundle), 0 otherwise.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

SHOWN = 10


def cells(path: Path) -> dict[str, dict[str, Any]]:
    bundle = json.loads(path.read_text(encoding="utf-8"))
    return {c["id"]: {k: c.get(k) for k in ("outcome", "reason", "measurements")} for c in bundle["cells"]}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    a, b = cells(Path(argv[0])), cells(Path(argv[1]))
    only_a, only_b = sorted(set(a) - set(b)), sorted(set(b) - set(a))
    differ = sorted(i for i in set(a) & set(b) if a[i] != b[i])
    print(f"A: {len(a)} cells, B: {len(b)} cells, same: {len(set(a) & set(b)) - len(differ)}, "
          f"differ: {len(differ)}, only in A: {len(only_a)}, only in B: {len(only_b)}")
    for cid in only_a[:SHOWN]:
        print(f"only in A: {cid}")
    for cid in only_b[:SHOWN]:
        print(f"only in B: {cid}")
    for cid in differ[:SHOWN]:
        keys = [k for k in a[cid] if a[cid][k] != b[cid][k]]
        print(f"differs: {cid}: " + "; ".join(f"{k}: {json.dumps(a[cid][k])[:200]} != {json.dumps(b[cid][k])[:200]}"
                                              for k in keys))
    return 1 if (differ or only_a or only_b) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
