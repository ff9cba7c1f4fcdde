"""The run-time test PKI's private keys stay out of a git repository (runs git)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from runner.pki import ROOT_CERT_FILE, ROOT_KEY_FILE, TestPKI


def test_private_keys_are_named_test_only_and_never_committed(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("needs git to show the keys stay out of a repository (every clone has git)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    subprocess.run(["git", "init", "-q", str(tmp_path)], env=env, check=True)
    directory = tmp_path / "state" / "pki"
    pki = TestPKI.create(directory)
    pki.leaf("c2pa-python")
    pki.leaf("other-signer")
    assert (directory / ".gitignore").read_text() == "*\n"
    holding_keys = sorted(p.name for p in directory.iterdir() if "PRIVATE KEY" in p.read_text())
    assert holding_keys == sorted(
        [ROOT_KEY_FILE, "TEST-ONLY-leaf-c2pa-python.key.pem", "TEST-ONLY-leaf-other-signer.key.pem"]
    )
    assert all(name.startswith("TEST-ONLY-") for name in holding_keys)
    for name in holding_keys:
        assert stat.S_IMODE((directory / name).stat().st_mode) == 0o600, f"{name} readable by others"
    assert (directory / ROOT_CERT_FILE).is_file()
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, check=True)
    assert status.stdout == "", f"PKI files visible to git: {status.stdout}"
