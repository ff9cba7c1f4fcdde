"""Where a run's time and CPU go, in figures that add up (issue 15), side by side.

    python benchmarks/scale.py [--jobs N] [--changed VENDOR] [--watermark quick|full|skip]
                               [--no-wm-compare] [--plan-cells N | --no-plan] [--no-default]

(``--no-default --watermark skip``: the synthetic plan alone, about a minute.)

Prints, in one run:

1. the default profile cold, warm, and after one vendor's version changed: wall time,
   **necessary work** (CPU inside adapter calls, every placement, their helper processes,
   and the harness's transforms), **harness overhead** (every other CPU second of the run's
   process tree: start-up, planning, scheduling, checks, store, reports; and the part of it
   spent while the cells ran), **the limit** (necessary work / cores), **efficiency**
   (limit / wall), the wall time inside adapter calls and the part of it spent waiting for
   a concurrency slot, the warm/cold ratio, and for the changed vendor the steps run again
   and the cost as a fraction of cold against 1/N + 5 %;
2. efficiency on the cold ``watermark-image`` profile (``quick``: shard 1/4 of its plan,
   about a quarter of its 9 minutes; ``full``; ``skip``), with blind-watermark served by its
   pool of processes (``[adapter] processes``) as its manifest says and, unless
   ``--no-wm-compare``, as one adapter in the harness's process (``--placement inproc``),
   and the wall time on a local Dask cluster of 1 worker against 2 workers (``--executor
   dask-local``) with the speed-up;
3. peak memory of the default cold run, and the time and peak memory of planning about a
   million cells (synthetic vendors on the ``metadata`` profile, planning only).

Each run is a child process with its own figures: a fresh ``AIII_HOME`` per scenario (cold
starts empty; warm and changed reuse cold's), and a copy of the repository's files as
``AIII_ROOT``.  The version change is made in that copy: a line appended to the vendor's
``vendor.toml`` changes its code hash, which is part of every cache key of the vendor's steps
(``cache_version`` = version + code hash, runner/vendors.py), exactly as a new release
(whose version string and adapter change) does; the repository is not touched.
Figures, never assertions: nothing here fails on a slow machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


# -- in the child ----------------------------------------------------------------------


def _child_run(spec: dict[str, Any]) -> dict[str, Any]:
    """One ``aiii run`` in this process; its summary and CPU figures."""
    from conformance.discovery import discover
    from runner.run import RunOptions, execute_run

    opts = RunOptions(profile=spec["profile"], jobs=spec["jobs"], out=spec["out"], store=spec["store"],
                      shard=spec.get("shard"), placement=spec.get("placement"),
                      executor=spec.get("executor", "local"), workers=spec.get("workers", 2))
    started = time.perf_counter()
    summary = execute_run(opts, discover(), progress=False)
    wall = time.perf_counter() - started
    t = summary.timing
    bundle = json.loads((Path(spec["out"]) / "results.json").read_text())
    return {
        "wall_s": wall, "cells": summary.cells, "outcomes": summary.outcomes,
        "vendors": sum(1 for v in bundle.get("vendors", []) if v.get("runnable")),
        "adapter_s": t.adapter_s, "slot_wait_s": t.slot_wait_s, "adapter_cpu_s": t.adapter_cpu_s,
        "children_cpu_s": t.children_cpu_s, "transform_cpu_s": t.transform_cpu_s, "transforms": t.transforms,
        "process_cpu_s": t.process_cpu_s, "necessary_s": t.necessary_cpu_s, "overhead_cells_s": t.overhead_cpu_s,
        "calls": t.calls, "cached": t.cached, "by_operation": dict(t.by_operation),
        "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "load": os.getloadavg()[0],
    }


def _child_plan(spec: dict[str, Any]) -> dict[str, Any]:
    """Plan ``spec['vendors']`` synthetic vendors on the metadata profile; no adapter is called."""
    from conformance.discovery import discover
    from runner.run import Run, RunOptions

    suite = discover()
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    run = Run(RunOptions(profile=spec["profile"], vendors=["syn-*"], extra_vendor_dirs=[spec["vendor_dir"]], out="out"), suite)
    return {"cells": len(run.cells), "plan_s": time.perf_counter() - started, "base_rss_kb": base_rss,
            "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


# -- in the parent ---------------------------------------------------------------------


class ChildFailed(Exception):
    """A child run or plan did not finish (it failed, or ran past its limit)."""


def run_child(kind: str, spec: dict[str, Any], env: dict[str, str], timeout_s: float = 3600,
              script: str = __file__) -> dict[str, Any]:
    """Run a child (``script --_<kind> SPEC``: here ``--_run`` or ``--_plan``; other benchmarks
    pass their own ``script``); its figures, the JSON of its last line of output, with the CPU
    and peak memory of its whole process tree (``wait4``)."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, script, f"--_{kind}", json.dumps(spec)], stdout=subprocess.PIPE,
                            env={**os.environ, **env}, cwd=REPO)
    assert proc.stdout is not None
    timer = threading.Timer(timeout_s, proc.kill)  # a figure too slow to wait for is one too
    timer.start()
    try:
        out = proc.stdout.read()
        _pid, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise ChildFailed(f"the {kind} child exited {proc.returncode} after {time.perf_counter() - started:.0f} s"
                          f" (limit {timeout_s:.0f} s)")
    got: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    got.update(tree_cpu_s=usage.ru_utime + usage.ru_stime, tree_maxrss_kb=usage.ru_maxrss,
               child_wall_s=time.perf_counter() - started)
    return got


def copy_root(dest: Path) -> Path:
    """The repository's tracked files (and the untracked ones git would add), copied."""
    names = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                           capture_output=True, check=True, timeout=60).stdout.decode().split("\0")
    for name in filter(None, names):
        src = REPO / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


def cores_here() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _figures(r: dict[str, Any], cores: int) -> dict[str, float]:
    docker = r["adapter_cpu_s"].get("docker", 0.0)  # a container's CPU is outside the process tree
    total = r["tree_cpu_s"] + docker
    necessary = r["necessary_s"]
    limit = necessary / cores
    return {"wall": r["wall_s"], "necessary": necessary, "overhead": total - necessary,
            "overhead_cells": r["overhead_cells_s"], "limit": limit, "efficiency": limit / r["wall_s"],
            "total": total}


def print_runs(rows: list[tuple[str, dict[str, Any]]], cores: int) -> None:
    print(f"{'run':<9} {'wall s':>7} {'cells':>6} {'necessary':>10} {'overhead':>9} {'ovh/nec':>8} {'in cells':>9}"
          f" {'limit s':>8} {'effic.':>7} {'adapter wall':>13} {'slot wait':>10} {'calls':>6} {'cached':>7}")
    for label, r in rows:
        f = _figures(r, cores)
        print(f"{label:<9} {f['wall']:>7.1f} {r['cells']:>6} {f['necessary']:>9.1f}s {f['overhead']:>8.1f}s"
              f" {100 * f['overhead'] / max(f['necessary'], 1e-9):>7.0f}% {f['overhead_cells']:>8.1f}s {f['limit']:>8.1f}"
              f" {f['efficiency']:>7.2f} {r['adapter_s']:>12.1f}s {r['slot_wait_s']:>9.1f}s {r['calls']:>6} {r['cached']:>7}")
    for label, r in rows:
        parts = ", ".join(f"{k} {v:.1f}" for k, v in sorted(r["adapter_cpu_s"].items()))
        print(f"  {label}: necessary = adapters ({parts}) + their child processes {r['children_cpu_s']:.1f}"
              f" + transforms {r['transform_cpu_s']:.1f} ({r['transforms']} computed); harness process"
              f" CPU while cells ran {r['process_cpu_s']:.1f}; whole tree {r['tree_cpu_s']:.1f} CPU-s;"
              f" load average at its end {r['load']:.2f}")


def _synthetic_vendors(folder: Path, n: int) -> Path:
    caps = (REPO / "vendors" / "exiv2" / "vendor.toml").read_text().split("[[capabilities]]", 1)[1]
    for i in range(n):
        vid = f"syn-{i:03d}"
        (folder / vid).mkdir(parents=True, exist_ok=True)
        (folder / vid / "adapter.py").write_text("from aiii_kit import Adapter\n\n\nclass Synthetic(Adapter):\n    pass\n")
        (folder / vid / "vendor.toml").write_text(
            f'id = "{vid}"\nname = "Synthetic {i}"\norganisation = "scale.py"\nplacement = "inproc"\n'
            f'role = "test-double"\ndefault = false\ndescription = "A synthetic metadata vendor for planning."\n\n'
            f'[adapter]\nentry = "adapter.py:Synthetic"\n\n[version]\nadapter = true\n\n[[capabilities]]{caps}')
    return folder


def _plan_million(tmp: Path, target: int) -> None:
    env = {"AIII_HOME": str(tmp / "home-plan")}
    probe_n = 8
    probe = run_child("plan", {"profile": "metadata", "vendor_dir": str(_synthetic_vendors(tmp / "syn-probe", probe_n))}, env)
    per_pair = probe["cells"] / probe_n**2  # writer x reader pairs: the plan grows as n squared
    n = max(probe_n, int((target / per_pair) ** 0.5 + 0.999))
    try:
        got = run_child("plan", {"profile": "metadata", "vendor_dir": str(_synthetic_vendors(tmp / f"syn-{n}", n))}, env,
                        timeout_s=600)
    except ChildFailed as exc:
        print(f"planning about {int(per_pair * n * n):,} cells ({n} synthetic vendors): {exc}; goal: under 60 s and 2 GB")
        return
    print(f"planning {got['cells']:,} cells ({n} synthetic vendors with exiv2's capabilities, metadata profile,"
          f" no adapter calls): {got['plan_s']:.1f} s, peak RSS {got['maxrss_kb'] / 1024:.0f} MB"
          f" ({(got['maxrss_kb'] - got['base_rss_kb']) / 1024:.0f} MB above the {got['base_rss_kb'] / 1024:.0f} MB after"
          f" imports, {(got['maxrss_kb'] - got['base_rss_kb']) * 1024 / max(got['cells'], 1):.0f} bytes a cell);"
          f" goal: under 60 s and 2 GB")



def _default_runs(args: argparse.Namespace, root: Path, env: dict[str, str], cores: int, run: Any) -> None:
    """Cold, warm and changed-vendor runs of ``args.profile``, side by side."""
    cold = run("cold", args.profile, env)
    warm = run("warm", args.profile, env)
    toml = root / "vendors" / args.changed / "vendor.toml"
    toml.write_text(toml.read_text() + "\n# scale.py: a new release of this vendor\n")
    changed = run("changed", args.profile, env)
    print(f"\nprofile {args.profile}: cold, warm, then after {args.changed}'s version changed (CPU seconds)")
    print_runs([("cold", cold), ("warm", warm), ("changed", changed)], cores)
    print(f"warm/cold wall: {warm['wall_s'] / cold['wall_s']:.3f} (goal <= 0.10, reports included);"
          f" whole child processes {warm['child_wall_s'] / cold['child_wall_s']:.3f}")
    n = cold["vendors"]
    steps = (changed["calls"] + changed["transforms"], cold["calls"] + cold["transforms"])
    mine = sum(c for k, c in changed["by_operation"].items() if k.split(" ", 1)[0] == args.changed)
    print(f"{args.changed} changed: {steps[0]} steps run again of cold's {steps[1]} ({changed['calls']} adapter calls,"
          f" {mine} of them {args.changed}'s; {changed['transforms']} transforms); cost / cold: wall"
          f" {changed['wall_s'] / cold['wall_s']:.3f}, necessary work"
          f" {changed['necessary_s'] / max(cold['necessary_s'], 1e-9):.3f}; goal 1/N + 5 % = {1 / n + 0.05:.3f} (N = {n})")
    print(f"outcomes identical cold vs warm: {cold['outcomes'] == warm['outcomes']}")
    print(f"peak memory of the default cold run: harness process {cold['maxrss_kb'] / 1024:.0f} MB;"
          f" largest process of its tree {cold['tree_maxrss_kb'] / 1024:.0f} MB")


def _watermark_runs(args: argparse.Namespace, tmp: Path, env: dict[str, str], cores: int, run: Any) -> None:
    """``watermark-image`` cold (quick: shard 1/4), each run in a fresh ``AIII_HOME``: as the
    manifests say (blind-watermark served by its process pool), then unless ``--no-wm-compare``
    with every adapter in the harness's own process (``--placement inproc``: blind-watermark as
    one in-process adapter, as before ``processes``), and on a local Dask cluster of 1 then 2
    single-threaded workers."""
    shard = "1/4" if args.watermark == "quick" else None

    def cold(label: str, **more: Any) -> dict[str, Any]:
        return run(label, "watermark-image", {**env, "AIII_HOME": str(tmp / f"home-{label}")}, shard, **more)

    wm = cold("wm")
    what = "shard 1/4 of its plan (--watermark quick)" if shard else "the whole profile (--watermark full)"
    print(f"\nwatermark-image cold, {what}:")
    if args.no_wm_compare:
        print_runs([("wm cold", wm)], cores)
        print(f"efficiency {_figures(wm, cores)['efficiency']:.2f} (goal >= 0.8)")
        return
    inproc = cold("wm-inproc", placement="inproc")
    print_runs([("wm pool", wm), ("wm inproc", inproc)], cores)
    print(f"efficiency {_figures(wm, cores)['efficiency']:.2f} with blind-watermark's process pool"
          f" ([adapter] processes), {_figures(inproc, cores)['efficiency']:.2f} in the harness's process"
          f" (--placement inproc); goal >= 0.8; wall {inproc['wall_s'] / wm['wall_s']:.2f}x faster pooled;"
          f" outcomes identical: {wm['outcomes'] == inproc['outcomes']}")
    one = cold("wm-dask1", executor="dask-local", workers=1)
    two = cold("wm-dask2", executor="dask-local", workers=2)
    print(f"1 worker against 2 workers on watermark-image ({what}; --executor dask-local, one cell at a time"
          f" per worker, cold): wall {one['wall_s']:.1f} s against {two['wall_s']:.1f} s, speed-up"
          f" {one['wall_s'] / two['wall_s']:.2f} (goal >= 1.8); whole tree CPU {one['tree_cpu_s']:.1f} and"
          f" {two['tree_cpu_s']:.1f} CPU-s; outcomes identical to the local run: 1 worker"
          f" {one['outcomes'] == wm['outcomes']}, 2 workers {two['outcomes'] == wm['outcomes']}")
    alone = _figures(one, cores)["efficiency"]
    if alone >= 0.8:
        print(f"  1 worker alone is at efficiency {alone:.2f} of this machine's {cores} cores (its process pools use"
              " them all): a second worker here can only share them; a speed-up needs a worker with cores of its own")
    if shard:
        print(f"  --watermark quick is a smoke figure ({wm['cells']} cells, start-up dominates): judge these goals"
              " on --watermark full")


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] in ("--_run", "--_plan"):
        fn = _child_run if sys.argv[1] == "--_run" else _child_plan
        print(json.dumps(fn(json.loads(sys.argv[2]))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--profile", default="default")
    parser.add_argument("--changed", default="exiv2", help="the vendor whose version changes (default exiv2)")
    parser.add_argument("--watermark", choices=["quick", "full", "skip"], default="quick",
                        help="watermark-image cold: shard 1/4 of its plan (quick, the default: its cells are few"
                             " and uneven, so it is a smoke figure), all of it (about 9 minutes on 2 cores), or not at all")
    parser.add_argument("--no-wm-compare", action="store_true",
                        help="watermark-image only as the manifests say: not also in-process and on 1 and 2 Dask workers")
    parser.add_argument("--plan-cells", type=int, default=1_000_000, help="the size of the synthetic plan")
    parser.add_argument("--no-plan", action="store_true", help="skip the synthetic plan")
    parser.add_argument("--no-default", action="store_true", help="skip the default profile's three runs")
    args = parser.parse_args()
    cores = cores_here()
    print(f"{cores} cores, --jobs {args.jobs}, load average at start {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="aiii-scale-") as name:
        tmp = Path(name)
        root = copy_root(tmp / "root")
        env = {"AIII_HOME": str(tmp / "home"), "AIII_ROOT": str(root)}

        def run(label: str, profile: str, run_env: dict[str, str], shard: str | None = None, **more: Any) -> dict[str, Any]:
            spec = {"profile": profile, "jobs": args.jobs, "out": str(tmp / f"out-{label}"),
                    "store": str(Path(run_env["AIII_HOME"]) / "results.sqlite"), "shard": shard, **more}
            return run_child("run", spec, run_env)

        if args.no_default:
            print(f"profile {args.profile}: skipped (--no-default)")
        else:
            _default_runs(args, root, env, cores, run)

        if args.watermark == "skip":
            print("\nwatermark-image: skipped (--watermark skip)")
        else:
            _watermark_runs(args, tmp, env, cores, run)

        if args.no_plan:
            print("\nsynthetic plan: skipped (--no-plan)")
        else:
            print()
            _plan_million(tmp, args.plan_cells)
    return 0


if __name__ == "__main__":
    sys.exit(main())
