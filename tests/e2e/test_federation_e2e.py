"""Issue 13's acceptance: the federated round trip, compared cell by cell with one machine.

Three participants, each with its own ``AIII_HOME`` (state, caches, results), share only
files: keys, the hub's test PKI, packs and signed bundles.

- **Vendor X** ("xvendor", a participant, never handed over: libexiv2 for metadata and
  c2pa-rs for C2PA in one adapter of its own) has its own key.  It imports the hub's
  test PKI and produces a signed pack per profile (metadata and provenance).
- **The hub** has X's manifest and public key, not its code (X's adapter fails when
  loaded).  Per profile it produces the packs of its reference vendors, signed by the
  hub, importing X's pack (so the references' steps on X's outputs are in them).  X
  answers with a pack that adds its steps on the hub's outputs (step keys follow
  content: X must work on the hub's very bytes), and the hub runs the profile in two
  shards importing it, signed.
- **X** runs the hub's packs against its own consumer (the reference vendors served from
  the hub's packs, never started), and signs its bundle.
- **Everything is merged** per profile: complete, no conflict, the cells X's reading left
  blocked at the hub filled by X's results.
- **One machine** (the hub's PKI, X's code at hand) runs everything.  The merged outcomes
  and reasons equal its own, cell by cell, and the origins say who computed each step.

About 90 s: eight runs of two small vendor sets over the catalogue's media.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT, aiii

VENDORS = {"metadata": "exiftool,exiv2,xvendor", "provenance": "c2pa-python,exiftool,xvendor"}
REFERENCES = {"metadata": "exiftool,exiv2", "provenance": "c2pa-python,exiftool"}

ADAPTER = '''"""Vendor X: one adapter of its own over libexiv2 (metadata) and c2pa-rs (C2PA)."""

from __future__ import annotations

from .meta import Exiv2Adapter
from .prov import C2paPythonAdapter


class XAdapter(Exiv2Adapter, C2paPythonAdapter):
    def health(self) -> None:
        Exiv2Adapter.health(self)
        C2paPythonAdapter.health(self)
'''


def _capabilities(vendor: str) -> str:
    text = (ROOT / "vendors" / vendor / "vendor.toml").read_text()
    return text[text.index("[[capabilities]]"):]


def _vendor_x(folder: Path, working: bool) -> Path:
    """X's folder of vendors: its manifest, and its code when ``working``."""
    x = folder / "xvendor"
    x.mkdir(parents=True)
    (x / "vendor.toml").write_text(
        'id = "xvendor"\nname = "Vendor X"\norganisation = "X"\ndescription = "A participant\'s own XMP and C2PA."\n'
        'placement = "inproc"\nrole = "participant"\n\n[adapter]\nentry = "adapter.py:XAdapter"\n'
        'requires = ["pyexiv2", "c2pa"]\nmax_concurrency = 1\ntimeout_s = 60\n\n'
        '[version]\nattribute = "pyexiv2:__exiv2_version__"\n\n'
        + _capabilities("exiv2") + "\n" + _capabilities("c2pa-python"))
    if working:
        shutil.copy(ROOT / "vendors" / "exiv2" / "adapter.py", x / "meta.py")
        shutil.copy(ROOT / "vendors" / "c2pa-python" / "adapter.py", x / "prov.py")
        (x / "adapter.py").write_text(ADAPTER)
    else:
        (x / "adapter.py").write_text("raise RuntimeError('xvendor must not be started: it is served from its pack')\n")
    return folder


def _ok(proc: Any) -> list[str]:
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.splitlines()  # type: ignore[no-any-return]


def _cells(folder: Path) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in json.loads((folder / "results.json").read_text())["cells"]}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    w = tmp_path_factory.mktemp("federation")
    homes = {name: w / f"home-{name}" for name in ("hub", "x", "one")}
    env = {"AIII_HUB_KEYS": str(w / "hub-public")}  # every participant knows the hub's public key

    def run(who: str, *args: str) -> list[str]:
        return _ok(aiii(homes[who], *args, env=env))

    # Keys: the hub's and X's; X's public key beside its manifest, at X and at the hub.
    run("hub", "keys", "generate", "--out", str(w / "hub-private"), "--id", "hub")
    (w / "hub-public").mkdir()
    shutil.copy(w / "hub-private" / "hub.pub", w / "hub-public")
    run("x", "keys", "generate", "--out", str(w / "x-private"), "--id", "xvendor")
    x, hub, one = _vendor_x(w / "x", True), _vendor_x(w / "hub", False), _vendor_x(w / "one", True)
    for folder in (x, hub):
        (folder / "xvendor" / "keys").mkdir()
        shutil.copy(w / "x-private" / "xvendor.pub", folder / "xvendor" / "keys")
    # One test PKI for the plan: the hub's, imported by X and by the one machine.
    run("hub", "pki", "export", "--out", str(w / "pki.pem"))
    run("x", "pki", "import", str(w / "pki.pem"))
    run("one", "pki", "import", str(w / "pki.pem"))

    x_sign = ("--sign-key", str(w / "x-private" / "xvendor.pem"), "--sign-as", "xvendor")
    hub_sign = ("--sign-key", str(w / "hub-private" / "hub.pem"), "--sign-as", "hub")
    lines: dict[str, list[str]] = {}
    for profile, vendors in VENDORS.items():
        plan = ("--profile", profile, "--vendors", vendors, "-q")
        # 1. X produces its signed pack: its steps on its own outputs.
        lines[f"x-pack1-{profile}"] = run("x", "run", *plan, "--vendor-dir", str(x), "--produce", "xvendor", *x_sign,
                                          "--out", str(w / f"x-pack1-{profile}"))
        # 2. The hub makes its reference vendors' packs, signed by the hub, importing X's: their
        #    steps on X's outputs are in them.
        lines[f"hub-pack-{profile}"] = run("hub", "run", *plan, "--vendor-dir", str(hub), "--import-pack",
                                           str(w / f"x-pack1-{profile}" / "pack-xvendor.tar"),
                                           "--produce", REFERENCES[profile], *hub_sign,
                                           "--out", str(w / f"hub-pack-{profile}"))
        hub_packs = [a for ref in REFERENCES[profile].split(",")
                     for a in ("--import-pack", str(w / f"hub-pack-{profile}" / f"pack-{ref}.tar"))]
        #    X answers with its steps on the hub's outputs (X writes what the hub's signer signed):
        #    step keys follow content, so X must work on the hub's very bytes.
        lines[f"x-pack-{profile}"] = run("x", "run", *plan, "--vendor-dir", str(x), *hub_packs, "--produce", "xvendor",
                                         *x_sign, "--out", str(w / f"x-pack-{profile}"))
        x_pack = str(w / f"x-pack-{profile}" / "pack-xvendor.tar")
        #    The hub runs the profile in two shards, importing X's pack.
        for i in (1, 2):
            lines[f"hub-{profile}-{i}"] = run("hub", "run", *plan, "--vendor-dir", str(hub), "--import-pack", x_pack,
                                              "--shard", f"{i}/2", *hub_sign, "--fail-on", "never",
                                              "--out", str(w / f"hub-{profile}-{i}"),
                                              "--store", str(w / f"hub-{profile}.sqlite"))
        # 3. X runs the hub's packs against its own consumer, signed.
        lines[f"x-{profile}"] = run("x", "run", *plan, "--vendor-dir", str(x), *hub_packs, *x_sign,
                                    "--fail-on", "never", "--out", str(w / f"x-{profile}"),
                                    "--store", str(w / f"x-{profile}.sqlite"))
        # 4. Everything merged, signed by the hub.
        lines[f"merged-{profile}"] = run(
            "hub", "merge", str(w / f"hub-{profile}-1" / "results.json"), str(w / f"hub-{profile}-2" / "results.json"),
            str(w / f"x-{profile}" / "results.json"), "--keys", str(hub), "--out", str(w / f"merged-{profile}"),
            *hub_sign)
        # One machine: everything here.
        lines[f"one-{profile}"] = run("one", "run", *plan, "--vendor-dir", str(one), "--fail-on", "never",
                                      "--out", str(w / f"one-{profile}"), "--store", str(w / f"one-{profile}.sqlite"))
    return {"w": w, "lines": lines}


@pytest.mark.parametrize("profile", list(VENDORS))
def test_the_merged_federated_matrix_equals_one_machines_cell_by_cell(world: dict[str, Any], profile: str) -> None:
    w = world["w"]
    merged, one = _cells(w / f"merged-{profile}"), _cells(w / f"one-{profile}")
    assert merged.keys() == one.keys() and len(one) > 100, (len(merged), len(one))
    differ = {cid: ((merged[cid]["outcome"], merged[cid]["reason"]), (c["outcome"], c["reason"]))
              for cid, c in one.items() if (merged[cid]["outcome"], merged[cid]["reason"]) != (c["outcome"], c["reason"])}
    assert not differ, f"{len(differ)} cells differ, e.g. {list(differ.items())[:3]}"
    outcomes = Counter(c["outcome"] for c in merged.values())
    assert outcomes["pass"] > 50 and outcomes["blocked"] == Counter(c["outcome"] for c in one.values())["blocked"]
    bundle = json.loads((w / f"merged-{profile}" / "results.json").read_text())
    done = bundle["merge"]["completeness"]
    assert done["complete"] and bundle["merge"]["conflicts"] == {} and done["holes_filled"] > 0, done
    assert world["lines"][f"merged-{profile}"][0].startswith("merged 3 bundles: ")


@pytest.mark.parametrize("profile", list(VENDORS))
def test_every_step_says_who_computed_it_and_which_key_vouches_for_it(world: dict[str, Any], profile: str) -> None:
    w = world["w"]
    keyid = {name: json.loads((w / f"{name}-private" / f"{name if name == 'hub' else 'xvendor'}.pub").read_text())["keyid"]
             for name in ("hub", "x")}
    merged = _cells(w / f"merged-{profile}")
    seen: Counter[tuple[str, str, str]] = Counter()
    for cid, cell in merged.items():
        for role, origin in cell.get("origin", {}).items():
            who = origin["participant"]
            assert who in ("hub", "xvendor"), (cid, role, origin)
            assert origin["keyid"] == keyid["hub" if who == "hub" else "x"], (cid, role, origin)
            assert origin["verified"] is True, (cid, role, origin)
            seen[(role, who, origin["placement"])] += 1
        if cell["consumer"] == "xvendor" and cell["outcome"] in ("pass", "fail"):  # X's reading was done by X
            assert "xvendor" in {o["participant"] for o in cell["origin"].values()}, cid
    placements = {placement for (_, who, placement) in seen if who == "xvendor"}
    assert {"inproc", "harness"} & placements and any(who == "hub" for (_, who, _) in seen), seen
    assembled = [c for c in merged.values() if len({o["participant"] for o in c.get("origin", {}).values()}) > 1]
    assert assembled, "cells assembled from both participants' work"
    matrices = "".join(page.read_text() for page in (w / f"merged-{profile}" / "site" / "checks").glob("*.html"))
    assert 'class="assembled" href=' in matrices, "the check matrices mark positions assembled from both"


def test_the_packs_and_bundles_say_who_signed_what(world: dict[str, Any]) -> None:
    lines, w = world["lines"], world["w"]
    for profile, refs in REFERENCES.items():
        assert lines[f"x-pack-{profile}"][-1].startswith("pack of xvendor: ")
        made = [line for line in lines[f"hub-pack-{profile}"] if line.startswith("pack of ")]
        assert [line.split(":")[0] for line in made] == [f"pack of {ref}" for ref in refs.split(",")]
        assert all("signed as hub" in line for line in made)
        assert any(line.startswith("served xvendor from ") and "signed by xvendor/" in line
                   for line in lines[f"hub-{profile}-1"])
        served = [line for line in lines[f"x-{profile}"] if line.startswith("served ")]
        assert len(served) == len(refs.split(",")) and all("signed by hub/" in line for line in served), served
        vendors = {v["id"]: v for v in json.loads((w / f"x-{profile}" / "results.json").read_text())["vendors"]}
        assert {vendors[ref]["transport"] for ref in refs.split(",")} == {"pack"}, "X never started a reference vendor"
        verify = aiii(w / "home-hub", "bundle", "verify", str(w / f"merged-{profile}" / "results.json"),
                      env={"AIII_HUB_KEYS": str(w / "hub-public")})
        assert verify.returncode == 0 and "signed by hub/" in verify.stdout, verify.stdout + verify.stderr
