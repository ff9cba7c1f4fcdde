"""A malformed vendor.toml, profile or catalogue entry stops with one line naming file and key."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.discovery import discover
from runner.errors import ConfigError, HarnessError
from runner.profiles import load_profile
from runner.vendors import load_manifest, load_vendors

ROOT = Path(__file__).resolve().parent.parent

GOOD_VENDOR = """
id = "sample"
name = "Sample"
organisation = "Tests"
placement = "inproc"

[adapter]
entry = "adapter.py:Sample"

[version]
distribution = "mutagen"

[[capabilities]]
operation = "metadata.read"
media_types = ["image/jpeg"]
"""


def write_vendor(tmp_path: Path, text: str, folder: str = "sample") -> Path:
    path = tmp_path / folder / "vendor.toml"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return path


def test_good_manifest_loads(tmp_path: Path) -> None:
    manifest = load_manifest(write_vendor(tmp_path, GOOD_VENDOR))
    assert manifest.id == "sample"
    assert manifest.capability("metadata.read", "image/jpeg") is not None
    assert manifest.capability("metadata.read", "image/png") is None


def test_a_manifest_with_the_old_transport_key_is_told_to_rename_it(tmp_path: Path) -> None:
    path = write_vendor(tmp_path, GOOD_VENDOR.replace('placement = "inproc"', 'transport = "inproc"'))
    with pytest.raises(ConfigError) as info:
        load_manifest(path)
    message = str(info.value)
    assert "\n" not in message and "sample/vendor.toml" in message
    assert message.endswith("transport: the key is now called placement: rename it (placement = 'inproc')"), message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('operation = "metadata.read"', 'operation = "metadata.teleport"'), "capabilities[0].operation"),
        (('media_types = ["image/jpeg"]', 'media_types = ["jpeg"]'), "capabilities[0].media_types[0]"),
        (('name = "Sample"\n', ""), "'name' is a required property"),
        (('placement = "inproc"', 'placement = "carrier-pigeon"'), "placement"),
        (('entry = "adapter.py:Sample"', 'entry = "adapter"'), "adapter.entry"),
        (('id = "sample"', 'id = "other"'), "id: 'other' must equal its folder name"),
        (('[version]\ndistribution = "mutagen"', '[version]\ndistribution = "mutagen"\nadapter = true'), "version"),
        (('organisation = "Tests"', 'organisation = "Tests'), "invalid TOML"),
    ],
)
def test_bad_manifest_names_file_and_key(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    text = GOOD_VENDOR.replace(*change)
    assert text != GOOD_VENDOR
    path = write_vendor(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_manifest(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message or "sample/vendor.toml" in message
    assert expected in message


def test_expired_expectation_date_must_be_a_date(tmp_path: Path) -> None:
    text = GOOD_VENDOR + '\n[[expectations]]\ncheck = "x/*"\nreason = "r"\nlink = "https://e.org"\nexpires = "2026-13-45"\n'
    with pytest.raises(ConfigError, match=r"expectations\[0\]\.expires"):
        load_manifest(write_vendor(tmp_path, text))


def test_duplicate_vendor_ids_are_refused(tmp_path: Path) -> None:
    write_vendor(tmp_path / "a", GOOD_VENDOR)
    write_vendor(tmp_path / "b", GOOD_VENDOR)
    with pytest.raises(ConfigError, match="already defined"):
        load_vendors(tmp_path / "a", [tmp_path / "b"])


def test_shipped_vendors_and_profiles_are_valid() -> None:
    vendors = load_vendors(ROOT / "vendors")
    assert {"exiftool", "exiv2", "mutagen", "c2pa-python", "c2patxt", "xmp-reference"} <= set(vendors)
    for name in ("default", "metadata", "provenance"):
        assert load_profile(ROOT / "profiles", name, set(discover().checks)).checks


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('name = "p"\ndescription = "d"\n[[checks]]\nid = "metadata.nonsense"\nlevel = "MUST"\n', "checks[0].id: unknown check"),
        ('name = "p"\ndescription = "d"\n[[checks]]\nid = "metadata.roundtrip"\nlevel = "OPTIONAL"\n', "checks[0].level"),
        ('name = "p"\ndescription = "d"\n[[checks]]\nid = "metadata.roundtrip"\nlevel = "MUST"\nvectors = { tag = ["x"] }\n', "checks[0].vectors"),
        ('name = "p"\n', "'description' is a required property"),
        ('name = "p"\ndescription = "d"\ninclude = ["nope"]\n', "include[0]"),
    ],
)
def test_bad_profile_names_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_profile(tmp_path, "p", set(discover().checks))
    assert "p.toml" in str(info.value)
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_cli_reports_a_bad_catalogue_entry_in_one_line(tmp_path: Path) -> None:
    media = tmp_path / "media"
    media.mkdir()
    shutil.copy(ROOT / "test_vectors" / "images" / "kodak" / "kodim01.png", media / "a.png")
    (media / "catalogue.toml").write_text(
        'version = 1\n[[vectors]]\nid = "a"\nfile = "a.png"\nmedia_type = "image/png"\n'
        'sha256 = "' + "0" * 64 + '"\nlicence = "test"\ntags = ["photo"]\n'
    )
    proc = subprocess.run(
        [sys.executable, "-m", "runner.cli", "run", "--vectors", str(media), "--out", str(tmp_path / "out"),
         "--store", str(tmp_path / "s.sqlite")],
        capture_output=True, text=True, cwd=ROOT, timeout=300, env={**_env(tmp_path)},
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "catalogue.toml" in lines[0] and "sha256" in lines[0]


def test_harness_errors_are_config_errors_for_the_cli() -> None:
    assert issubclass(ConfigError, HarnessError)


def _env(tmp_path: Path) -> dict[str, str]:
    import os

    return {**os.environ, "AIII_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT)}


def test_profile_naming_an_unknown_vector_stops_the_run_in_one_line(tmp_path: Path) -> None:
    profile = tmp_path / "typo.toml"
    profile.write_text('name = "typo"\ndescription = "d"\n[[checks]]\nid = "metadata.roundtrip"\nlevel = "MUST"\n'
                       'vectors = { ids = ["kodim01-jgp"] }\n')
    proc = subprocess.run(
        [sys.executable, "-m", "runner.cli", "run", "--profile", str(profile), "--out", str(tmp_path / "out"),
         "--store", str(tmp_path / "s.sqlite")],
        capture_output=True, text=True, cwd=ROOT, timeout=300, env=_env(tmp_path),
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "typo.toml" in lines[0] and "metadata.roundtrip" in lines[0] and "kodim01-jgp" in lines[0]
    if (tmp_path / "s.sqlite").exists():  # nothing half-runs: no run was even recorded
        import sqlite3

        with sqlite3.connect(tmp_path / "s.sqlite") as db:
            assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 0


def _run_profile(tmp_path: Path, profile_text: str, *extra: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "p.toml"
    profile.write_text(profile_text)
    return subprocess.run(
        [sys.executable, "-m", "runner.cli", "run", "--profile", str(profile), *extra, "--out", str(tmp_path / "out"),
         "--store", str(tmp_path / "s.sqlite")],
        capture_output=True, text=True, cwd=ROOT, timeout=300, env=_env(tmp_path),
    )


def test_unknown_recognition_channel_stops_the_run_naming_profile_and_check(tmp_path: Path) -> None:
    proc = _run_profile(tmp_path, 'name = "p"\ndescription = "d"\n[[checks]]\nid = "identifiers.recognition"\n'
                        'level = "SHOULD"\nvectors = { ids = ["kodim01"] }\nparams = { channels = ["jpeg-q05"] }\n',
                        "--vendors", "iscc-core")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "p.toml" in lines[0] and "identifiers.recognition" in lines[0] and "jpeg-q05" in lines[0]


@pytest.mark.parametrize(("content", "complaint"), [
    ("{not json", "not readable as JSON"),
    ('{"schemes": {"isrc": {"cases": [{"id": "a", "value": "USRC17607839", "expect": "maybe"}]}}}',
     "schemes.isrc.cases[0]"),
])
def test_malformed_registry_cases_name_the_file(tmp_path: Path, content: str, complaint: str) -> None:
    media = tmp_path / "media"
    media.mkdir()
    (media / "cases.json").write_text(content)
    import hashlib

    digest = hashlib.sha256((media / "cases.json").read_bytes()).hexdigest()
    (media / "catalogue.toml").write_text(
        f'version = 1\n[[vectors]]\nid = "cases"\nfile = "cases.json"\nmedia_type = "application/json"\n'
        f'sha256 = "{digest}"\nlicence = "CC0-1.0"\ntags = ["registry-cases"]\n')
    proc = _run_profile(tmp_path, 'name = "p"\ndescription = "d"\n[[checks]]\nid = "identifiers.registry"\n'
                        'level = "MUST"\nvectors = { tags_all = ["registry-cases"] }\n',
                        "--vectors", str(media), "--vendors", "registry-reference")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "cases.json" in lines[0] and complaint in lines[0] and "identifiers.registry" in lines[0]
