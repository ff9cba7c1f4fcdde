"""Families as packages: found by discovery (built-in and installed), checked against
the interface when found, and independent of each other and of the runner's core."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import ROOT

from conformance.discovery import builtin, discover
from conformance.family import Family, FamilyError, validate

CONFORMANCE = ROOT / "conformance"
FAMILIES = sorted(p.name for p in CONFORMANCE.iterdir() if (p / "__init__.py").is_file())


def _imports(path: Path) -> list[str]:
    """Every module a file imports (absolute names; relative ones resolved)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            out += [base] + [f"{base}.{a.name}" for a in node.names]
    return out


def test_builtin_families_are_the_packages() -> None:
    assert FAMILIES == ["identifiers", "metadata", "optout", "provenance", "watermark"]
    families = list(builtin())
    assert [f.name for f in families] == FAMILIES
    suite = discover()
    assert len(suite.checks) == sum(len(f.checks) for f in families)
    assert all(check.family == check.id.split(".")[0] for check in suite.checks.values())


def test_no_family_imports_another() -> None:
    found = []
    for family in FAMILIES:
        for path in sorted((CONFORMANCE / family).rglob("*.py")):
            for name in _imports(path):
                parts = name.split(".")
                if len(parts) > 1 and parts[0] == "conformance" and parts[1] in FAMILIES and parts[1] != family:
                    found.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not found, found


def test_shared_modules_import_no_family() -> None:
    found = [f"{path.relative_to(ROOT)} imports {name}"
             for path in sorted(CONFORMANCE.glob("*.py")) if path.name != "discovery.py"
             for name in _imports(path)
             if name.split(".")[:2][-1] in FAMILIES and name.startswith("conformance.")]
    assert not found, found


def test_runner_core_imports_no_conformance() -> None:
    """Only the CLI, the thin entry, calls discovery; the rest takes checks as arguments."""
    found = [f"{path.relative_to(ROOT)} imports {name}"
             for path in sorted((ROOT / "runner").rglob("*.py")) if path.name != "cli.py"
             for name in _imports(path) if name.split(".")[0] == "conformance"]
    assert not found, found
    cli = [n for n in _imports(ROOT / "runner" / "cli.py") if n.startswith("conformance")]
    assert set(cli) <= {"conformance.discovery", "conformance.discovery.discover"}, cli


def test_family_not_matching_the_interface_is_rejected_naming_it() -> None:
    with pytest.raises(FamilyError, match=r"^family toy-broken: FAMILY must be a conformance.family.Family, not dict$"):
        validate({"name": "toy"}, "toy-broken")
    with pytest.raises(FamilyError, match="family toy: 'not a check' is not a conformance.base.Check instance"):
        validate(Family(name="toy", checks=["not a check"]), "toy")  # type: ignore[list-item]


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
    assert run.returncode != 0
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert lines == ["aiii: error: family bad (aiii_bad, entry point aiii.families): FAMILY must be a conformance.family.Family, not str"], run.stderr
