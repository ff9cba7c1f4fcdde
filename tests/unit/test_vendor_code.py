"""What counts as a vendor's code: its cache keys and image follow the adapter, not its tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import ROOT

from runner.images import _vendor_files
from runner.vendors import code_hash, load_manifest


@pytest.mark.parametrize(("folder_name", "file_name"), [("tests", "test_mutagen.py"), ("keys", "mutagen.pub")])
def test_a_vendors_own_tests_and_keys_key_no_new_cache_entry_and_stay_out_of_its_image(
        tmp_path: Path, folder_name: str, file_name: str) -> None:
    folder = tmp_path / "mutagen"
    shutil.copytree(ROOT / "vendors" / "mutagen", folder, ignore=shutil.ignore_patterns("__pycache__", "tests"))
    before = code_hash(load_manifest(folder / "vendor.toml"))
    (folder / folder_name).mkdir()
    (folder / folder_name / file_name).write_text("def test_x() -> None:\n    assert True\n")
    manifest = load_manifest(folder / "vendor.toml")
    assert code_hash(manifest) == before
    assert not [p for p in _vendor_files(manifest) if folder_name in p.relative_to(folder).parts]
    (folder / "adapter.py").write_text((folder / "adapter.py").read_text() + "\n# changed\n")
    assert code_hash(load_manifest(folder / "vendor.toml")) != before
