"""Vendor servers built from source (runner/builds.py): what keys a build, what is refused."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT

from runner.builds import (
    BuildError,
    build_cache,
    built_binary,
    cargo_binary_name,
    cargo_build,
    cargo_key,
    cargo_sources,
    install_key,
)
from runner.errors import ConfigError
from runner.transports.process import with_binary
from runner.vendors import code_hash, load_manifest

RUST = ROOT / "vendors" / "rust-recognition"


@pytest.fixture()
def package(tmp_path: Path) -> Path:
    folder = tmp_path / "rust-recognition"
    shutil.copytree(RUST, folder, ignore=shutil.ignore_patterns("tests", "target"))
    return folder


def test_a_change_of_source_or_toolchain_keys_a_new_build_and_docs_do_not(package: Path) -> None:
    before = cargo_key(package, "cargo 1.95.0")
    assert cargo_key(package, "cargo 1.96.0") != before
    (package / "README.md").write_text("notes\n")
    (package / "vendor.toml").write_text((package / "vendor.toml").read_text() + "\n# a comment\n")
    assert cargo_key(package, "cargo 1.95.0") == before
    main = package / "src" / "main.rs"
    main.write_text(main.read_text() + "\n// changed\n")
    assert cargo_key(package, "cargo 1.95.0") != before
    assert {p.name for p in cargo_sources(package)} >= {"Cargo.toml", "Cargo.lock", "main.rs", "server.rs"}


def test_the_step_cache_follows_the_rust_sources(package: Path) -> None:
    """A changed .rs file or Cargo.lock is a changed adapter: its cached steps are not reused."""
    before = code_hash(load_manifest(package / "vendor.toml"))
    (package / "src" / "ops.rs").write_text((package / "src" / "ops.rs").read_text() + "\n// changed\n")
    assert code_hash(load_manifest(package / "vendor.toml")) != before
    (package / "target" / "release").mkdir(parents=True)  # a developer's own cargo build
    (package / "target" / "release" / "x.rs").write_text("junk")
    assert not [p for p in load_manifest(package / "vendor.toml").code_files() if "target" in p.parts]


def test_the_binary_is_the_packages_or_its_one_bin(package: Path) -> None:
    assert cargo_binary_name(package) == "aiii-rust-recognition"
    (package / "Cargo.toml").write_text((package / "Cargo.toml").read_text() + '\n[[bin]]\nname = "other"\npath = "src/main.rs"\n')
    assert cargo_binary_name(package) == "other"


def test_no_cargo_is_one_line_naming_the_vendor(package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with pytest.raises(BuildError) as caught:
        cargo_build("rust-recognition", package)
    assert str(caught.value).startswith("vendor rust-recognition: cargo is not installed")
    assert "\n" not in str(caught.value)


def test_the_build_cache_is_the_machines_unless_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIII_BUILD_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("AIII_HOME", str(tmp_path / "state"))  # not per state folder: every run shares a build
    assert build_cache() == tmp_path / "xdg" / "aiii-interop" / "builds"
    monkeypatch.setenv("AIII_BUILD_CACHE", str(tmp_path / "mine"))
    assert build_cache() == tmp_path / "mine"


def test_a_build_needs_a_command_to_start_it(package: Path) -> None:
    text = (package / "vendor.toml").read_text()
    start = text.index("command = [")
    (package / "vendor.toml").write_text(text[:start] + text[text.index("\n", start) + 1:])
    with pytest.raises(ConfigError, match="command"):
        load_manifest(package / "vendor.toml")


def test_an_operation_may_be_declared_once_per_media_type(package: Path) -> None:
    manifest = load_manifest(package / "vendor.toml")
    image, audio = (manifest.capability("fingerprint.compute", t) for t in ("image/png", "audio/wav"))
    assert image is not None and image.options["algorithms"] == ["pdq"]
    assert audio is not None and audio.options["algorithms"] == ["chromaprint"]
    text = (package / "vendor.toml").read_text().replace('"audio/wav", "audio/ogg"', '"audio/wav", "image/png"')
    (package / "vendor.toml").write_text(text)
    with pytest.raises(ConfigError, match="'fingerprint.compute' declared twice for image/png"):
        load_manifest(package / "vendor.toml")


C2PATOOL = ROOT / "vendors" / "c2patool"


@pytest.fixture()
def installer(tmp_path: Path) -> Path:
    folder = tmp_path / "c2patool"
    shutil.copytree(C2PATOOL, folder, ignore=shutil.ignore_patterns("tests"))
    return folder


def test_an_installed_crate_is_keyed_by_crate_version_and_toolchain() -> None:
    key = install_key("c2patool", "0.27.22", "cargo 1.95.0; rustc 1.95.0")
    assert key.startswith("0.27.22-")  # readable in the cache folder
    assert install_key("c2patool", "0.27.22", "cargo 1.95.0; rustc 1.95.0") == key
    others = {install_key("c2patool", "0.27.21", "cargo 1.95.0; rustc 1.95.0"),
              install_key("c2patool", "0.27.22", "cargo 1.96.0; rustc 1.96.0"),
              install_key("other", "0.27.22", "cargo 1.95.0; rustc 1.95.0")}
    assert key not in others and len(others) == 3


def test_no_cargo_for_an_install_is_one_line_naming_the_vendor_and_crate(
        installer: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with pytest.raises(BuildError) as caught:
        built_binary(load_manifest(installer / "vendor.toml"))
    assert str(caught.value).startswith("vendor c2patool: cargo is not installed (the vendor's program is built with "
                                        "`cargo install --locked c2patool@0.27.22`")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t.replace('version = "0.27.22"\n', ""), "process: 'version' is a required property"),
    (lambda t: t.replace('version = "0.27.22"', 'version = "0.27"'), "process.version: '0.27' does not match"),
    (lambda t: t.replace('crate = "c2patool"', 'crate = "c2patool"\ncommand = ["{binary}"]'),
     "process.command: not with build = 'cargo-install'"),
    (lambda t: t.replace('build = "cargo-install"', 'build = "cargo"\ncommand = ["{binary}"]'),
     "process.crate: only with build = 'cargo-install'"),
])
def test_an_install_names_its_crate_and_exact_version_and_no_command(installer: Path, edit: Any, message: str) -> None:
    toml = installer / "vendor.toml"
    toml.write_text(edit(toml.read_text()))
    with pytest.raises(ConfigError) as caught:
        load_manifest(toml)
    assert message in str(caught.value) and "vendor.toml" in str(caught.value)


def test_the_installed_program_reaches_the_adapters_config_as_binary() -> None:
    config = {"command": "{binary}", "command_timeout_s": 60, "note": "runs {binary} --version"}
    assert with_binary(config, "/cache/bin/c2patool") == {"command": "/cache/bin/c2patool", "command_timeout_s": 60,
                                                           "note": "runs /cache/bin/c2patool --version"}
    assert with_binary(config, "") == config  # nothing built: left as written, the adapter says why it cannot run
