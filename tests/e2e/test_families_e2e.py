"""Families as packages: found by discovery (built-in and installed), checked against
the interface when found, and independent of each other and of the runner's core."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import ROOT

TOY_FAMILY = '''
"""A toy family from another distribution: one check over one transform of its own."""

from conformance.base import Answers, Cell, Check, PlanContext, planned
from conformance.family import Family
from aiii_kit import Asset
from runner.model import Outcome, Verdict, transform_step


def identity(asset, params):
    return Asset(asset.data, asset.media_type)


class SameBytes(Check):
    id = "toy.same_bytes"
    title = "A copy keeps every byte"
    family = "toy"
    description = "The toy transform's output equals its input."

    def plan(self, ctx: PlanContext):
        for vector in ctx.vectors:
            cell = Cell(check=self.id, level=ctx.config.level, vector=vector.id, producer=None, consumer=None)
            yield planned(cell, steps={"copy": transform_step("toy.identity", vector.id)})

    def judge(self, cell, answers: Answers) -> Verdict:
        same = answers.asset("copy").data == answers.source().data
        return Verdict(Outcome.PASS if same else Outcome.FAIL, "copied" if same else "changed",
                       {"bytes": len(answers.source().data)})


FAMILY = Family(name="toy", checks=[SameBytes()], transforms={"toy.identity": identity})
'''


#: A PEP 517 backend in a few lines, so the toy builds offline with nothing installed.
TOY_BACKEND = """
import base64, hashlib, zipfile

NAME, VERSION = "aiii_toy_family", "0.1"
FILES = {
    "aiii_toy/__init__.py": open("aiii_toy/__init__.py", "rb").read(),
    f"{NAME}-{VERSION}.dist-info/METADATA": b"Metadata-Version: 2.1\\nName: aiii-toy-family\\nVersion: 0.1\\n",
    f"{NAME}-{VERSION}.dist-info/WHEEL": b"Wheel-Version: 1.0\\nGenerator: toy\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    f"{NAME}-{VERSION}.dist-info/entry_points.txt": b"[aiii.families]\\ntoy = aiii_toy\\n",
}


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name = f"{NAME}-{VERSION}-py3-none-any.whl"
    record = f"{NAME}-{VERSION}.dist-info/RECORD"
    with zipfile.ZipFile(f"{wheel_directory}/{name}", "w") as whl:
        lines = []
        for path, data in FILES.items():
            whl.writestr(path, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            lines.append(f"{path},sha256={digest},{len(data)}")
        whl.writestr(record, "\\n".join([*lines, f"{record},,"]) + "\\n")
    return name
"""


@pytest.mark.timeout(600)
def test_installed_family_runs(tmp_path: Path) -> None:
    """A distribution declaring an ``aiii.families`` entry point, pip-installed into a
    folder of its own (never the shared environment), is found and its cells run."""
    src = tmp_path / "src"
    (src / "aiii_toy").mkdir(parents=True)
    (src / "aiii_toy" / "__init__.py").write_text(textwrap.dedent(TOY_FAMILY))
    (src / "pyproject.toml").write_text(textwrap.dedent("""
        [build-system]
        requires = []
        build-backend = "toy_backend"
        backend-path = ["."]

        [project]
        name = "aiii-toy-family"
        version = "0.1"

        [project.entry-points."aiii.families"]
        toy = "aiii_toy"
    """))
    (src / "toy_backend.py").write_text(TOY_BACKEND)
    target = tmp_path / "site"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                          "--target", str(target), str(src)], capture_output=True, text=True, timeout=300)
    assert pip.returncode == 0, pip.stderr
    profile = tmp_path / "toy.toml"
    profile.write_text(textwrap.dedent("""
        name = "toy"
        description = "one check from an installed family"
        vendors = ["exiftool"]

        [[checks]]
        id = "toy.same_bytes"
        level = "MUST"
        vectors = { ids = ["kodim01-jpg"] }
    """))
    env = {**os.environ, "AIII_HOME": str(tmp_path / "home"), "PYTHONPATH": os.pathsep.join([str(ROOT), str(target)])}
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "runner.cli", "run", "-q", "--profile", str(profile), "--out", str(out)],
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    bundle = json.loads((out / "results.json").read_text())
    cells = {c["id"]: c for c in bundle["cells"]}
    assert set(cells) == {"toy.same_bytes/kodim01-jpg/-/-/-"}
    assert cells["toy.same_bytes/kodim01-jpg/-/-/-"]["outcome"] == "pass"
    assert bundle["checks"][0]["family"] == "toy"


def test_broken_installed_family_stops_the_run_in_one_line(tmp_path: Path) -> None:
    pkg = tmp_path / "site" / "aiii_bad"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("FAMILY = 'not a family'\n")
    dist = tmp_path / "site" / "aiii_bad-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: aiii-bad\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[aiii.families]\nbad = aiii_bad\n")
    env = {**os.environ, "AIII_HOME": str(tmp_path / "home"),
           "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path / "site")])}
    run = subprocess.run([sys.executable, "-m", "runner.cli", "profiles", "list"], capture_output=True, text=True,
                         cwd=ROOT, env=env, timeout=120)
    assert run.returncode == 2  # a configuration error
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert lines == ["aiii: error: family bad (aiii_bad, entry point aiii.families): FAMILY must be a conformance.family.Family, not str"], run.stderr
