"""Signed bundles and the plan digest as a user meets them: `aiii keys generate`,
`aiii run --sign-key`, `aiii bundle sign|verify`, and one line for each refusal."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from helpers import TESTS, aiii

from runner.plan_digest import PlanDigest, PlanMismatch, require_same_plan

PROFILE = str(TESTS / "profiles" / "signed.toml")


def _tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def signed(home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run of the small profile signed for vendor acme; its keys in WORK/keys and a
    registry (laid out like vendors/) in WORK/registry."""
    work = tmp_path_factory.mktemp("signed")
    made = aiii(home, "keys", "generate", "--out", str(work / "keys"), "--id", "acme")
    assert made.returncode == 0, made.stderr
    assert "keyid " in made.stdout and "vendors/ID/keys/" in made.stdout
    (work / "registry" / "acme" / "keys").mkdir(parents=True)
    shutil.copy(work / "keys" / "acme.pub", work / "registry" / "acme" / "keys")
    run = aiii(home, "run", "--profile", PROFILE, "--out", str(work / "out"), "--store", str(work / "s.sqlite"), "-q",
               "--sign-key", str(work / "keys" / "acme.pem"), "--sign-as", "acme")
    assert run.returncode == 0, run.stderr
    signed_line, _headline, scorecard = run.stdout.splitlines()[-3:]  # the run ends with its headline and scorecard
    assert signed_line == f"signed as acme: {work / 'out' / 'results.dsse.json'}" and scorecard.startswith("scorecard: ")
    return work


def _verify(home: Path, bundle: Path, *args: str) -> tuple[int, list[str], list[str]]:
    proc = aiii(home, "bundle", "verify", str(bundle), *args)
    return proc.returncode, proc.stdout.splitlines(), proc.stderr.splitlines()


def test_a_signed_run_verifies(home: Path, signed: Path) -> None:
    code, out, err = _verify(home, signed / "out" / "results.json", "--keys", str(signed / "registry"))
    keyid = json.loads((signed / "keys" / "acme.pub").read_text())["keyid"]
    assert (code, err) == (0, [])
    assert out == [f"verified: {signed / 'out' / 'results.json'} signed by acme/{keyid[:16]} "
                   "(4 cells; 5 of 5 artifact and log files checked)"]


def _copy(signed: Path, name: str) -> Path:
    target = signed / name
    shutil.copytree(signed / "out", target)
    return target / "results.json"


@pytest.mark.parametrize("tamper", ["one byte", "cell outcome"])
def test_a_bundle_changed_after_signing_is_refused_in_one_line(home: Path, signed: Path, tamper: str) -> None:
    bundle = _copy(signed, tamper.replace(" ", "-"))
    if tamper == "one byte":
        raw = bytearray(bundle.read_bytes())
        raw[raw.index(b'"pass"') + 1] = ord("P")
        bundle.write_bytes(bytes(raw))
    else:
        doc = json.loads(bundle.read_text())
        doc["cells"][0]["outcome"] = "fail"
        doc["summary"]["outcomes"] = {"pass": 3, "fail": 1}
        bundle.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    before = _tree(signed)
    code, out, err = _verify(home, bundle, "--keys", str(signed / "registry"))
    assert (code, out, len(err)) == (1, [], 1)
    assert err[0].startswith(f"refused: {bundle}: changed after signing (sha256 ")
    assert _tree(signed) == before, "a refusal writes nothing"


def test_signatures_by_keys_not_registered_for_the_signer_are_refused(home: Path, signed: Path) -> None:
    bundle = signed / "out" / "results.json"
    code, _, err = _verify(home, bundle)  # acme's key is not in the repository's vendors/
    assert code == 1 and len(err) == 1 and err[0].startswith(f"refused: {signed / 'out' / 'results.dsse.json'}: signed by "
                                                             "an unknown key ")
    other = signed / "other-registry" / "exiv2" / "keys"
    other.mkdir(parents=True)
    shutil.copy(signed / "keys" / "acme.pub", other)
    code, _, err = _verify(home, bundle, "--keys", str(signed / "other-registry"))
    assert code == 1 and len(err) == 1 and err[0].endswith(", registered for exiv2, not for acme")


def test_bundle_sign_as_the_hub_with_its_configured_keys(home: Path, signed: Path) -> None:
    bundle = _copy(signed, "hub-signed")
    made = aiii(home, "keys", "generate", "--out", str(signed / "hub-keys"), "--id", "hub")
    assert made.returncode == 0, made.stderr
    proc = aiii(home, "bundle", "sign", str(bundle), "--key", str(signed / "hub-keys" / "hub.pem"), "--as", "hub")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [f"signed: {bundle} as hub -> {bundle.parent / 'results.dsse.json'}"]
    proc = aiii(home, "bundle", "verify", str(bundle), env={"AIII_HUB_KEYS": str(signed / "hub-keys")})
    assert proc.returncode == 0 and proc.stdout.startswith(f"verified: {bundle} signed by hub/"), proc.stderr
    missing = aiii(home, "bundle", "sign", str(bundle), "--key", str(signed / "nowhere.pem"), "--as", "hub")
    assert missing.returncode == 2 and missing.stderr.startswith("aiii: error: ") and "nowhere.pem: cannot read" in missing.stderr


def test_an_unusable_sign_key_stops_the_run_before_it_starts(home: Path, signed: Path, tmp_path: Path) -> None:
    proc = aiii(home, "run", "--profile", PROFILE, "--out", str(tmp_path / "out"), "--store", str(tmp_path / "s.sqlite"),
                "-q", "--sign-key", str(signed / "keys" / "acme.pub"))
    assert proc.returncode == 2 and proc.stderr.strip().endswith("acme.pub: not an unencrypted PEM private key")
    assert not (tmp_path / "out").exists() and not (tmp_path / "s.sqlite").exists()


def _plan(out: Path) -> PlanDigest:
    return PlanDigest.from_dict(json.loads((out / "results.json").read_text())["run"]["plan_digest"])


def test_the_plan_digest_is_the_same_run_after_run_and_names_what_differs(home: Path, signed: Path, tmp_path: Path) -> None:
    again = aiii(home, "run", "--profile", PROFILE, "--out", str(tmp_path / "again"), "--store", str(tmp_path / "a.sqlite"),
                 "-q", env={"PYTHONHASHSEED": "12345"})
    assert again.returncode == 0, again.stderr
    require_same_plan(_plan(signed / "out"), _plan(tmp_path / "again"))
    changed = tmp_path / "signed-unicode.toml"
    changed.write_text(Path(PROFILE).read_text().replace('"ascii"', '"unicode"'))
    other = aiii(home, "run", "--profile", str(changed), "--out", str(tmp_path / "other"), "--store",
                 str(tmp_path / "o.sqlite"), "-q")
    assert other.returncode == 0, other.stderr
    with pytest.raises(PlanMismatch, match="were run under different plans: profile, cells differ"):
        require_same_plan(_plan(signed / "out"), _plan(tmp_path / "other"))
