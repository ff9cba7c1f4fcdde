"""A vendor folder is a package: its adapter imports sibling modules relatively, and two
vendors' modules of the same name never collide (in one process, or each in its own)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from aiii_kit.server import AdapterLoadError, load_adapter, package_name
from helpers import aiii

from runner.transports import TransportError
from runner.transports.inproc import load_adapter_class
from runner.vendors import load_manifest

ADAPTER = '''\
from typing import Any

from aiii_kit import Adapter, AdapterError, Asset

from . import common
from .common import VALUE


class Sibling(Adapter):
    version_hint = VALUE

    def metadata_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        if asset.media_type != "image/jpeg":
            raise AdapterError(f"no metadata.read for {asset.media_type}")
        return {"fields": {"title": common.VALUE}}
'''

MANIFEST = '''\
id = "{vid}"
name = "Test double: {vid}"
organisation = "aiii-interop tests"
placement = "process"
role = "test-double"
default = false
description = "An adapter split into two modules of its folder."

[adapter]
entry = "adapter.py:Sibling"

[version]
adapter = true

[[capabilities]]
operation = "metadata.read"
media_types = ["image/jpeg"]
'''


def _vendor(root: Path, vid: str, value: str) -> Path:
    folder = root / vid
    folder.mkdir(parents=True)
    (folder / "vendor.toml").write_text(MANIFEST.format(vid=vid))
    (folder / "adapter.py").write_text(ADAPTER)
    (folder / "common.py").write_text(f"VALUE = {value!r}\n")
    return folder


@pytest.fixture
def vendors(tmp_path: Path) -> Path:
    _vendor(tmp_path, "split-a", "from-a")
    _vendor(tmp_path, "split-b", "from-b")
    return tmp_path


def test_two_vendors_siblings_of_one_name_load_in_one_process(vendors: Path) -> None:
    a = load_adapter("adapter.py:Sibling", vendors / "split-a")
    b = load_adapter("adapter.py:Sibling", vendors / "split-b")
    assert (a.version_hint, b.version_hint) == ("from-a", "from-b")
    assert a.__module__ == f"{package_name(vendors / 'split-a')}.adapter" != b.__module__
    assert "common" not in sys.modules  # nothing leaked onto sys.path
    # loading again gives the same class, not a second import
    assert load_adapter("adapter.py:Sibling", vendors / "split-a") is a


def test_the_inproc_placement_loads_split_adapters_apart(vendors: Path) -> None:
    classes = [load_adapter_class(load_manifest(vendors / vid / "vendor.toml")) for vid in ("split-a", "split-b")]
    assert [c().implementation_version() for c in classes] == ["from-a", "from-b"]


def test_a_failed_import_leaves_nothing_behind(tmp_path: Path) -> None:
    folder = _vendor(tmp_path, "split-broken", "x")
    (folder / "common.py").write_text("raise RuntimeError('broken on purpose')\n")
    manifest = load_manifest(folder / "vendor.toml")
    with pytest.raises(TransportError, match="importing adapter.py failed: RuntimeError"):
        load_adapter_class(manifest)
    assert not [m for m in sys.modules if m.startswith(package_name(folder))]
    (folder / "common.py").write_text("VALUE = 'mended'\n")
    assert load_adapter_class(manifest).version_hint == "mended"
    with pytest.raises(AdapterLoadError, match="not an Adapter subclass"):
        load_adapter("common.py:VALUE", folder)


def test_a_single_file_adapter_in_a_subfolder_still_loads(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "my-adapter.py").write_text(
        "from aiii_kit import Adapter\n\nclass Solo(Adapter):\n    version_hint = 'solo'\n")
    assert load_adapter("src/my-adapter.py:Solo", tmp_path).version_hint == "solo"


@pytest.mark.parametrize(("vid", "value"), [("split-a", "from-a"), ("split-b", "from-b")])
def test_the_process_placement_serves_split_adapters(vendors: Path, tmp_path: Path, vid: str, value: str) -> None:
    proc = aiii(tmp_path / "home", "adapter", "check", vid, "--vendor-dir", str(vendors), "--timeout", "30")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"describe: vendor {vid}, version {value}," in proc.stdout, proc.stdout
    assert "FAIL" not in proc.stdout
    assert proc.stdout.count("PASS") >= 3
