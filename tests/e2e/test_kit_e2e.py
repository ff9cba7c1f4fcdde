"""The adapter kit is a distribution of its own: ``pip install ./kit`` into an empty
environment, outside the repository, is all a vendor needs to serve its adapter, and the
served adapter passes ``aiii adapter check``.  Slow (a virtual environment and a wheel
build): about 20 s."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import ROOT

from runner.kit_wheel import KIT_DIR

BASICS = {"pip", "setuptools", "wheel"}


@pytest.fixture(scope="module")
def kit_venv() -> Iterator[Path]:
    """A fresh virtual environment outside the repository with only the kit installed."""
    home = Path(tempfile.mkdtemp(prefix="aiii-kit-venv-"))
    assert ROOT not in home.parents
    try:
        subprocess.run([sys.executable, "-m", "venv", str(home / "venv")], check=True, timeout=300)
        python = home / "venv" / "bin" / "python"
        proc = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(KIT_DIR)],
                              capture_output=True, text=True, timeout=600, cwd=home)
        assert proc.returncode == 0, proc.stderr[-2000:]
        yield python
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}


def test_the_kit_installs_alone_with_no_dependencies(kit_venv: Path) -> None:
    listed = subprocess.run([str(kit_venv), "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
                            capture_output=True, text=True, check=True, timeout=120).stdout
    names = {item["name"].lower() for item in json.loads(listed)}
    assert names - BASICS == {"aiii-adapter-kit"}
    frozen = subprocess.run([str(kit_venv), "-m", "pip", "freeze", "--disable-pip-version-check"],
                            capture_output=True, text=True, check=True, timeout=120).stdout.splitlines()
    assert [line.split(" @ ")[0].split("==")[0] for line in frozen] == ["aiii-adapter-kit"], frozen  # "@ file:///.../kit"
    # Its face, its family modules and its protocol schemas import there, the harness does not.
    probe = ("import aiii_kit, aiii_kit.metadata, aiii_kit.c2pa, aiii_kit.iscc, aiii_kit.watermark, aiii_kit.optout, "
             "aiii_kit.vocab\nfrom aiii_kit.protocol import OPERATIONS\nprint(sorted(aiii_kit.__all__), len(OPERATIONS))\n"
             "import importlib.util\nprint(importlib.util.find_spec('runner'))\n")
    out = subprocess.run([str(kit_venv), "-c", probe], capture_output=True, text=True, check=True, timeout=60,
                         cwd=kit_venv.parent, env=_clean_env()).stdout.splitlines()
    from aiii_kit.protocol import OPERATIONS

    assert out == [f"['Adapter', 'AdapterError', 'Asset', 'Unsupported', 'serve'] {len(OPERATIONS)}", "None"]


def test_a_reference_adapter_served_from_the_kit_alone_passes_adapter_check(kit_venv: Path, aiii_home: Path) -> None:
    from runner.protocol_check import check_target

    folder = Path(tempfile.mkdtemp(prefix="aiii-kit-serve-"))
    vendor = folder / "registry-reference"
    shutil.copytree(ROOT / "vendors" / "registry-reference", vendor)  # served from outside the repository
    sock = folder / "adapter.sock"
    server = subprocess.Popen(
        [str(kit_venv), "-m", "aiii_kit", "--entry", "adapter.py:RegistryReferenceAdapter", "--base", str(vendor),
         "--vendor", "registry-reference", "--unix", str(sock), "--version-rule", '{"adapter": true}'],
        cwd=folder, env=_clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not sock.is_socket() and server.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sock.is_socket(), server.stderr.read().decode() if server.poll() is not None else "no socket in 60 s"
        probes = check_target(str(sock), timeout=30)
        failed = [f"{p.name}: {p.detail}" for p in probes if not p.ok]
        assert not failed, failed
        names = [p.name for p in probes]
        assert "identifier.validate on sample params" in names and "describe" in names, names
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)
