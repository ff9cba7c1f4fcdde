"""``aiii merge`` as a user meets it: two signed shards of the small profile merged are
the whole run, cell by cell; every bad input refused with one line and nothing written."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from helpers import TESTS, aiii

PROFILE = str(TESTS / "profiles" / "shards.toml")


def _tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def work(home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """WORK/keys/hub.{pem,pub}, WORK/hub-keys/hub.pub, the shards WORK/s1 and WORK/s2
    signed by the hub, and the whole run WORK/whole (unsigned)."""
    work = tmp_path_factory.mktemp("merge")
    made = aiii(home, "keys", "generate", "--out", str(work / "keys"), "--id", "hub")
    assert made.returncode == 0, made.stderr
    (work / "hub-keys").mkdir()
    shutil.copy(work / "keys" / "hub.pub", work / "hub-keys")
    for name, extra in (("s1", ["--shard", "1/2"]), ("s2", ["--shard", "2/2"]), ("whole", [])):
        sign = ["--sign-key", str(work / "keys" / "hub.pem")] if extra else []
        proc = aiii(home, "run", "--profile", PROFILE, "--out", str(work / name), "--store", str(work / f"{name}.sqlite"),
                    "--jobs", "2", "-q", *extra, *sign)
        assert proc.returncode == 0, proc.stderr[-3000:]
    return work


def _merge(home: Path, work: Path, out: Path, *bundles: Path, keys: bool = True, extra: tuple[str, ...] = ()) -> tuple[int, list[str], list[str]]:
    args = ["merge", *map(str, bundles), "--out", str(out), *extra]
    if keys:
        args += ["--hub-keys", str(work / "hub-keys")]
    proc = aiii(home, *args)
    return proc.returncode, proc.stdout.splitlines(), proc.stderr.splitlines()


def test_two_signed_shards_merge_into_the_whole_run(home: Path, work: Path) -> None:
    out = work / "merged"
    code, stdout, stderr = _merge(home, work, out, work / "s1", work / "s2" / "results.json",
                                  extra=("--sign-key", str(work / "keys" / "hub.pem")))
    assert code == 0, stderr
    merged = json.loads((out / "results.json").read_text())
    whole = json.loads((work / "whole" / "results.json").read_text())
    assert {c["id"]: (c["outcome"], c["reason"]) for c in merged["cells"]} == \
        {c["id"]: (c["outcome"], c["reason"]) for c in whole["cells"]}
    assert merged["run"]["plan_digest"] == whole["run"]["plan_digest"]
    assert merged["merge"]["completeness"]["complete"] and merged["merge"]["conflicts"] == {}
    assert stdout[0].startswith(f"merged 2 bundles: {len(whole['cells'])} cells, complete; 0 identical duplicates")
    assert stdout[-1] == f"signed as hub: {out / 'results.dsse.json'}"
    inputs = merged["run"]["merged_from"]
    assert [(m["sha256"], m["signer"], m["shard"]) for m in inputs] == [
        (hashlib.sha256((work / s / "results.json").read_bytes()).hexdigest(), "hub", {"i": i, "n": 2})
        for i, s in ((1, "s1"), (2, "s2"))]
    for report in ("junit.xml", "summary.md", "site/index.html"):
        assert (out / report).is_file()
    assert "Merged from 2 bundles, complete" in (out / "summary.md").read_text()
    cited = {a["path"] for c in merged["cells"] for a in c["artifacts"].values() if a["path"]}
    assert cited and all((out / p).is_file() for p in cited), "the cited artifacts come along"
    verified = aiii(home, "bundle", "verify", str(out / "results.json"), "--hub-keys", str(work / "hub-keys"))
    assert verified.returncode == 0 and verified.stdout.startswith(f"verified: {out / 'results.json'} signed by hub/")


def _copy(work: Path, name: str) -> Path:
    target = work / name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(work / "s1", target)
    return target


def _other_plan(home: Path, work: Path) -> Path:
    """A copy of shard 1 claiming another profile's plan, re-signed by the hub."""
    folder = _copy(work, "other-plan")
    doc = json.loads((folder / "results.json").read_text())
    doc["run"]["plan_digest"]["components"]["profile"] = "0" * 64
    doc["run"]["plan_digest"]["sha256"] = doc["shard"]["plan_digest"] = "1" * 64
    (folder / "results.json").write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    signed = aiii(home, "bundle", "sign", str(folder / "results.json"), "--key", str(work / "keys" / "hub.pem"),
                  "--as", "hub")
    assert signed.returncode == 0, signed.stderr
    return folder


def _edit_cell(folder: Path, reason: str) -> None:
    doc = json.loads((folder / "results.json").read_text())
    doc["cells"][0]["reason"] = reason
    (folder / "results.json").write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")


@pytest.mark.parametrize("bad", ["one byte", "cell edited", "unknown key", "unsigned", "shard missing",
                                 "shards disagree", "other plan"])
def test_bad_inputs_are_refused_in_one_line_and_nothing_is_written(home: Path, work: Path, bad: str) -> None:
    inputs, keys = [work / "s1", work / "s2"], True
    if bad == "one byte":
        inputs[0] = _copy(work, "byte")
        raw = bytearray((inputs[0] / "results.json").read_bytes())
        raw[raw.index(b'"reason": "') + 11] ^= 0x20
        (inputs[0] / "results.json").write_bytes(bytes(raw))
    elif bad == "cell edited":
        inputs[0] = _copy(work, "edited")
        _edit_cell(inputs[0], "edited after signing")
    elif bad == "unknown key":
        keys = False  # the hub's keys are not given: no registered key signed these
    elif bad == "unsigned":
        inputs[0] = _copy(work, "unsigned")
        (inputs[0] / "results.dsse.json").unlink()
    elif bad == "shard missing":
        inputs = inputs[:1]
    elif bad == "other plan":
        inputs.append(_other_plan(home, work))
    else:  # a second copy of shard 1, re-signed by the hub, says otherwise of one cell
        other = _copy(work, "other")
        _edit_cell(other, "this shard says otherwise")
        signed = aiii(home, "bundle", "sign", str(other / "results.json"), "--key", str(work / "keys" / "hub.pem"),
                      "--as", "hub")
        assert signed.returncode == 0, signed.stderr
        inputs.append(other)
    before = _tree(work)
    out = work / f"out-{bad.replace(' ', '-')}"
    code, stdout, stderr = _merge(home, work, out, *inputs, keys=keys)
    assert (code, stdout, len(stderr)) == (1, [], 1), stderr
    expected = {"one byte": "changed after signing", "cell edited": "changed after signing",
                "unknown key": "signed by an unknown key", "unsigned": "unsigned (no results.dsse.json beside it)",
                "shard missing": "(shards 2/2 not given)", "shards disagree": "with different results",
                "other plan": "were run under different plans: profile differ"}[bad]
    assert stderr[0].startswith("refused: ") and expected in stderr[0], stderr[0]
    assert not out.exists() and _tree(work) == before, "a refusal writes nothing"


def test_out_may_not_be_an_inputs_folder(home: Path, work: Path) -> None:
    before = _tree(work)
    code, stdout, stderr = _merge(home, work, work / "s1", work / "s1", work / "s2")
    assert code == 2 and len(stderr) == 1 and "is the folder of input" in stderr[0]
    assert _tree(work) == before


def test_another_plans_bundle_is_kept_apart_as_stale(home: Path, work: Path) -> None:
    stale = _other_plan(home, work)
    out = work / "merged-stale"
    code, stdout, stderr = _merge(home, work, out, work / "s1", work / "s2", stale, extra=("--keep-stale",))
    assert code == 0, stderr
    merged = json.loads((out / "results.json").read_text())
    assert merged["merge"]["stale"] == [2] and [m["stale"] for m in merged["run"]["merged_from"]] == [False, False, True]
    assert all(2 not in c["sources"] for c in merged["cells"]) and merged["merge"]["completeness"]["complete"]
    assert stdout[0].endswith("; 1 stale inputs kept apart") and stdout[-1] == "not signed (no --sign-key)"
    assert "stale: another plan, not merged" in (out / "site" / "index.html").read_text()
