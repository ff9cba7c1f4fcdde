"""A malformed vendor.toml, profile or catalogue entry stops with one line naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import ROOT, SAMPLE_VENDOR

from conformance.discovery import discover
from runner.errors import ConfigError, HarnessError
from runner.profiles import load_profile
from runner.vendors import load_manifest, load_vendors

GOOD_VENDOR = SAMPLE_VENDOR.format(id="sample", name="Sample")


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


def test_harness_errors_are_config_errors_for_the_cli() -> None:
    assert issubclass(ConfigError, HarnessError)
