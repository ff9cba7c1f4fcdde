"""``aiii run --shard i/n`` through the real CLI: two shards together are the whole run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import ROOT, TESTS, aiii

PROFILE = str(TESTS / "profiles" / "shards.toml")


def _run(home: Path, out: Path, *extra: str) -> dict:
    proc = aiii(home, "run", "--profile", PROFILE, "--out", str(out), "--store", str(out.with_suffix(".sqlite")),
                "--jobs", "2", "-q", *extra)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads((out / "results.json").read_text())  # type: ignore[no-any-return]


def test_two_shards_together_are_the_whole_run(home: Path, tmp_path: Path) -> None:
    shards = [_run(home, tmp_path / f"shard{i}", "--shard", f"{i}/2") for i in (1, 2)]
    whole = _run(home, tmp_path / "whole")
    verdicts = {c["id"]: (c["outcome"], c["reason"]) for c in whole["cells"]}
    together = {c["id"]: (c["outcome"], c["reason"]) for b in shards for c in b["cells"]}
    assert sum(len(b["cells"]) for b in shards) == len(together), "no cell in both shards"
    assert together == verdicts
    assert "shard" not in whole
    for i, bundle in enumerate(shards, 1):
        manifest = bundle["shard"]
        assert (manifest["i"], manifest["n"], manifest["plan_cells"]) == (i, 2, len(whole["cells"]))
        assert manifest["cells"] == sorted(c["id"] for c in bundle["cells"]) and manifest["cells"]
        assert manifest["plan_digest"] == shards[0]["shard"]["plan_digest"] == shards[0]["run"]["plan_digest"]["sha256"]
        assert bundle["run"]["plan_digest"] == whole["run"]["plan_digest"], "a shard is planned as the whole"
        said = f"Shard {i} of 2: {len(bundle['cells'])} of {len(whole['cells'])} planned cells"
        assert said in (tmp_path / f"shard{i}" / "summary.md").read_text()
        assert said in (tmp_path / f"shard{i}" / "site" / "index.html").read_text()


def test_malformed_shard_is_refused_in_one_line(home: Path, tmp_path: Path) -> None:
    for value in ("0/2", "3/2", "x/y"):
        proc = aiii(home, "run", "--profile", PROFILE, "--shard", value, "--out", str(tmp_path / "out"), "-q")
        assert proc.returncode == 2 and proc.stdout == ""
        assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("aiii: error: --shard ") and value in proc.stderr
    assert not (tmp_path / "out").exists(), "refused before any work"


_SPLIT = """
import hashlib
from conformance.discovery import discover
from runner.run import Run, RunOptions
from runner.shards import expanding_checks, split
suite = discover()
plan = Run(RunOptions(), suite).cells
shards = split(plan, 3, expanding_checks(suite.checks))
print(hashlib.sha256(repr([[c.id for c in s] for s in shards]).encode()).hexdigest(), len(plan))
"""


def test_the_default_plan_splits_alike_under_any_hash_seed(home: Path) -> None:
    got = set()
    for seed in ("0", "1", "4242"):
        env = {**os.environ, "AIII_HOME": str(home), "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": seed}
        proc = subprocess.run([sys.executable, "-c", _SPLIT], capture_output=True, text=True, cwd=ROOT, env=env,
                              timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        got.add(proc.stdout.split()[0])
    assert len(got) == 1


def test_plan_shows_the_split_a_run_makes_without_running(home: Path, tmp_path: Path) -> None:
    proc = aiii(home, "plan", "--profile", PROFILE, "--shards", "2", "--out", str(tmp_path / "plan.json"))
    assert proc.returncode == 0, proc.stderr
    plan = json.loads((tmp_path / "plan.json").read_text())
    first = _run(home, tmp_path / "shard1", "--shard", "1/2")
    assert plan["plan_digest"] == first["run"]["plan_digest"]
    assert plan["shard_cells"][0] == len(first["cells"]) and sum(plan["shard_cells"]) == plan["cells"]
    assert proc.stdout.splitlines()[0].startswith(f"plan {plan['plan_digest']['sha256'][:16]}: profile shards, {plan['cells']} cells")
    refused = aiii(home, "plan", "--profile", PROFILE, "--shards", "0")
    assert refused.returncode == 2 and refused.stderr.strip() == "aiii plan: --shards must be at least 1, not 0"
