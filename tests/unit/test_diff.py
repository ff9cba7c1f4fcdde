"""``aiii diff`` (runner/diff.py, runner/cli_diff.py): every kind of change lands in its
category, by vendor and by check; the Markdown escapes vendor strings; the CLI takes
files, folders and stored run ids, and refuses anything else in one line."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from helpers import aiii
from report_bundle import SCRIPT, make_bundle, summarise

from reports.bundle import validate_bundle, write_bundle
from runner.diff import diff_bundles, diff_markdown


def _pair() -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    a = make_bundle()
    b = copy.deepcopy(a)
    b["run"]["id"] = "run-2026-11-04"
    cells = {c["id"]: c for c in b["cells"]}
    passing = next(c for c in b["cells"] if c["outcome"] == "pass")
    failing = next(c for c in b["cells"] if c["outcome"] == "fail")
    unsupported = next(c for c in b["cells"] if c["outcome"] == "unsupported")
    same = next(c for c in b["cells"] if c["outcome"] == "pass" and c is not passing)
    passing.update(outcome="fail", reason=f"field lost {SCRIPT}")
    failing.update(outcome="pass", reason="read back")
    same["reason"] = "read back, differently"
    removed = unsupported["id"]
    b["cells"] = [c for c in b["cells"] if c["id"] != removed]
    added = copy.deepcopy(same)
    added["id"] = same["id"].rsplit("/", 1)[0] + "/late"
    added["variant"] = "late"
    b["cells"].append(added)
    b["summary"] = summarise(b["cells"])
    validate_bundle(b)
    assert len(cells) == len(a["cells"])
    return a, b, {"regression": passing["id"], "fix": failing["id"], "reason": same["id"], "removed": removed,
                  "new": added["id"]}


def test_each_change_lands_in_its_category() -> None:
    a, b, ids = _pair()
    d = diff_bundles(a, b)
    assert d["summary"] == {"regressions": 1, "fixes": 1, "new": 1, "removed": 1, "changed": 0, "reasons": 1,
                            "flaky": 0}
    assert [c["id"] for c in d["cells"]["regressions"]] == [ids["regression"]]
    regression = d["cells"]["regressions"][0]
    assert regression["before"]["outcome"] == "pass" and regression["after"]["outcome"] == "fail"
    assert [c["id"] for c in d["cells"]["fixes"]] == [ids["fix"]]
    assert [c["id"] for c in d["cells"]["new"]] == [ids["new"]] and d["cells"]["new"][0]["before"] is None
    assert [c["id"] for c in d["cells"]["removed"]] == [ids["removed"]]
    assert (d["a"]["run"], d["b"]["run"]) == (a["run"]["id"], "run-2026-11-04")
    for vendor in regression["vendors"]:
        assert d["by_vendor"][vendor]["regressions"] >= 1
    assert d["by_check"][regression["check"]]["regressions"] == 1
    assert diff_bundles(a, a)["summary"] == dict.fromkeys(d["summary"], 0)


def test_a_flaky_cell_is_listed_apart_never_as_a_regression() -> None:
    a, b, ids = _pair()
    d = diff_bundles(a, b, flaky=[ids["regression"]])
    assert d["summary"]["regressions"] == 0 and [c["id"] for c in d["cells"]["flaky"]] == [ids["regression"]]


def test_the_markdown_lists_every_change_with_vendor_strings_escaped() -> None:
    a, b, ids = _pair()
    text = diff_markdown(diff_bundles(a, b))
    assert text.startswith(f"# Changes from run {a['run']['id']} to run run-2026-11-04\n")
    assert "1 regressions, 1 fixes, 1 new, 1 removed, 0 changed, 1 reasons, 0 flaky" in text
    assert "## Regressions (worked, now fails or errs): 1" in text and ids["regression"] in text
    row = next(line for line in text.splitlines() if line.startswith(f"| {ids['regression']} |"))
    assert row.count(" | ") == 2, "a vendor's string cannot add table columns"


def test_the_cli_compares_files_and_folders_and_refuses_the_rest(tmp_path: Path) -> None:
    a, b, ids = _pair()
    write_bundle(a, tmp_path / "a" / "results.json")
    write_bundle(b, tmp_path / "b" / "results.json")
    proc = aiii(tmp_path / "home", "diff", str(tmp_path / "a" / "results.json"), str(tmp_path / "b"), "--json",
                "--out-md", str(tmp_path / "d.md"))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["summary"]["regressions"] == 1
    assert ids["fix"] in (tmp_path / "d.md").read_text()
    bad = aiii(tmp_path / "home", "diff", str(tmp_path / "a"), "no-such-run")
    assert bad.returncode == 2 and len(bad.stderr.splitlines()) == 1 and "no-such-run" in bad.stderr, bad.stderr
    (tmp_path / "c.json").write_text("{}")
    bad = aiii(tmp_path / "home", "diff", str(tmp_path / "c.json"), str(tmp_path / "b"))
    assert bad.returncode == 2 and "c.json: not a result bundle" in bad.stderr and len(bad.stderr.splitlines()) == 1
