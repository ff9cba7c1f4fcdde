"""``aiii plan``: what a run of a profile would do, without running it.

The plan digest, the number of cells, and for ``--shards N`` how ``aiii run --shard i/N``
would split them (cells and producer calls per shard).  The hosted nightly's first job
(``.github/workflows/nightly.yml``) runs it to fix the plan its shard jobs and its merge
share; a vendor runs it to see whether its plan matches the hub's before producing a pack.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from runner.check import Suite
from runner.text import printable


def plan_summary(suite: Suite, profile: str, shards: int, vendors: list[str] | None = None,
                 vendor_dirs: list[str] | None = None, vectors_dir: str | None = None) -> dict[str, Any]:
    """The plan of ``profile`` with ``suite``'s checks, as a JSON-ready dict (see the module
    docstring)."""
    from runner.run import Run, RunOptions
    from runner.shards import expanding_checks, shard_cost

    run = Run(RunOptions(profile=profile, vendors=vendors, vectors_dir=vectors_dir,
                         extra_vendor_dirs=list(vendor_dirs or []), out="out"), suite)
    cost = shard_cost(run.cells, shards, expanding_checks(suite.checks))
    return {
        "profile": run.profile.name,
        "plan_digest": run.plan_digest.as_dict(),
        "cells": len(run.cells),
        "vendors": sorted(run.manifests),
        "shards": shards,
        "shard_cells": cost.cells,
        "shard_producer_calls": cost.calls,
        "producer_calls": cost.whole,
        "notes": run.notes,
    }


def run_plan(args: argparse.Namespace, suite: Suite) -> int:
    """``aiii plan`` with the discovered ``suite`` (the CLI hands it over: runner/ does not
    import the families)."""
    if args.shards < 1:
        print(f"aiii plan: --shards must be at least 1, not {args.shards}", file=sys.stderr, flush=True)
        return 2
    summary = plan_summary(suite, args.profile, args.shards, [v for v in args.vendors.split(",") if v] if args.vendors else None,
                           [str(Path(d).resolve()) for d in args.vendor_dir],
                           str(Path(args.vectors).resolve()) if args.vectors else None)
    if args.out:
        Path(args.out).write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    extra = sum(summary["shard_producer_calls"]) - summary["producer_calls"]
    print(printable(f"plan {summary['plan_digest']['sha256'][:16]}: profile {summary['profile']}, {summary['cells']} cells,"
                     f" {len(summary['vendors'])} vendors, {summary['producer_calls']} producer calls"), flush=True)
    for note in summary["notes"]:
        print(printable(f"note: {note}"), file=sys.stderr, flush=True)
    for i, (cells, calls) in enumerate(zip(summary["shard_cells"], summary["shard_producer_calls"], strict=True), 1):
        print(f"  shard {i}/{args.shards}: {cells} cells, {calls} producer calls", flush=True)
    if args.shards > 1:
        print(f"  {extra} producer calls beyond one whole run", flush=True)
    return 0


def add_parser(sub: argparse._SubParsersAction, func: Any) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("plan", help="show a profile's plan digest and how its shards split, without running",
                       description="Plan a profile without running it: the plan digest, the cells, and how "
                                   "`aiii run --shard i/N` would split them.")
    p.add_argument("--profile", default="default", help="profile name in profiles/ or a path to a .toml (default: default)")
    p.add_argument("--shards", type=int, default=1, metavar="N", help="split into N shards (default 1)")
    p.add_argument("--vendors", metavar="A,B", help="comma-separated vendor ids or globs (default: the profile's)")
    p.add_argument("--vendor-dir", action="append", default=[], metavar="DIR", help="another folder of vendor manifests (repeatable)")
    p.add_argument("--vectors", metavar="DIR", help="a folder with its own catalogue.toml")
    p.add_argument("--out", metavar="FILE", help="also write the plan as JSON here")
    p.set_defaults(func=func)
