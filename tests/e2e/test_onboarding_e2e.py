"""A vendor joins from its own repository, as the README's "Joining from your own
repository" says, step by step, from a folder outside this repository: vendor "acme"
(exiv2's adapter under another id, a real small vendor built on libexiv2) installs the
kit, writes its adapter, checks it with ``aiii adapter check``, runs the profile against
the reference vendors with ``--vendor-dir``, produces and signs a pack, and sends the
pack and the signed bundle to the hub, which verifies the bundle and judges the pack
without acme's code.  Slow (a virtual environment with the kit and pyexiv2): about 15 s."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT, aiii

PROFILE = """name = "onboarding"
description = "acme's metadata writes read by the reference vendors, and the reverse, on one JPEG."
vendors = ["acme", "exiftool", "exiv2"]
fail_on = "never"

[[checks]]
id = "metadata.roundtrip"
level = "MUST"
vectors = { ids = ["kodim01-jpg"] }
params = { value_sets = ["ascii"] }
"""

PIP = ("-m", "pip", "install", "--quiet", "--disable-pip-version-check")


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}


def _cells(folder: Path) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in json.loads((folder / "results.json").read_text())["cells"]}


@pytest.fixture(scope="module")
def tmp() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="aiii-onboarding-")).resolve()
    assert ROOT not in folder.parents and folder != ROOT
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _serve(python: Path, vendor: Path, sock: Path) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [str(python), "-m", "aiii_kit", "--entry", "adapter.py:Exiv2Adapter", "--base", str(vendor),
         "--vendor", "acme", "--unix", str(sock), "--version-rule", '{"adapter": true}'],
        cwd=vendor.parent, env=_clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not sock.is_socket() and server.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if not sock.is_socket():
        server.kill()
        _, err = server.communicate(timeout=10)
        pytest.fail(f"the adapter did not serve in 60 s: {err.decode()[-2000:]}")
    return server


def test_a_vendor_joins_from_its_own_repository(home: Path, tmp: Path) -> None:
    vendors = tmp / "acme-repo" / "vendors"
    acme = vendors / "acme"

    # 1. Install the kit (and the vendor's own library) in a fresh environment of its own.
    subprocess.run([sys.executable, "-m", "venv", str(tmp / "venv")], check=True, timeout=300)
    python = tmp / "venv" / "bin" / "python"
    proc = subprocess.run([str(python), *PIP, str(ROOT / "kit"), "pyexiv2==2.16.0"],
                          capture_output=True, text=True, timeout=600, cwd=tmp)
    assert proc.returncode == 0, proc.stderr[-2000:]
    probe = "import aiii_kit, pyexiv2, importlib.util\nprint(importlib.util.find_spec('runner'))\n"
    out = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, timeout=60,
                         cwd=tmp, env=_clean_env())
    assert out.returncode == 0 and out.stdout.splitlines() == ["None"], out.stderr

    # 2. Write an adapter: vendors/acme/{vendor.toml,adapter.py} in acme's own repository.
    shutil.copytree(ROOT / "vendors" / "exiv2", acme, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    toml = acme / "vendor.toml"
    toml.write_text(toml.read_text().replace('id = "exiv2"', 'id = "acme"', 1))
    assert (acme / "vendor.toml").is_file() and (acme / "adapter.py").is_file()
    tree = ast.parse((acme / "adapter.py").read_text())
    roots = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    roots |= {node.module.split(".")[0] for node in ast.walk(tree)
              if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
    assert roots - {"__future__", "typing"} == {"aiii_kit", "pyexiv2"}, roots

    # 3. Serve it from that environment and check it keeps the protocol.
    sock = tmp / "acme.sock"
    server = _serve(python, acme, sock)
    try:
        check = aiii(home, "adapter", "check", str(sock), timeout=300)
        assert check.returncode == 0, check.stdout + check.stderr
    finally:
        server.terminate()
        server.wait(timeout=10)

    # 4. Run the profile against the reference vendors, signed with acme's key.
    keys = aiii(home, "keys", "generate", "--out", str(tmp / "acme-keys"), "--id", "acme")
    assert keys.returncode == 0, keys.stderr
    (acme / "keys").mkdir()
    shutil.copy(tmp / "acme-keys" / "acme.pub", acme / "keys")
    profile = tmp / "onboarding.toml"
    profile.write_text(PROFILE)
    sign = ("--sign-key", str(tmp / "acme-keys" / "acme.pem"), "--sign-as", "acme")
    run = aiii(home, "run", "--profile", str(profile), "--vendor-dir", str(vendors), *sign,
               "--out", str(tmp / "acme-out"), "--store", str(tmp / "acme.sqlite"), "-q")
    assert run.returncode == 0, run.stderr
    own = _cells(tmp / "acme-out")
    produced = {cid: c for cid, c in own.items() if c["producer"] == "acme" and c["consumer"] in ("exiftool", "exiv2")}
    assert len(own) == 9 and {c["consumer"] for c in produced.values()} == {"exiftool", "exiv2"}, sorted(own)
    assert {c["outcome"] for c in own.values()} == {"pass"}, {cid: c["reason"] for cid, c in own.items()}
    assert (tmp / "acme-out" / "results.dsse.json").is_file()

    # 5. Produce acme's pack of the same plan, signed.
    made = aiii(home, "run", "--profile", str(profile), "--vendor-dir", str(vendors), "--produce", "acme", *sign,
                "--out", str(tmp / "acme-pack"), "-q")
    assert made.returncode == 0, made.stderr
    pack = tmp / "acme-pack" / "pack-acme.tar"
    assert made.stdout.splitlines()[-1].endswith(f"signed as acme: {pack}") and pack.is_file()

    # 6. Send the pack and the signed bundle: the hub has acme's manifest and public key, not its code.
    hub = tmp / "hub" / "vendors"
    (hub / "acme").mkdir(parents=True)
    shutil.copy(toml, hub / "acme")
    shutil.copytree(acme / "keys", hub / "acme" / "keys")
    (hub / "acme" / "adapter.py").write_text("raise RuntimeError('acme must not be started: it is served from its pack')\n")
    verify = aiii(home, "bundle", "verify", str(tmp / "acme-out" / "results.json"), "--keys", str(hub))
    assert verify.returncode == 0, verify.stderr
    keyid = json.loads((tmp / "acme-keys" / "acme.pub").read_text())["keyid"]
    assert verify.stdout.startswith(f"verified: {tmp / 'acme-out' / 'results.json'} signed by acme/{keyid[:16]}"), verify.stdout
    judged = aiii(home, "run", "--profile", str(profile), "--vendor-dir", str(hub), "--import-pack", str(pack),
                  "--participant", "hub", "--out", str(tmp / "hub-out"), "--store", str(tmp / "hub.sqlite"), "-q")
    assert judged.returncode == 0, judged.stderr
    assert any(line.startswith(f"served acme from {pack}: ") for line in judged.stdout.splitlines()), judged.stdout
    theirs = _cells(tmp / "hub-out")
    assert theirs.keys() == own.keys()
    for cid, cell in theirs.items():  # acme as the reader is not a producer step: not in its pack
        if cell["consumer"] == "acme":
            assert (cell["outcome"], cell["reason"]) == ("blocked", "read: not in the pack of acme"), cid
    for cid, cell in produced.items():
        assert (theirs[cid]["outcome"], theirs[cid]["reason"]) == (cell["outcome"], cell["reason"]), cid
        written = theirs[cid]["origin"]["written"]
        assert (written["participant"], written["keyid"], written["verified"]) == ("acme", keyid, True), cid
