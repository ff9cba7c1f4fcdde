"""Time to merge result bundles of 10k and 100k cells, side by side.

    python benchmarks/merge_bundles.py [--cells 10000,100000] [--shards 2] [--repeat 1] [--site]

Each plan is a synthetic bundle (benchmarks/sign_bundles.py's, with a plan digest whose
``cells`` component is its cell ids) cut into ``--shards`` shard bundles, each signed
by a fresh hub key.  The stages are the library calls behind ``aiii merge``
(runner/merge.py, runner/cli_merge.py): load (verify each signature, validate each
bundle), merge (plan digest, duplicates, conflicts, completeness), write (validate and
write results.json, junit.xml and summary.md; with ``--site`` the HTML site too;
``benchmarks/site_render.py`` times it alone) and sign the merged bundle.  Each time is the best of ``--repeat``; the
table asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sign_bundles import synthetic_bundle  # noqa: E402

from reports import render_all  # noqa: E402
from reports.bundle import write_bundle  # noqa: E402
from reports.junit import write_junit  # noqa: E402
from reports.markdown import write_summary  # noqa: E402
from runner.attest import sign_bundle  # noqa: E402
from runner.keys import generate, load_registry, load_signer  # noqa: E402
from runner.merge import load_input, merge  # noqa: E402
from runner.plan_digest import digest_of  # noqa: E402


def shard_bundles(cells: int, shards: int, folder: Path) -> list[dict[str, Any]]:
    """A synthetic plan of ``cells`` cells in ``shards`` shard bundles."""
    whole = synthetic_bundle(cells, folder / "plan")
    ids = sorted(c["id"] for c in whole["cells"])
    whole["run"]["plan_digest"] = digest_of({"profile": "bench", "vectors": {}, "methodology": "bench",
                                              "channels": {}, "cells": ids, "pki": "bench"}).as_dict()
    out = []
    for i in range(shards):
        part = whole["cells"][i::shards]
        counts = Counter(c["outcome"] for c in part)
        out.append({**whole, "run": {**whole["run"], "id": f"bench-{cells}-{i + 1}"}, "cells": part,
                    "summary": {"outcomes": dict(counts), "must_failures": counts["fail"] + counts["error"],
                                "cells": len(part)},
                    "shard": {"i": i + 1, "n": shards, "cells": sorted(c["id"] for c in part), "plan_cells": cells,
                              "plan_digest": whole["run"]["plan_digest"]["sha256"]}})
    return out


def timed(fn: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--cells", default="10000,100000", help="plan sizes, comma-separated")
    parser.add_argument("--shards", type=int, default=2, help="shard bundles per plan")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement; the best is shown")
    parser.add_argument("--site", action="store_true", help="render the HTML site too")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root / "keys", "hub")
        signer = load_signer(root / "keys" / "hub.pem")
        (root / "hub").mkdir()
        (root / "hub" / "hub.pub").write_bytes((root / "keys" / "hub.pub").read_bytes())
        registry = load_registry([], root / "hub")
        for n in (int(x) for x in args.cells.split(",")):
            paths = []
            for i, bundle in enumerate(shard_bundles(n, args.shards, root / f"p{n}")):
                path = write_bundle(bundle, root / f"p{n}" / f"s{i + 1}" / "results.json")
                sign_bundle(path, signer, "hub", validate=False)
                paths.append(path)
            best: list[float] | None = None
            for attempt in range(args.repeat):
                out = root / f"out{n}-{attempt}"
                load_s, inputs = timed(lambda paths=paths: [load_input(i, p, registry) for i, p in enumerate(paths)])
                merge_s, merged = timed(lambda inputs=inputs: merge(inputs))
                if args.site:
                    write_s, _ = timed(lambda merged=merged, out=out: render_all(merged.bundle, out))
                else:
                    write_s, _ = timed(lambda merged=merged, out=out: (
                        write_bundle(merged.bundle, out / "results.json"),
                        write_junit(merged.bundle, out / "junit.xml", validate=False),
                        write_summary(merged.bundle, out / "summary.md", validate=False)))
                sign_s, _ = timed(lambda out=out: sign_bundle(out / "results.json", signer, "hub", validate=False))
                times = [load_s, merge_s, write_s, sign_s, load_s + merge_s + write_s + sign_s]
                best = times if best is None or times[-1] < best[-1] else best
                assert merged.complete and len(merged.bundle["cells"]) == n
            assert best is not None
            rows.append((n, *best))
    what = "results.json, junit.xml, summary.md, site/" if args.site else "results.json, junit.xml, summary.md"
    print(f"{args.shards} signed shards per plan; load = verify + validate each; write = {what}")
    print(f"{'cells':>8} {'load s':>8} {'merge s':>8} {'write s':>8} {'sign s':>8} {'total s':>8} {'us/cell':>8}")
    for n, load_s, merge_s, write_s, sign_s, total in rows:
        print(f"{n:>8} {load_s:>8.2f} {merge_s:>8.2f} {write_s:>8.2f} {sign_s:>8.2f} {total:>8.2f} {total / n * 1e6:>8.1f}")
    if len(rows) >= 2:
        (n0, *_, t0), (n1, *_, t1) = rows[0], rows[-1]
        print(f"{n1 // n0}x the cells: {t1 / t0:.1f}x the time")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
