"""ISCC generation time per vendor on the vector set, side by side in one run.

    python benchmarks/iscc_speed.py [--repeat 3] [--vendors iscc-core,iscc-lib,iscc-sdk]

Every selected ISCC vendor, in its own placement (iscc-core and iscc-lib in-process,
iscc-sdk in its own environment), makes the full ISCC (meta, content, data, instance,
ISCC-CODE) of every photo and audio vector of the catalogue and its derived formats it
supports, and the data and instance codes alone. The table shows, per media type, the
median wall time per file of each vendor and the ratio to iscc-core, measured in the
same run, interleaved (vendor order rotates every round) so machine noise hits all.
Audio content codes include the fpcalc run (the same for both in-process vendors).
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds over the vector set (default 3)")
    parser.add_argument("--vendors", default="iscc-core,iscc-lib,iscc-sdk")
    args = parser.parse_args()
    catalogue = load_catalogue(ROOT / "test_vectors", state_dir() / "cache")
    vectors = [v for v in catalogue.vectors if {"photo", "audio"} & set(v.tags)]
    transports = start_vendors(args.vendors.split(","))
    if not transports:
        print("no ISCC vendor runnable", file=sys.stderr)
        return 1
    full: dict[tuple[str, str], list[float]] = defaultdict(list)
    bytes_only: dict[tuple[str, str], list[float]] = defaultdict(list)
    names = list(transports)
    try:
        for rnd in range(args.repeat):
            order = names[rnd % len(names):] + names[:rnd % len(names)]
            for vector in vectors:
                asset = Asset(vector.path.read_bytes(), vector.media_type, vector.path.name)
                for vid in order:
                    manifest, transport = transports[vid]
                    if not manifest.capability("identifier.generate", vector.media_type):
                        continue
                    for table, params in ((full, {"scheme": "iscc", "meta": {"name": vector.id}}),
                                          (bytes_only, {"scheme": "iscc", "units": ["data", "instance"]})):
                        started = time.perf_counter()
                        transport.call("identifier.generate", asset, params, 300)
                        table[(vid, vector.media_type)].append(time.perf_counter() - started)
            print(f"round {rnd + 1}/{args.repeat} done", file=sys.stderr)
    finally:
        for _, transport in transports.values():
            transport.close()
    media_types = sorted({mt for _, mt in full})
    for title, table in (("full ISCC (all units)", full), ("data + instance codes only", bytes_only)):
        print(f"\n{title}: median ms per file (ratio to iscc-core)")
        print(f"{'media type':<12}" + "".join(f"{vid:>22}" for vid in names))
        for mt in media_types:
            base = statistics.median(table[("iscc-core", mt)]) if table.get(("iscc-core", mt)) else None
            row = f"{mt:<12}"
            for vid in names:
                times = table.get((vid, mt))
                if not times:
                    row += f"{'-':>22}"
                    continue
                med = statistics.median(times)
                ratio = f" ({med / base:.2f}x)" if base else ""
                row += f"{med * 1000:>14.1f}{ratio:>8}"
            print(row)
    print(f"\n{len(vectors)} vectors, {args.repeat} rounds; ratios < 1 are faster than iscc-core.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
