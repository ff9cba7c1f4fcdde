"""The hub's ingest time per 10k cells, and the time to publish the site from the history.

    python benchmarks/hub_ingest.py [--cells 10000,100000] [--scorecards-up-to 10000]

For each size, two synthetic signed bundles of one plan (benchmarks/sign_bundles.py's
``synthetic_bundle``; the second run has one cell in 50 changed) are ingested into a
fresh SQLite history (runner/ingest.py: signature verified, schema checked, stored),
then the site is published (runner/publish.py): first with the history's pages, diff,
badges and API only, then the runs' own scorecards (reports.render_all, skipped above
``--scorecards-up-to``: that renderer is measured by its own benchmark), then again with
nothing new.  Times and sizes only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sign_bundles import synthetic_bundle  # noqa: E402

from reports.bundle import write_bundle  # noqa: E402
from runner.attest import sign_bundle  # noqa: E402
from runner.history import History  # noqa: E402
from runner.ingest import ingest_bundle  # noqa: E402
from runner.keys import generate, load_registry, load_signer  # noqa: E402
from runner.publish import publish_site  # noqa: E402


def _size(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6


def measure(cells: int, root: Path, scorecards: bool) -> dict[str, float | str]:
    generate(root / "keys", "hub")
    (root / "hub-keys").mkdir()
    (root / "hub-keys" / "hub.pub").write_bytes((root / "keys" / "hub.pub").read_bytes())
    registry = load_registry([], root / "hub-keys")
    signer = load_signer(root / "keys" / "hub.pem")
    first = synthetic_bundle(cells, root / "b1")
    second = copy.deepcopy(first)
    second["run"].update(id=f"bench-{cells}-2", started="2026-11-04T10:00:00Z", finished="2026-11-04T10:06:00Z")
    for cell in second["cells"][::50]:
        cell["outcome"], cell["reason"] = ("fail", "a field lost") if cell["outcome"] == "pass" else ("pass", "read back")
    second["summary"]["outcomes"] = {}
    for cell in second["cells"]:
        second["summary"]["outcomes"][cell["outcome"]] = second["summary"]["outcomes"].get(cell["outcome"], 0) + 1
    second["summary"]["must_failures"] = sum(c["outcome"] in ("fail", "error") for c in second["cells"])
    (root / "b2").mkdir()
    for bundle, folder in ((first, root / "b1"), (second, root / "b2")):
        write_bundle(bundle, folder / "results.json")
        sign_bundle(folder / "results.json", signer, "hub", validate=False)
    history = History(root / "history.sqlite")
    started = time.perf_counter()
    states = [ingest_bundle(root / b, history, registry).state for b in ("b1", "b2")]
    ingest = (time.perf_counter() - started) / 2
    started = time.perf_counter()
    again = ingest_bundle(root / "b1", history, registry).state
    duplicate = time.perf_counter() - started
    site = root / "site"
    started = time.perf_counter()
    publish_site(history, site, scorecards=False)
    pages = time.perf_counter() - started
    cards = float("nan")
    if scorecards:
        started = time.perf_counter()
        publish_site(history, site)
        cards = time.perf_counter() - started
    started = time.perf_counter()
    publish_site(history, site, scorecards=scorecards)
    nothing_new = time.perf_counter() - started
    history.close()
    return {"cells": cells, "states": f"{'+'.join(states)}, then {again}", "ingest": ingest,
            "per_10k": ingest / cells * 10_000, "duplicate": duplicate, "pages": pages, "scorecards": cards,
            "nothing_new": nothing_new, "bundle_mb": _size(root / "b1" / "results.json"),
            "history_mb": _size(root / "history.sqlite"), "site_mb": _size(site)}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--cells", default="10000,100000", help="bundle sizes, comma-separated")
    parser.add_argument("--scorecards-up-to", type=int, default=10_000,
                        help="render the runs' own scorecards only for bundles this large or smaller")
    args = parser.parse_args(argv)
    rows = []
    for cells in (int(c) for c in args.cells.split(",")):
        with tempfile.TemporaryDirectory(prefix="aiii-hub-bench-") as tmp:
            rows.append(measure(cells, Path(tmp), cells <= args.scorecards_up_to))
    print("ingest: verify the signature, check the schema and plan, store (per bundle; two bundles of one plan)")
    print("publish: the history's pages, diff, badges and API; then the runs' scorecards; then nothing new")
    header = (f"{'cells':>8} {'ingest s':>9} {'per 10k s':>10} {'dup s':>6} {'pages s':>8} {'scorecards s':>13} "
              f"{'no-op s':>8} {'bundle MB':>10} {'history MB':>11} {'site MB':>8}  states")
    print(header)
    for r in rows:
        print(f"{r['cells']:>8} {r['ingest']:>9.2f} {r['per_10k']:>10.2f} {r['duplicate']:>6.3f} {r['pages']:>8.2f} "
              f"{r['scorecards']:>13.2f} {r['nothing_new']:>8.2f} {r['bundle_mb']:>10.1f} {r['history_mb']:>11.1f} "
              f"{r['site_mb']:>8.1f}  {r['states']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
