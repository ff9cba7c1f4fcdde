"""``aiii run``'s exit status, ``--baseline`` and ``--retries``, through the real CLI.

ExifTool writes one JPEG; ExifTool and the stutter double (tests/doubles/stutter: the
reference XMP reader, made to crash on its first calls or to read nothing, by environment
variable) read it back.  A run takes a few seconds.  Exit status: 0 when the run
completed, whatever its findings; 1 when a gate that was asked for failed; 2 on a
harness or configuration error, before anything runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import TESTS, aiii

from conformance.discovery import discover
from runner.gates import baseline_gate
from runner.run import RunOptions, execute_run

STUTTER = "metadata.roundtrip/kodim01-jpg/exiftool/stutter/ascii"
EXIFTOOL = "metadata.roundtrip/kodim01-jpg/exiftool/exiftool/ascii"
BROKEN = {"AIII_STUTTER_ANSWER": "nothing"}  # stutter 1.0-nothing reads no field: its round trip fails


def profile(folder: Path, level: str = "MUST", extra: str = "") -> Path:
    path = folder / f"gates-{level.lower()}.toml"
    path.write_text(f'name = "gates"\ndescription = "ExifTool writes, ExifTool and stutter read."\n'
                    f'vendors = ["exiftool", "stutter"]\n{extra}\n[[checks]]\nid = "metadata.roundtrip"\n'
                    f'level = "{level}"\nvectors = {{ ids = ["kodim01-jpg"] }}\nparams = {{ value_sets = ["ascii"] }}\n')
    return path


def run(home: Path, tmp: Path, out: str, *args: str, env: dict[str, str] | None = None) -> Any:
    return aiii(home, "run", "--vendor-dir", str(TESTS / "doubles"), "--store", str(tmp / "store.sqlite"),
                "--out", str(tmp / out), "-q", *args, env=env, timeout=300)


def outcomes(results: Path) -> dict[str, str]:
    return {c["id"]: c["outcome"] for c in json.loads(results.read_text())["cells"]}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """(home, folder, run id) of a run where every cell passes: the baseline."""
    tmp = tmp_path_factory.mktemp("gates")
    home = tmp / "home"
    proc = run(home, tmp, "base", "--profile", str(profile(tmp)))
    assert proc.returncode == 0, proc.stderr
    assert outcomes(tmp / "base" / "results.json") == {STUTTER: "pass", EXIFTOOL: "pass"}
    return home, tmp, json.loads((tmp / "base" / "results.json").read_text())["run"]["id"]


# -- exit status 0 and 1: findings are results; a gate asked for decides ------------------------


def test_a_completed_run_with_failing_cells_exits_0_and_ends_with_headline_and_scorecard(
        baseline: tuple[Path, Path, str]) -> None:
    home, tmp, _ = baseline
    proc = run(home, tmp, "found", "--profile", str(profile(tmp)), env=BROKEN)
    assert proc.returncode == 0, proc.stderr
    assert outcomes(tmp / "found" / "results.json")[STUTTER] == "fail"
    headline, scorecard = proc.stdout.splitlines()[-2:]
    assert headline.startswith("run ") and headline.endswith(": 2 cells: 1 pass, 1 fail"), proc.stdout
    assert scorecard == f"scorecard: {tmp / 'found' / 'site' / 'index.html'}" and (tmp / "found" / "site" / "index.html").is_file()


def test_fail_on_must_exits_1_when_a_must_cell_fails(baseline: tuple[Path, Path, str]) -> None:
    home, tmp, _ = baseline
    proc = run(home, tmp, "gated", "--profile", str(profile(tmp)), "--fail-on", "MUST", env=BROKEN)
    assert proc.returncode == 1, proc.stderr
    assert "gate --fail-on MUST failed: 1 cells at MUST or stricter failed or erred" in proc.stdout
    assert proc.stdout.splitlines()[-1].startswith("scorecard: ")
    # a profile whose author wrote fail_on gates the same way; --fail-on never lifts it
    strict = profile(tmp, extra='fail_on = "MUST"\n')
    assert run(home, tmp, "strict", "--profile", str(strict), env=BROKEN).returncode == 1
    assert run(home, tmp, "lifted", "--profile", str(strict), "--fail-on", "never", env=BROKEN).returncode == 0
    # a SHOULD cell that fails does not fail a MUST gate
    assert run(home, tmp, "should", "--profile", str(profile(tmp, "SHOULD")), "--fail-on", "MUST",
               env=BROKEN).returncode == 0


# -- --baseline ---------------------------------------------------------------------------------


def test_a_must_regression_against_the_baseline_exits_1_and_is_listed(baseline: tuple[Path, Path, str]) -> None:
    home, tmp, run_id = baseline
    for spec in (str(tmp / "base"), str(tmp / "base" / "results.json"), run_id):
        proc = run(home, tmp, "regressed", "--profile", str(profile(tmp)), "--baseline", spec, env=BROKEN)
        assert proc.returncode == 1, (spec, proc.stdout, proc.stderr)
        lines = proc.stdout.splitlines()
        assert lines[-4].endswith(": 2 cells: 1 pass, 1 fail"), proc.stdout  # the headline, then the gate
        assert lines[-3] == f"gate --baseline {run_id} failed: 1 MUST cells regressed or are new and failing:"
        assert lines[-2].startswith(f"  {STUTTER}: pass -> fail: ") and "lost" in lines[-2]
        assert lines[-1].startswith("scorecard: ")
    # the same run against itself, and a run that did not regress, pass the gate
    same = run(home, tmp, "same", "--profile", str(profile(tmp)), "--baseline", run_id)
    assert same.returncode == 0 and f"gate --baseline {run_id} passed" in same.stdout, same.stdout + same.stderr


def test_only_a_should_cell_regressing_exits_0(baseline: tuple[Path, Path, str]) -> None:
    home, tmp, _ = baseline
    base = run(home, tmp, "should-base", "--profile", str(profile(tmp, "SHOULD")))
    assert base.returncode == 0, base.stderr
    proc = run(home, tmp, "should-now", "--profile", str(profile(tmp, "SHOULD")), "--baseline", str(tmp / "should-base"),
               env=BROKEN)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outcomes(tmp / "should-now" / "results.json")[STUTTER] == "fail"
    assert "1 regressions below MUST, not gated" in proc.stdout


def test_a_new_must_cell_that_fails_exits_1(baseline: tuple[Path, Path, str]) -> None:
    home, tmp, _ = baseline
    only = run(home, tmp, "exiftool-only", "--profile", str(profile(tmp)), "--vendors", "exiftool")
    assert only.returncode == 0 and outcomes(tmp / "exiftool-only" / "results.json") == {EXIFTOOL: "pass"}
    proc = run(home, tmp, "with-stutter", "--profile", str(profile(tmp)), "--baseline", str(tmp / "exiftool-only"),
               env=BROKEN)
    assert proc.returncode == 1 and f"  {STUTTER}: new -> fail: " in proc.stdout, proc.stdout + proc.stderr


def test_baseline_and_fail_on_combine(baseline: tuple[Path, Path, str]) -> None:
    home, tmp, run_id = baseline
    # the SHOULD cell regressed (no baseline failure) but --fail-on SHOULD asks about it
    proc = run(home, tmp, "combined", "--profile", str(profile(tmp, "SHOULD")), "--baseline", run_id,
               "--fail-on", "SHOULD", env=BROKEN)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"gate --baseline {run_id} passed" in proc.stdout and "gate --fail-on SHOULD failed" in proc.stdout


def test_a_regressed_cell_named_flaky_is_kept_out_of_the_gate(baseline: tuple[Path, Path, str]) -> None:
    """runner/history.py will name flaky cells; the gate takes them as a set of ids."""
    home, tmp, _ = baseline
    if not (tmp / "flaky" / "results.json").is_file():
        assert run(home, tmp, "flaky", "--profile", str(profile(tmp)), env=BROKEN).returncode == 0
    before = json.loads((tmp / "base" / "results.json").read_text())
    after = json.loads((tmp / "flaky" / "results.json").read_text())
    assert baseline_gate(before, after).failed
    gate = baseline_gate(before, after, flaky={STUTTER})
    assert not gate.failed and [(c.id, c.before, c.after) for c in gate.flaky] == [(STUTTER, "pass", "fail")]


# -- exit status 2: configuration errors, before anything runs -----------------------------------


def test_a_baseline_that_cannot_be_read_exits_2_before_the_run(baseline: tuple[Path, Path, str]) -> None:
    home, tmp, _ = baseline
    missing = tmp / "no-such-run"
    proc = run(home, tmp, "never", "--profile", str(profile(tmp)), "--baseline", str(missing))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines() == [
        f"aiii: error: --baseline {missing}: neither a results.json, a folder holding one, nor a run in "
        f"{tmp / 'store.sqlite'}"]
    garbage = tmp / "garbage.json"
    garbage.write_text('{"run": 1}')
    proc = run(home, tmp, "never", "--profile", str(profile(tmp)), "--baseline", str(garbage))
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith(f"aiii: error: --baseline {garbage}: not a result bundle: "), proc.stderr
    assert not (tmp / "never").exists(), "nothing ran"


def test_a_bad_profile_exits_2(baseline: tuple[Path, Path, str]) -> None:
    home, tmp, _ = baseline
    bad = profile(tmp, extra='fail_on = "ALWAYS"\n')
    proc = run(home, tmp, "never", "--profile", str(bad))
    assert proc.returncode == 2, proc.stderr
    assert "fail_on" in proc.stderr and "Traceback" not in proc.stderr and not (tmp / "never" / "results.json").exists()
    for option, value in (("--retries", "-1"), ("--jobs", "0"), ("--timeout", "-1"), ("--timeout", "nan")):
        proc = run(home, tmp, "never", "--profile", str(profile(tmp)), option, value)
        assert proc.returncode == 2 and proc.stderr.startswith(f"aiii: error: {option} "), proc.stderr


# -- --retries ----------------------------------------------------------------------------------


def test_an_error_cell_is_retried_and_every_attempt_is_kept(tmp_path: Path) -> None:
    crash_once = {"AIII_STUTTER_CRASHES": "1"}
    once = run(tmp_path / "home1", tmp_path, "once", "--profile", str(profile(tmp_path)), env=crash_once)
    assert once.returncode == 0, once.stderr
    cell = next(c for c in json.loads((tmp_path / "once" / "results.json").read_text())["cells"] if c["id"] == STUTTER)
    assert cell["outcome"] == "error" and "crash on call 1" in cell["reason"] and "attempts" not in cell
    assert (tmp_path / "home1" / "stutter-calls.txt").read_text().splitlines() == ["call 1"]

    home = tmp_path / "home2"
    proc = run(home, tmp_path, "retried", "--profile", str(profile(tmp_path)), "--retries", "2",
               "--sign-key", str(_key(home, tmp_path)), "--sign-as", "hub", env=crash_once)
    assert proc.returncode == 0, proc.stderr
    assert (home / "stutter-calls.txt").read_text().splitlines() == ["call 1", "call 2"], "the adapter was called again"
    bundle = json.loads((tmp_path / "retried" / "results.json").read_text())
    cell = next(c for c in bundle["cells"] if c["id"] == STUTTER)
    assert cell["outcome"] == "pass" and cell["attempts"] == 2
    assert [a["outcome"] for a in cell["attempt_log"]] == ["error", "pass"]
    assert "crash on call 1" in cell["attempt_log"][0]["reason"]
    assert "attempts" not in next(c for c in bundle["cells"] if c["id"] == EXIFTOOL)  # it passed at once
    summary = (tmp_path / "retried" / "summary.md").read_text()
    assert "## Retried cells" in summary and "**pass** (after 2 attempts) exiftool → stutter" in summary
    # the signed predicate says the same: 2 attempts
    envelope = json.loads((tmp_path / "retried" / "results.dsse.json").read_text())
    verify = aiii(home, "bundle", "verify", str(tmp_path / "retried" / "results.json"), "--hub-keys", str(tmp_path / "keys"))
    assert verify.returncode == 0, verify.stdout + verify.stderr
    import base64

    statement = json.loads(base64.b64decode(envelope["payload"]))
    assert statement["predicate"]["cells"][STUTTER]["attempts"] == 2


def _key(home: Path, tmp: Path) -> Path:
    done = aiii(home, "keys", "generate", "--out", str(tmp / "keys"), "--id", "hub")
    assert done.returncode == 0, done.stderr
    return tmp / "keys" / "hub.pem"


def test_a_retry_calls_only_the_steps_that_failed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer's step worked: the retry reuses it and calls only the reader again (both
    readers declare the same fields, so both cells share one write)."""
    monkeypatch.setenv("AIII_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AIII_STUTTER_CRASHES", "2")
    summary = execute_run(RunOptions(profile=str(profile(tmp_path)), out=str(tmp_path / "out"), store=str(tmp_path / "s.sqlite"),
                                     extra_vendor_dirs=[str(TESTS / "doubles")], retries=3, jobs=2), discover(), progress=False)
    calls = summary.timing.by_operation
    assert calls["stutter metadata.read"] == 3 and calls["exiftool metadata.write"] == 1, calls
    assert summary.outcomes == {"pass": 2}
