"""The adapter kit's hash: it follows the kit's files and keys the process environments and
docker images that hold the kit.  Installing the kit alone and serving an adapter is in
tests/e2e/test_kit_e2e.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import ROOT

from runner.kit_wheel import KIT_DIR, kit_hash


def test_the_kit_hash_follows_its_files(tmp_path: Path) -> None:
    copy = tmp_path / "kit"
    shutil.copytree(KIT_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
    assert kit_hash(copy) == kit_hash(KIT_DIR)
    (copy / "aiii_kit" / "__pycache__").mkdir(exist_ok=True)
    (copy / "aiii_kit" / "__pycache__" / "x.pyc").write_bytes(b"cache")  # caches are not the kit
    assert kit_hash(copy) == kit_hash(KIT_DIR)
    (copy / "aiii_kit" / "vocab.py").write_text((copy / "aiii_kit" / "vocab.py").read_text() + "\n# changed\n")
    assert kit_hash(copy) != kit_hash(KIT_DIR)


def test_a_kit_change_makes_new_environments_and_images(monkeypatch: pytest.MonkeyPatch, aiii_home: Path) -> None:
    """The kit's hash keys the process environments and the docker images that hold it."""
    from runner import images
    from runner.transports import process
    from runner.vendors import load_manifest

    commands: list[list[str]] = []

    def run(cmd: list[str], what: str, *more: object) -> None:  # records, builds nothing
        commands.append(cmd)
        if cmd[1:3] == ["-m", "venv"]:
            Path(cmd[3]).mkdir(parents=True)

    monkeypatch.setattr(process, "run_step", run)
    monkeypatch.setattr(process, "kit_wheel", lambda: Path("/nowhere/aiii_adapter_kit-0.1.0-py3-none-any.whl"))
    monkeypatch.setattr(process, "kit_hash", lambda: "one")
    first = process.venv_python(["six==1.17.0"])
    assert process.venv_python(["six==1.17.0"]) == first  # cached
    monkeypatch.setattr(process, "kit_hash", lambda: "two")
    assert process.venv_python(["six==1.17.0"]) != first
    assert commands[-1][-2:] == ["--no-deps", "/nowhere/aiii_adapter_kit-0.1.0-py3-none-any.whl"]  # installed last

    manifest = load_manifest(ROOT / "vendors" / "registry-reference" / "vendor.toml")
    monkeypatch.setattr(images, "kit_hash", lambda: "one")
    before = images.context_hash(manifest, "0.1.0", "sha256:base", [], [])
    monkeypatch.setattr(images, "kit_hash", lambda: "two")
    assert images.context_hash(manifest, "0.1.0", "sha256:base", [], []) != before
