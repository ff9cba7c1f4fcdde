"""Sizing the hosted nightly (issue 15): fifty fast synthetic vendors on the full profiles.

    python benchmarks/nightly.py [--vendors 50] [--workers 2] [--shards PROFILE=K,...] [--plan-only]

Fifty synthetic vendors (benchmarks/synthetic_vendor/: real adapters served over the
protocol in the ``process`` placement, spread over the families in proportion to today's
``vendors/``, each with the capabilities of the real vendor it imitates, each call a few
microseconds of work) are planned on every profile in ``profiles/``, then the nightly's
profiles (the full ones: every other profile is a subset of one of them) are executed with
``aiii run --executor dask-local --workers N``.  A whole profile can be too much for a small
machine, so each runs a deterministic shard ``--shard 1/K`` and says so; the whole profile
is extrapolated from it by cells.  Prints, side by side:

1. **planning**, one child process per profile: cells, the distinct steps planned (vendor
   calls and transforms of the cells' chains; watermark trials are expanded when they run,
   so those are counted by the run), the vendors with a cell, the time of loading,
   validating and planning (derived vectors made beforehand, untimed) and peak RSS;
2. **execution**, one child per profile: wall, steps run (calls and transforms computed),
   the Dask tasks submitted (cell groups and input vectors), and the **scheduler's overhead
   per task**, from Dask's own task stream (``distributed.get_task_stream``): with W workers
   busy for D seconds (from the client's first submission to the last result kept), and
   the tasks' compute spans summing to C, *slot idle per task* is (W x D - C) / tasks:
   every second a worker's only thread ran nothing, whatever the cause (dispatch, moving
   results to the client, the client's writes, waiting for the last task at the tail);
   *dispatch gap* is the mean time between one task's end and the next task's start on
   the same worker (Dask's own latency when work is waiting); *client per task* the time
   the client spends keeping one task's artifacts and step-cache entries.  A worker starts
   the vendors it serves inside its first task, so that start-up is compute here;
3. **bundle size**: ``results.json`` bytes, bytes per cell and gzip size.

Each child has a fresh ``AIII_HOME``; the repository is read, never changed.  Figures,
never assertions.  The cost model built on these figures is README.md's "Cost model of
the nightly".
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import math
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from scale import ChildFailed, cores_here, run_child  # noqa: E402
from synthetic_vendor import make_vendors  # noqa: E402

#: The nightly's profiles: every other profile in profiles/ is a subset of one of these.
NIGHTLY = ["metadata", "provenance", "identifiers", "optout", "recognition", "watermark-image-full",
           "watermark-audio-full"]
#: Core-seconds one real vendor's calls cost in its family's profile, from the figures already
#: measured on 2 cores (wall x 2: idle and the harness's share included, so an upper bound):
#: blind-watermark's watermark-image cold run, 565 s (README, Watermarks); blind-watermark,
#: dwtDct and dwtDctSvd together 21 minutes and rivaGan's whole profile about 2 hours
#: (watermark-image-full's description); voicesign's watermark-audio about 15 minutes, and
#: watermark-audio-full about an hour with aware and resemble-perth (their descriptions).
VENDOR_CORE_S = {"blind-watermark": 2 * 565.0, "invisible-watermark-dwtdct": 2 * 21 * 60 / 3,
                 "invisible-watermark-dwtdctsvd": 2 * 21 * 60 / 3, "invisible-watermark-rivagan": 2 * (120 - 21) * 60.0,
                 "voicesign": 2 * 15 * 60.0, "aware": (60 - 15) * 60.0, "resemble-perth": (60 - 15) * 60.0}
#: Necessary work per cell of the light families: the default profile's, 44.6 CPU-s for 2651 cells (scale.py).
LIGHT_CELL_S = 44.6 / 2651
#: A night, and the cores of one worker host.
NIGHT_S, HOST_CORES = 8 * 3600, 2

#: Shards run by default, chosen so each profile's run takes a minute or two on 2 cores.
SHARDS = {"metadata": 8, "provenance": 16, "identifiers": 4, "optout": 4, "recognition": 4,
          "watermark-image-full": 64, "watermark-audio-full": 64}


# -- in the child ----------------------------------------------------------------------


def _child_plan(spec: dict[str, Any]) -> dict[str, Any]:
    """Plan one profile with the synthetic vendors; no adapter is called."""
    from conformance.discovery import discover
    from runner.dask_plan import cell_vendors
    from runner.model import Step
    from runner.paths import ROOT, state_dir
    from runner.run import Run, RunOptions
    from runner.vectors import load_catalogue

    suite = discover()
    load_catalogue(ROOT / "test_vectors", state_dir() / "cache")  # derived vectors made once, untimed
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    run = Run(RunOptions(profile=spec["profile"], vendors=["syn-*"], extra_vendor_dirs=[spec["vendor_dir"]],
                         out="out"), suite)
    plan_s = time.perf_counter() - started
    steps: set[Step] = set()
    for cell in run.cells:
        for top in cell.steps.values():
            step: Step | str = top
            while isinstance(step, Step) and step not in steps:
                steps.add(step)
                step = step.source
    vendors = sorted(set().union(*(cell_vendors(c) for c in run.cells))) if run.cells else []
    return {"cells": len(run.cells), "calls": sum(1 for s in steps if s.vendor), "transforms": sum(1 for s in steps if not s.vendor),
            "vendors": vendors, "plan_s": plan_s, "base_rss_kb": base_rss,
            "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def _child_run(spec: dict[str, Any]) -> dict[str, Any]:
    """One ``aiii run --executor dask-local`` in this process, with Dask's task stream recorded."""
    import distributed

    import runner.dask_executor as dask_executor
    from conformance.discovery import discover
    from runner.run import RunOptions, execute_run

    phase: dict[str, float] = {}
    stream: list[dict[str, Any]] = []
    kept = {"s": 0.0, "n": 0}
    client_of, keep = dask_executor._client, dask_executor._keep

    @contextlib.contextmanager
    def recorded(opts: Any, docker: bool) -> Any:
        started = time.perf_counter()
        with client_of(opts, docker) as client:
            phase["cluster_s"] = time.perf_counter() - started
            phase["start"] = time.time()  # the task stream's clock
            with distributed.get_task_stream(client) as ts:
                yield client
            phase["end"] = time.time()
            stream.extend(ts.data)

    def timed_keep(*args: Any) -> None:
        started = time.perf_counter()
        keep(*args)
        kept["s"] += time.perf_counter() - started
        kept["n"] += 1

    import runner.run as run_module

    start_vendors, render_run = run_module.start_vendors, run_module.render_run

    def timed(name: str, fn: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                phase[name] = phase.get(name, 0.0) + time.perf_counter() - started
        return wrapper

    dask_executor._client, dask_executor._keep = recorded, timed_keep  # type: ignore[assignment]
    run_module.start_vendors = timed("vendors_s", start_vendors)  # type: ignore[assignment]
    run_module.render_run = timed("render_s", render_run)  # type: ignore[assignment]
    opts = RunOptions(profile=spec["profile"], vendors=spec["vendors"], extra_vendor_dirs=[spec["vendor_dir"]],
                      out=spec["out"], store=spec["store"], shard=spec["shard"], executor="dask-local",
                      workers=spec["workers"])
    started = time.perf_counter()
    summary = execute_run(opts, discover(), progress=False)
    wall = time.perf_counter() - started
    bundle = (Path(spec["out"]) / "results.json").read_bytes()
    t = summary.timing
    return {"wall_s": wall, "cells": summary.cells, "outcomes": summary.outcomes, "calls": t.calls,
            "transforms": t.transforms, "cached": t.cached, "necessary_s": t.necessary_cpu_s,
            "phase": phase, "tasks": _tasks(stream, phase, spec["workers"]), "keep_s": kept["s"], "kept": kept["n"],
            "bundle_bytes": len(bundle), "bundle_gzip": len(gzip.compress(bundle, 6)),
            "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def _tasks(stream: list[dict[str, Any]], phase: dict[str, float], workers: int) -> dict[str, Any]:
    """The task stream's figures (module docstring)."""
    spans: dict[str, list[tuple[float, float]]] = {}
    cells = vectors = 0
    for task in stream:
        key = str(task.get("key"))
        cells += "aiii-cells-" in key
        vectors += "aiii-vector-" in key
        for ss in task.get("startstops", ()):
            if ss.get("action") == "compute":
                spans.setdefault(str(task.get("worker")), []).append((ss["start"], ss["stop"]))
    computes = [b - a for each in spans.values() for a, b in each]
    gaps = [b0 - a1 for each in spans.values() for (_a0, a1), (b0, _b1) in zip(sorted(each), sorted(each)[1:], strict=False)]
    busy = (phase.get("end", 0.0) - phase.get("start", 0.0))
    n = max(len(stream), 1)
    return {"cell_tasks": cells, "vector_tasks": vectors, "tasks": len(stream), "dask_s": busy,
            "compute_s": sum(computes), "max_compute_s": max(computes, default=0.0),
            "idle_per_task_s": (workers * busy - sum(computes)) / n,
            "gap_s": sum(gaps) / len(gaps) if gaps else float("nan"), "workers_seen": len(spans)}


# -- in the parent ---------------------------------------------------------------------


def _shards(text: str) -> dict[str, int]:
    got = dict(SHARDS)
    for part in filter(None, text.split(",")):
        name, _, k = part.partition("=")
        got[name.strip()] = int(k)
    return got


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] in ("--_run", "--_plan"):
        fn = _child_run if sys.argv[1] == "--_run" else _child_plan
        print(json.dumps(fn(json.loads(sys.argv[2]))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vendors", type=int, default=50, help="synthetic vendors (default 50)")
    parser.add_argument("--workers", type=int, default=2, help="dask-local workers, one thread each (default 2)")
    parser.add_argument("--shards", default="", help="PROFILE=K,...: run shard 1/K of PROFILE (1: all of it); defaults "
                        + ", ".join(f"{p}={k}" for p, k in SHARDS.items()))
    parser.add_argument("--profiles", default=",".join(NIGHTLY), help="the profiles executed (default: the nightly's)")
    parser.add_argument("--plan-only", action="store_true", help="plan every profile, execute none")
    parser.add_argument("--timeout", type=float, default=900, help="seconds a child may take (default 900)")
    args = parser.parse_args()
    shards = _shards(args.shards)
    print(f"{cores_here()} cores, load average at start {os.getloadavg()[0]:.2f}; {args.vendors} synthetic vendors,"
          f" dask-local --workers {args.workers}", flush=True)
    with tempfile.TemporaryDirectory(prefix="aiii-nightly-") as name:
        tmp = Path(name)
        made = make_vendors(tmp / "vendors", args.vendors, REPO / "vendors")
        by_family: dict[str, list[str]] = {}
        for vid, real in made.items():
            by_family.setdefault(vid.split("-")[1], []).append(real)
        for family, reals in sorted(by_family.items()):
            print(f"  {family}: {len(reals)} imitating " + ", ".join(f"{r} x{reals.count(r)}" for r in dict.fromkeys(reals)))
        plans = _plan_all(tmp, args)
        if not args.plan_only:
            _run_all(tmp, args, plans, shards, made)
    return 0


def _plan_all(tmp: Path, args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    profiles = sorted(p.stem for p in (REPO / "profiles").glob("*.toml"))
    env = {"AIII_HOME": str(tmp / "home-plan")}
    print("\nplanning, one child per profile (* = the nightly's):")
    print(f"  {'profile':<22} {'cells':>7} {'vendor calls':>13} {'transforms':>11} {'vendors':>8} {'plan s':>7}"
          f" {'peak RSS MB':>12} {'above imports':>14}")
    plans: dict[str, dict[str, Any]] = {}
    for profile in profiles:
        try:
            got = run_child("plan", {"profile": profile, "vendor_dir": str(tmp / "vendors")}, env, args.timeout, __file__)
        except ChildFailed as exc:
            print(f"  {profile:<22} {exc}")
            continue
        plans[profile] = got
        mark = "*" if profile in NIGHTLY else " "
        print(f"{mark} {profile:<22} {got['cells']:>7,} {got['calls']:>13,} {got['transforms']:>11,} {len(got['vendors']):>8}"
              f" {got['plan_s']:>7.1f} {got['maxrss_kb'] / 1024:>12.0f} {(got['maxrss_kb'] - got['base_rss_kb']) / 1024:>14.0f}",
              flush=True)
    nightly = [plans[p] for p in NIGHTLY if p in plans]
    print(f"  the nightly (*): {sum(p['cells'] for p in nightly):,} cells, {sum(p['calls'] for p in nightly):,} vendor calls"
          f" and {sum(p['transforms'] for p in nightly):,} transforms planned (before watermark trials expand),"
          f" planned in {sum(p['plan_s'] for p in nightly):.1f} s; largest peak RSS"
          f" {max((p['maxrss_kb'] for p in nightly), default=0) / 1024:.0f} MB")
    return plans


def _run_all(tmp: Path, args: argparse.Namespace, plans: dict[str, dict[str, Any]], shards: dict[str, int],
             made: dict[str, str]) -> None:
    rows: list[tuple[str, int, dict[str, Any]]] = []
    for profile in filter(None, args.profiles.split(",")):
        plan = plans.get(profile)
        if plan is None or not plan["cells"]:
            print(f"\n{profile}: nothing planned, not run")
            continue
        k = shards.get(profile, 1)
        home = tmp / f"home-{profile}"
        spec = {"profile": profile, "vendors": plan["vendors"], "vendor_dir": str(tmp / "vendors"), "workers": args.workers,
                "out": str(tmp / f"out-{profile}"), "store": str(home / "results.sqlite"), "shard": f"1/{k}" if k > 1 else None}
        try:
            got = run_child("run", spec, {"AIII_HOME": str(home)}, args.timeout, __file__)
        except ChildFailed as exc:
            print(f"\n{profile}: {exc}")
            continue
        rows.append((profile, k, got))
        _print_run(profile, k, plan, got, args.workers)
    if rows:
        _print_totals(rows, plans, args.workers, made)


def _print_run(profile: str, k: int, plan: dict[str, Any], r: dict[str, Any], workers: int) -> None:
    t, ph = r["tasks"], r["phase"]
    what = f"shard 1/{k}: {r['cells']:,} of {plan['cells']:,} cells" if k > 1 else f"all {r['cells']:,} cells"
    outcomes = ", ".join(f"{n} {o}" for o, n in sorted(r["outcomes"].items(), key=lambda kv: -kv[1]))
    print(f"\n{profile}, {what} ({outcomes}), {len(plan['vendors'])} vendors")
    print(f"  wall {r['wall_s']:.1f} s: client starts its vendors {ph.get('vendors_s', 0):.1f} s, cluster start"
          f" {ph.get('cluster_s', 0):.1f} s, Dask phase {t['dask_s']:.1f} s, reports {ph.get('render_s', 0):.1f} s, the rest"
          f" (load, plan, store) {r['wall_s'] - ph.get('vendors_s', 0) - ph.get('cluster_s', 0) - t['dask_s'] - ph.get('render_s', 0):.1f} s")
    print(f"  steps run: {r['calls']:,} adapter calls + {r['transforms']:,} transforms ({r['cached']:,} from the step cache);"
          f" necessary work {r['necessary_s']:.1f} CPU-s, whole process tree {r['tree_cpu_s']:.1f} CPU-s;"
          f" client's peak RSS {r['maxrss_kb'] / 1024:.0f} MB")
    print(f"  Dask: {t['tasks']} tasks ({t['cell_tasks']} cell groups, {t['vector_tasks']} vectors) on {t['workers_seen']} workers;"
          f" compute {t['compute_s']:.1f} s (largest task {t['max_compute_s']:.1f} s, vendor start-up in each worker's first);"
          f" slot idle per task {t['idle_per_task_s']:.2f} s"
          f" ({100 * (workers * t['dask_s'] - t['compute_s']) / max(workers * t['dask_s'], 1e-9):.0f} % of {workers} x"
          f" {t['dask_s']:.1f} s); dispatch gap {t['gap_s'] * 1000:.1f} ms; client per task {1000 * r['keep_s'] / max(r['kept'], 1):.1f} ms")
    print(f"  bundle: results.json {r['bundle_bytes'] / 1e6:.2f} MB, {r['bundle_bytes'] / max(r['cells'], 1):,.0f} B per cell,"
          f" gzip {r['bundle_gzip'] / 1e6:.2f} MB ({r['bundle_gzip'] / max(r['cells'], 1):,.0f} B per cell)", flush=True)


def _print_totals(rows: list[tuple[str, int, dict[str, Any]]], plans: dict[str, dict[str, Any]], workers: int,
                  made: dict[str, str]) -> None:
    """Whole profiles from their shards, by cells.  Scaled: the Dask phase less one vendor
    start-up (each worker starts its vendors once, about as long as the client does) and
    the reports; the rest (load, plan, cluster and vendor start-up) once."""
    print(f"\nthe whole nightly extrapolated from the shards by cells ({workers} workers of one thread on this machine):")
    print(f"  {'profile':<22} {'run':>6} {'x cells':>8} {'wall s':>8} {'worker-s':>9} {'per cell ms':>12}"
          f" {'bundle MB':>10} {'gzip MB':>8}")
    total = {"wall": 0.0, "worker": 0.0, "bundle": 0.0, "gzip": 0.0, "cells": 0}
    for profile, k, r in rows:
        scale = plans[profile]["cells"] / max(r["cells"], 1)
        start = r["phase"].get("vendors_s", 0.0)
        cells_s = max(r["tasks"]["dask_s"] - start, 0.0)
        wall = r["wall_s"] + (scale - 1) * (cells_s + r["phase"].get("render_s", 0.0))
        worker_s = workers * (cells_s * scale + start)
        bundle, packed = r["bundle_bytes"] * scale / 1e6, r["bundle_gzip"] * scale / 1e6
        print(f"  {profile:<22} {'1/' + str(k) if k > 1 else 'all':>6} {scale:>8.1f} {wall:>8.0f} {worker_s:>9.0f}"
              f" {1000 * workers * cells_s / max(r['cells'], 1):>12.1f} {bundle:>10.1f} {packed:>8.1f}")
        for key, value in (("wall", wall), ("worker", worker_s), ("bundle", bundle), ("gzip", packed)):
            total[key] += value
        total["cells"] += plans[profile]["cells"]
    print(f"  {'total':<22} {'':>6} {'':>8} {total['wall']:>8.0f} {total['worker']:>9.0f}"
          f" {1000 * total['worker'] / max(total['cells'], 1):>12.1f} {total['bundle']:>10.1f} {total['gzip']:>8.1f}")
    print(f"  {total['cells']:,} cells with fast vendors: {total['worker'] / 3600:.2f} worker-hours of harness and protocol"
          f" (worker-s: {workers} workers x the Dask phase, idle slots included); {total['wall'] / 3600:.2f} h on this machine")
    print("  (linear in cells from one shard each; shards are uneven, the watermark ones most: an order of magnitude)")
    light = sum(plans[p]["cells"] for p in NIGHTLY if p in plans and not p.startswith("watermark"))
    imitated = [real for real in made.values() if real in VENDOR_CORE_S]
    vendor_s = sum(VENDOR_CORE_S[r] for r in imitated) + light * LIGHT_CELL_S
    hosts = (total["worker"] + vendor_s) / (NIGHT_S * HOST_CORES)
    print(f"\ncost model: hosts of {HOST_CORES} cores for an {NIGHT_S // 3600}-hour night = (harness H + vendors V) /"
          f" ({HOST_CORES} x {NIGHT_S} s)")
    print(f"  H = {total['worker']:,.0f} core-s (measured above: {workers} one-thread workers x the Dask phases, extrapolated)")
    print(f"  V = {vendor_s:,.0f} core-s: {len(imitated)} watermark vendors at their real counterparts' measured profile"
          f" cost (" + ", ".join(f"{r} {VENDOR_CORE_S[r]:,.0f} x{imitated.count(r)}" for r in dict.fromkeys(imitated))
          + f") + {light:,} light cells x {1000 * LIGHT_CELL_S:.1f} ms")
    print(f"  hosts = ({total['worker']:,.0f} + {vendor_s:,.0f}) / {NIGHT_S * HOST_CORES:,} = {hosts:.2f}"
          f" -> {max(1, math.ceil(hosts))} host(s) of {HOST_CORES} cores ({2 * max(1, math.ceil(hosts))} one-thread workers)"
          f"; cross-talk grows as the square of the watermark vendors, which V (linear) leaves out")


if __name__ == "__main__":
    sys.exit(main())
