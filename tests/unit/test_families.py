"""Families as packages: found by discovery (built-in and installed), checked against
the interface when found, and independent of each other and of the runner's core."""

from __future__ import annotations

import ast
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
    assert FAMILIES == ["identifiers", "metadata", "optout", "provenance", "recognition", "watermark"]
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
