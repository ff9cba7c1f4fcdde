"""What splitting a plan into shards costs: extra producer calls for n = 1, 2, 4, 8, side by side.

    python benchmarks/shard_cost.py [--profile default] [--run] [--jobs N]

Plans the profile (no adapter is called) and splits it as ``aiii run --shard i/n`` does
(runner/shards.py).  For each n it prints the cells per shard (fewest, most), the
producer calls the n shards make together and the extra over one whole run, as a count
and a percentage of the whole run's.  Beside it, for contrast, the naive split: the cells
in id order cut into n runs of equal length.  Counted at plan level, so steps a check adds
at run time (the watermark trials) are not in it; with ``--run`` the profile also runs
once, in process, recording every step each cell needed, expansions included, and the
same table is printed for the producer calls the run really made.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SHARDS = (1, 2, 4, 8)


def naive(cells: Sequence[Any], n: int) -> list[list[Any]]:
    """Cells in id order cut into n runs of (nearly) equal length."""
    ordered = sorted(cells, key=lambda c: c.id)
    size = math.ceil(len(ordered) / n) if ordered else 1
    return [ordered[k * size:(k + 1) * size] for k in range(n)]


def table(title: str, cells: Sequence[Any], calls_of: Callable[[Sequence[Any]], int],
          expanding: Collection[str]) -> None:
    from runner.shards import split

    whole = calls_of(cells)
    print(f"\n{title}: {len(cells)} cells, {whole} producer calls in one whole run")
    print(f"{'n':>3} {'cells/shard min':>16} {'max':>5} {'producer calls':>15} {'extra':>6} {'extra %':>8}"
          f"   {'naive calls':>11} {'naive extra %':>14}")
    for n in SHARDS:
        shards = split(cells, n, expanding)
        total = sum(calls_of(s) for s in shards)
        naive_total = sum(calls_of(s) for s in naive(cells, n))
        sizes = [len(s) for s in shards]
        print(f"{n:>3} {min(sizes):>16} {max(sizes):>5} {total:>15} {total - whole:>6} "
              f"{100 * (total - whole) / max(whole, 1):>7.1f}%   {naive_total:>11} "
              f"{100 * (naive_total - whole) / max(whole, 1):>13.1f}%")


def recorded_run(profile: str, jobs: int, tmp: Path) -> dict[str, set[Any]]:
    """Run the profile in process; every step each cell asked for (planned and expanded), by cell id."""
    import runner.run
    from conformance.discovery import discover
    from runner.executor import Executor
    from runner.model import Step, StepResult

    needed: dict[str, set[Step]] = {}
    lock = threading.Lock()

    class Recording(Executor):
        """Notes every step a cell asks for: through the step function its check expands
        it with (trials run in threads of their own) and the steps of the cell it judges."""

        def run_cells(self, cells: Any, judge: Any, on_result: Any, expand: Any = None) -> None:
            def tracked(cell: Any, step: Callable[[Step], StepResult]) -> Any:
                def noted(s: Step) -> StepResult:
                    with lock:
                        needed.setdefault(cell.id, set()).add(s)
                    return step(s)

                judged = expand(cell, noted) if expand is not None else cell
                with lock:
                    needed.setdefault(cell.id, set()).update(judged.steps.values())
                return judged

            super().run_cells(cells, judge, on_result, tracked)

    runner.run.Executor = Recording  # type: ignore[misc]  # a benchmark's instrument, nothing else
    opts = runner.run.RunOptions(profile=profile, jobs=jobs, out=str(tmp / "out"), store=str(tmp / "results.sqlite"),
                                 fail_on="never")
    started = time.perf_counter()
    summary = runner.run.execute_run(opts, discover(), progress=False)
    print(f"ran {summary.cells} cells in {time.perf_counter() - started:.0f} s, {summary.timing.calls} adapter calls")
    return needed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--run", action="store_true", help="also run the profile once and count what it really called")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aiii-bench-") as tmp:
        os.environ["AIII_HOME"] = tmp
        from conformance.discovery import discover
        from runner.run import Run, RunOptions
        from runner.shards import expanding_checks, producer_calls, producer_keys

        suite = discover()
        started = time.perf_counter()
        plan = Run(RunOptions(profile=args.profile), suite).cells
        expanding = expanding_checks(suite.checks)
        print(f"planned {args.profile}: {len(plan)} cells in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        table("plan level (planned chains)", plan, producer_calls, expanding)
        print(f"(split and counted in {time.perf_counter() - started:.1f} s)")
        if args.run:
            needed = recorded_run(args.profile, args.jobs, Path(tmp))
            memo: dict[Any, str] = {}
            keys = {cid: producer_keys(steps, memo) for cid, steps in needed.items()}

            def really(cells: Sequence[Any]) -> int:
                return len(set().union(set(), *(keys.get(c.id, set()) for c in cells)))

            table("run level (steps the run made, expansions included)", plan, really, expanding)
    return 0


if __name__ == "__main__":
    sys.exit(main())
