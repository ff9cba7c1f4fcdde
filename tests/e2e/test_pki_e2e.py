"""The run-time test PKI: its private keys stay out of a git repository (runs git), and
participants share one with `aiii pki export`/`import`, so they plan one plan."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from helpers import aiii

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
    assert holding_keys == [ROOT_KEY_FILE], "leaves are derived from the root, never written"
    assert all(name.startswith("TEST-ONLY-") for name in holding_keys)
    for name in holding_keys:
        assert stat.S_IMODE((directory / name).stat().st_mode) == 0o600, f"{name} readable by others"
    assert (directory / ROOT_CERT_FILE).is_file()
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, check=True)
    assert status.stdout == "", f"PKI files visible to git: {status.stdout}"


def _plan(home: Path, out: Path) -> dict[str, str]:
    proc = aiii(home, "plan", "--profile", "provenance", "--vendors", "c2pa-python", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text())["plan_digest"]["components"]  # type: ignore[no-any-return]


def test_participants_share_one_test_pki_and_so_one_plan(tmp_path: Path) -> None:
    """The hub exports its test PKI; a participant who imports it plans the same plan, one
    who does not plans another, and the digest says the PKI is what differs."""
    hub, vendor, stranger = tmp_path / "hub", tmp_path / "vendor", tmp_path / "stranger"
    exported = aiii(hub, "pki", "export", "--out", str(tmp_path / "pki.pem"))
    assert exported.returncode == 0, exported.stderr
    assert "test-only keys" in exported.stdout and stat.S_IMODE((tmp_path / "pki.pem").stat().st_mode) == 0o600
    imported = aiii(vendor, "pki", "import", str(tmp_path / "pki.pem"))
    assert imported.returncode == 0 and imported.stdout.startswith("imported the test PKI, root "), imported.stderr
    shown = {home: aiii(home, "pki", "show").stdout.split(",")[0] for home in (hub, vendor, stranger)}
    assert shown[hub] == shown[vendor] != shown[stranger]
    plans = {home: _plan(home, tmp_path / f"{home.name}.json") for home in (hub, vendor, stranger)}
    assert plans[hub] == plans[vendor]
    assert [name for name in plans[hub] if plans[hub][name] != plans[stranger][name]] == ["pki"]
    again = aiii(vendor, "pki", "export", "--out", str(tmp_path / "pki.pem"))
    assert again.returncode == 2 and "already exists" in again.stderr


@pytest.mark.parametrize(("content", "says"), [
    ("", "found 0 and 0"),
    ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nAAAA\n"
     "-----END PRIVATE KEY-----\n", "not a test PKI"),
])
def test_a_file_that_is_no_exported_pki_is_refused_in_one_line(tmp_path: Path, content: str, says: str) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text(content)
    before = aiii(tmp_path / "home", "pki", "show").stdout
    proc = aiii(tmp_path / "home", "pki", "import", str(bad))
    lines = proc.stderr.splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and str(bad) in lines[0] and says in lines[0], proc.stderr
    assert aiii(tmp_path / "home", "pki", "show").stdout == before, "a refused file changes nothing"
