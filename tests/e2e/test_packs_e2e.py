"""Artifact packs as a user meets them: vendor X, in a folder of its own with its own
key, produces a signed pack (`aiii run --produce`); the hub imports it
(`aiii run --import-pack`) with X's adapter unable to start, and its cells equal a
local run's, with their origins; every bad pack is refused in one line, nothing written."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT, aiii

from runner.keys import load_signer
from runner.packs import write_pack

PROFILE = """name = "packs"
description = "X's metadata writes read by exiftool, and the reverse, on one JPEG."
vendors = ["exiftool", "xmeta"]
fail_on = "never"

[[checks]]
id = "metadata.roundtrip"
level = "MUST"
vectors = {{ ids = ["kodim01-jpg"] }}
params = {{ value_sets = ["{values}"] }}
"""


def _vendor(folder: Path, working: bool) -> Path:
    """Vendor xmeta (exiv2's adapter under another id); with ``working`` False its
    adapter fails as soon as it is loaded: a hub that starts it fails the test."""
    target = folder / "xmeta"
    shutil.copytree(ROOT / "vendors" / "exiv2", target, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    toml = target / "vendor.toml"
    toml.write_text(toml.read_text().replace('id = "exiv2"', 'id = "xmeta"', 1))
    if not working:
        (target / "adapter.py").write_text("raise RuntimeError('xmeta must not be started: it is served from its pack')\n")
    return folder


@pytest.fixture(scope="module")
def world(home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """X's folder (vendor + key), the hub's folder (X's manifest and public key, no
    working adapter), the profile, X's pack, a local run and the hub's run."""
    work = tmp_path_factory.mktemp("packs")
    x = _vendor(work / "x", working=True)
    assert aiii(home, "keys", "generate", "--out", str(work / "xkeys"), "--id", "xmeta").returncode == 0
    (x / "xmeta" / "keys").mkdir()
    shutil.copy(work / "xkeys" / "xmeta.pub", x / "xmeta" / "keys")
    hub = _vendor(work / "hub", working=False)
    shutil.copytree(x / "xmeta" / "keys", hub / "xmeta" / "keys")
    (work / "packs.toml").write_text(PROFILE.format(values="ascii"))
    (work / "other.toml").write_text(PROFILE.format(values="unicode"))
    made = aiii(home, "run", "--profile", str(work / "packs.toml"), "--vendor-dir", str(x), "--produce", "xmeta",
                "--sign-key", str(work / "xkeys" / "xmeta.pem"), "--sign-as", "xmeta", "--out", str(work / "made"),
                "--participant", "x-ci", "-q")
    assert made.returncode == 0, made.stderr
    assert made.stdout.splitlines()[-1].endswith(f"signed as xmeta: {work / 'made' / 'pack-xmeta.tar'}")
    local = aiii(home, "run", "--profile", str(work / "packs.toml"), "--vendor-dir", str(x), "--out", str(work / "local"),
                 "--store", str(work / "local.sqlite"), "-q")
    assert local.returncode == 0, local.stderr
    return work


def _hub_run(home: Path, work: Path, pack: Path, name: str, *extra: str) -> tuple[int, list[str], list[str]]:
    proc = aiii(home, "run", "--profile", str(work / "packs.toml"), "--vendor-dir", str(work / "hub"),
                "--import-pack", str(pack), "--participant", "hub", "--out", str(work / name),
                "--store", str(work / f"{name}.sqlite"), "-q", *extra)
    return proc.returncode, proc.stdout.splitlines(), proc.stderr.splitlines()


def _cells(folder: Path) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in json.loads((folder / "results.json").read_text())["cells"]}


def test_the_hub_judges_xs_outputs_without_its_implementation(home: Path, world: Path) -> None:
    code, out, err = _hub_run(home, world, world / "made" / "pack-xmeta.tar", "hub")
    assert code == 0, err
    assert out[-3].startswith(f"served xmeta from {world / 'made' / 'pack-xmeta.tar'}: 1 steps, signed by xmeta/")
    local, hub = _cells(world / "local"), _cells(world / "hub")
    assert local.keys() == hub.keys() and len(hub) == 4
    keyid = json.loads((world / "xkeys" / "xmeta.pub").read_text())["keyid"]
    for cell_id, cell in hub.items():
        written, read = cell["origin"]["written"], cell["origin"]["read"]
        if cell["consumer"] == "xmeta":  # X's reading is not a producer step: not in its pack
            assert (cell["outcome"], cell["reason"]) == ("blocked", "read: not in the pack of xmeta")
            continue
        assert (cell["outcome"], cell["reason"]) == (local[cell_id]["outcome"], local[cell_id]["reason"]), cell_id
        assert read["participant"] == "hub" and read["keyid"] is None
        if cell["producer"] == "xmeta":
            assert (written["participant"], written["keyid"], written["verified"]) == ("x-ci", keyid, True)
            assert written["pack"] == "pack-xmeta.tar" and written["placement"] == "inproc"
        else:
            assert written["participant"] == "hub"
    vendors = {v["id"]: v for v in json.loads((world / "hub" / "results.json").read_text())["vendors"]}
    assert vendors["xmeta"]["transport"] == "pack"
    matrices = "".join(page.read_text() for page in (world / "hub" / "site" / "checks").glob("*.html"))
    assert matrices.count('class="assembled" href=') == 1, "one position assembled from two participants"


def _tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _members(pack: Path) -> dict[str, bytes]:
    with tarfile.open(pack) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar}  # type: ignore[union-attr]


def _resign(world: Path, name: str, key: str, **doc: Any) -> Path:
    members = _members(world / "made" / "pack-xmeta.tar")
    pack_doc = {**json.loads(members["pack.json"]), **doc}
    return write_pack(world / f"{name}.tar", pack_doc, lambda sha: members[f"artifacts/{sha}"],
                      load_signer(world / "xkeys" / f"{key}.pem"), "xmeta")


def _append(world: Path, name: str, info: tarfile.TarInfo, data: bytes = b"") -> Path:
    target = world / f"{name}.tar"
    shutil.copy(world / "made" / "pack-xmeta.tar", target)
    with tarfile.open(target, "a") as tar:
        info.size = len(data) if info.isreg() else 0
        tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return target


def _bad(world: Path, kind: str) -> Path:
    if kind == "one byte":
        raw = bytearray((world / "made" / "pack-xmeta.tar").read_bytes())
        raw[len(raw) // 3] ^= 0x01  # inside the written JPEG
        (world / "one-byte.tar").write_bytes(bytes(raw))
        return world / "one-byte.tar"
    if kind == "unknown key":
        return _resign(world, "stranger", "stranger")
    if kind == "another vendor's key":
        return _resign(world, "rival", "rival")
    if kind == "another plan":
        return _resign(world, "plan", "xmeta", plan_digest="0" * 64)
    if kind == "traversal":
        return _append(world, "traversal", tarfile.TarInfo("../../escaped"), b"x")
    if kind == "symlink":
        link = tarfile.TarInfo("artifacts/" + "a" * 64)
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        return _append(world, "symlink", link)
    assert kind == "oversized"
    return _append(world, "oversized", tarfile.TarInfo("artifacts/" + "b" * 64), bytes(64 * 1024 * 1024 + 1))


REFUSALS = {
    "one byte": "changed after signing",
    "unknown key": "signed by an unknown key",
    "another vendor's key": "registered for rival, not for xmeta",
    "another plan": f"made for plan {'0' * 16}",
    "traversal": "member '../../escaped' is not pack.json",
    "symlink": "is a link or special file",
    "oversized": "bytes (limit 67108864)",
}


@pytest.mark.parametrize("kind", list(REFUSALS))
def test_a_bad_pack_is_refused_whole_in_one_line(home: Path, world: Path, kind: str) -> None:
    for name in ("stranger", "rival"):
        if not (world / "xkeys" / f"{name}.pem").exists():
            assert aiii(home, "keys", "generate", "--out", str(world / "xkeys"), "--id", name).returncode == 0
    rival = world / "rivals" / "rival" / "keys"
    if not rival.exists():
        rival.mkdir(parents=True)
        shutil.copy(world / "xkeys" / "rival.pub", rival)
    pack = _bad(world, kind)
    before = _tree(world)
    code, out, err = _hub_run(home, world, pack, "refused", "--pack-keys", str(world / "rivals"))
    assert code != 0 and out == [] and len(err) == 1, (code, out, err)
    assert REFUSALS[kind] in err[0] and str(pack) in err[0], err
    assert _tree(world) == before and not (world / "refused").exists(), "a refused pack writes nothing"
