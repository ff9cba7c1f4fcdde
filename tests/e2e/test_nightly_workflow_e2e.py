"""The hosted nightly (.github/workflows/nightly.yml) played here: its plan, shard and
merge jobs' shell steps run as written, in order, on a small profile in two shards, each
job in a state folder of its own (runners share no disk), so the workflow cannot drift
from the CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from helpers import ROOT, TESTS, aiii

WORKFLOW = ROOT / ".github" / "workflows" / "nightly.yml"
PROFILE = str(TESTS / "profiles" / "shards.toml")
SECRET = re.compile(r"\$\{\{\s*secrets\.([A-Z_]+)\s*\}\}")


def _jobs() -> dict[str, Any]:
    return yaml.safe_load(WORKFLOW.read_text())["jobs"]  # type: ignore[no-any-return]


def _shell(job: dict[str, Any], cwd: Path, env: dict[str, str], secrets: dict[str, str]) -> None:
    """Run the job's shell steps as the runner would (bash -e), skipping the install step:
    this environment already has the harness."""
    for step in job["steps"]:
        script = step.get("run")
        if script is None or script.startswith("pip install"):
            continue
        step_env = {k: SECRET.sub(lambda m: secrets[m.group(1)], str(v)) for k, v in (step.get("env") or {}).items()}
        proc = subprocess.run(["bash", "-eo", "pipefail", "-c", script], cwd=cwd, env={**env, **step_env},
                              capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, f"{step.get('name', script.splitlines()[0])}: {proc.stdout[-1500:]}{proc.stderr[-3000:]}"


def test_the_workflows_jobs_are_plan_shards_merge_publish() -> None:
    jobs = _jobs()
    assert list(jobs) == ["plan", "shard", "merge", "publish"]
    assert jobs["shard"]["needs"] == "plan" and jobs["merge"]["needs"] == "shard" and jobs["publish"]["needs"] == "merge"
    assert "fromJSON(needs.plan.outputs.shards)" in str(jobs["shard"]["strategy"]["matrix"]["shard"])


def test_the_nightly_runs_as_written_and_its_merge_is_the_whole_run(home: Path, tmp_path: Path) -> None:
    keys = tmp_path / "hub-keys"
    made = aiii(home, "keys", "generate", "--out", str(keys), "--id", "hub")
    assert made.returncode == 0, made.stderr
    pki = aiii(tmp_path / "hub-home", "pki", "export", "--out", str(tmp_path / "pki.pem"))
    assert pki.returncode == 0, pki.stderr
    secrets = {"HUB_SIGNING_KEY": (keys / "hub.pem").read_text(), "HUB_TEST_PKI": (tmp_path / "pki.pem").read_text()}
    work = tmp_path / "work"
    work.mkdir()
    output = tmp_path / "github_output"
    output.write_text("")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "AIII_HOME": str(home), "AIII_HUB_KEYS": str(keys), "GITHUB_OUTPUT": str(output),
           "PROFILE": PROFILE, "SHARDS": "2"}
    jobs = _jobs()

    _shell(jobs["plan"], work, {**env, "AIII_HOME": str(tmp_path / "runner-plan")}, secrets)
    shards = json.loads(dict(line.split("=", 1) for line in output.read_text().splitlines())["shards"])
    assert shards == [1, 2]
    planned = json.loads((work / "plan.json").read_text())
    for shard in shards:
        _shell(jobs["shard"], work, {**env, "SHARD": str(shard), "AIII_HOME": str(tmp_path / f"runner-{shard}")}, secrets)
    _shell(jobs["merge"], work, {**env, "AIII_HOME": str(tmp_path / "runner-merge")}, secrets)

    merged = json.loads((work / "merged" / "results.json").read_text())
    assert merged["run"]["plan_digest"] == planned["plan_digest"]
    assert len(merged["cells"]) == planned["cells"] == sum(planned["shard_cells"])
    assert (work / "merged" / "results.dsse.json").is_file() and (work / "merged" / "site" / "index.html").is_file()
    assert not (work / "hub.pem").stat().st_mode & 0o077, "the private key is written for the owner only"
    assert not (work / "pki.pem").stat().st_mode & 0o077, "the test PKI's key is written for the owner only"

    whole = aiii(home, "run", "--profile", PROFILE, "--out", str(tmp_path / "whole"), "-q", "--fail-on", "never")
    assert whole.returncode == 0, whole.stderr[-3000:]
    expected = {c["id"]: (c["outcome"], c["reason"]) for c in json.loads((tmp_path / "whole" / "results.json").read_text())["cells"]}
    assert {c["id"]: (c["outcome"], c["reason"]) for c in merged["cells"]} == expected
