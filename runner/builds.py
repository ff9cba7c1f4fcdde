"""Vendor servers and tools built from source before they start: ``[process] build``.

``build = "cargo"``: the vendor's folder is a Cargo package; its server is built with
``cargo build --release --locked`` (the committed ``Cargo.lock`` decides every
dependency) and started through the ``{binary}`` placeholder of ``[process] command``.
The binary is cached by a hash of what it is built from (``Cargo.toml``, ``Cargo.lock``,
``build.rs``, everything under ``src/``, and the toolchain's version), so a second start
builds nothing and any change of source builds again.  The cache is the machine's, not
one state folder's (every ``AIII_HOME`` shares a build, as the docker images are shared):
``AIII_BUILD_CACHE``, else ``$XDG_CACHE_HOME/aiii-interop/builds`` (``~/.cache/...``).
Cargo's own target folder stays there too, one per vendor, so a rebuild after a change
compiles only what changed.

``build = "cargo-install"``: a published crate's program, for an adapter that runs it
(``[process] crate``, ``version``, optionally ``bin``): ``cargo install --locked
--version VERSION CRATE`` (the crate's own published ``Cargo.lock`` decides every
dependency), cached by crate, version and toolchain; the adapter finds it through the
``{binary}`` placeholder in ``[adapter.config]`` (``runner/transports/process.py``).
Its target folder is kept per crate, so a new toolchain or version rebuilds only what
changed.  Every cargo runs under ``nice -n 19``: a build takes minutes on a shared machine.

The docker placement copies the same binary into the vendor's image (``runner/images.py``).
"""

from __future__ import annotations

import collections
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import threading
import time
import tomllib
from pathlib import Path
from typing import IO

from runner.errors import TransportError
from runner.model import VendorManifest
from runner.text import printable

#: The build tools a manifest may name in ``[process] build``.
BUILDERS = ("cargo", "cargo-install")
BUILD_TIMEOUT_S = 1800
#: Builds kept per vendor (checkouts of several versions on one machine each keep theirs).
KEEP_BUILDS = 3
#: What a Cargo package's binary is built from, besides everything under src/.
CARGO_INPUTS = ("Cargo.toml", "Cargo.lock", "build.rs")


class BuildError(TransportError):
    """A vendor's server could not be built (one line, naming the vendor)."""


def build_cache() -> Path:
    """Where built vendor servers are kept, shared by every state folder of this machine."""
    given = os.environ.get("AIII_BUILD_CACHE")
    if given:
        return Path(given)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "aiii-interop" / "builds"


def run_step(cmd: list[str], what: str, progress: IO[str] | None = None, timeout_s: float = BUILD_TIMEOUT_S,
             env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
    """Run a build step with a deadline; with ``progress``, its output is passed on line by
    line (a vendor's build output is shown, never obeyed).  A failure raises
    :class:`TransportError` with the step's last lines."""
    last: collections.deque[str] = collections.deque(maxlen=3)
    try:
        child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 text=True, errors="replace", env=env, cwd=cwd)
    except OSError as exc:
        raise TransportError(f"{what} could not start: {exc}") from None
    with child:
        timer = threading.Timer(timeout_s, child.kill)  # a silent hang must not outlive the deadline
        timer.start()
        started = time.monotonic()
        try:
            assert child.stdout is not None
            for line in child.stdout:
                if progress:
                    progress.write(f"  | {printable(line.rstrip())}\n")
                    progress.flush()
                if line.strip():
                    last.append(printable(line.strip()))
            code = child.wait()
        finally:
            timer.cancel()
    if code != 0 and time.monotonic() - started >= timeout_s:
        raise TransportError(f"{what} did not finish within {timeout_s:.0f} s")
    if code != 0:
        raise TransportError(f"{what} failed: {' '.join(last)}")


def cargo_binary_name(folder: Path) -> str:
    """The binary a Cargo package builds: its one ``[[bin]]``'s name, else the package's."""
    try:
        doc = tomllib.loads((folder / "Cargo.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BuildError(f"{folder / 'Cargo.toml'}: {exc}") from None
    bins = doc.get("bin") or []
    if len(bins) == 1 and isinstance(bins[0], dict) and bins[0].get("name"):
        return str(bins[0]["name"])
    name = (doc.get("package") or {}).get("name")
    if not isinstance(name, str) or not name:
        raise BuildError(f"{folder / 'Cargo.toml'}: no [package] name (or one [[bin]] name) to start")
    return name


def cargo_sources(folder: Path) -> list[Path]:
    """The files a Cargo package's binary is built from, in a stable order."""
    found = [folder / name for name in CARGO_INPUTS if (folder / name).is_file()]
    src = folder / "src"
    if src.is_dir():
        found += sorted(p for p in src.rglob("*") if p.is_file())
    return found


def _toolchain(cargo: str, vendor: str) -> str:
    """``cargo --version``: part of the key, so a new toolchain builds anew."""
    try:
        proc = subprocess.run([cargo, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BuildError(f"vendor {vendor}: {cargo} --version failed: {exc}") from None
    if proc.returncode != 0:
        raise BuildError(f"vendor {vendor}: {cargo} --version failed: {proc.stderr.strip()[:200]}")
    return proc.stdout.strip()


def _rustc(cargo: str, vendor: str) -> str:
    """``rustc --version`` of the toolchain beside ``cargo`` (else on PATH)."""
    beside = Path(cargo).with_name("rustc")
    rustc = str(beside) if beside.is_file() else shutil.which("rustc") or "rustc"
    return _toolchain(rustc, vendor)


def niced(cmd: list[str]) -> list[str]:
    """``cmd`` at the lowest CPU priority when ``nice`` is there (the machine is shared)."""
    nice = shutil.which("nice")
    return [nice, "-n", "19", *cmd] if nice else cmd


def cargo_key(folder: Path, toolchain: str) -> str:
    """The cache key of a Cargo package's binary: its sources' paths and bytes, and the toolchain."""
    digest = hashlib.sha256(json.dumps(["cargo build --release --locked", toolchain]).encode())
    for path in cargo_sources(folder):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def find_cargo() -> str | None:
    """The cargo program: on PATH, else rustup's usual place."""
    found = shutil.which("cargo")
    if found:
        return found
    fallback = Path.home() / ".cargo" / "bin" / "cargo"
    return str(fallback) if fallback.is_file() else None


def built_binary(manifest: VendorManifest, progress: IO[str] | None = None) -> Path:
    """The vendor's built server or tool (``[process] build``), built now if it is not cached."""
    builder = manifest.process.get("build")
    if builder == "cargo":
        return cargo_build(manifest.id, manifest.folder, progress)
    if builder == "cargo-install":
        crate, version = manifest.process.get("crate"), manifest.process.get("version")
        if not isinstance(crate, str) or not isinstance(version, str):
            raise BuildError(f"vendor {manifest.id}: [process] build 'cargo-install' needs crate and version")
        return cargo_install(manifest.id, crate, version, manifest.process.get("bin") or crate, progress)
    raise BuildError(f"vendor {manifest.id}: [process] build {builder!r} is not one of {', '.join(BUILDERS)}")


def _missing_cargo(vendor: str, how: str) -> BuildError:
    return BuildError(f"vendor {vendor}: cargo is not installed (the vendor's {how}; install Rust, e.g. with rustup)")


def cargo_build(vendor: str, folder: Path, progress: IO[str] | None = None) -> Path:
    """``cargo build --release --locked`` of ``folder`` into the build cache, once per key."""
    cargo = find_cargo()
    if cargo is None:
        raise _missing_cargo(vendor, "server is built with `cargo build --release --locked`")
    if not (folder / "Cargo.lock").is_file():
        raise BuildError(f"vendor {vendor}: no Cargo.lock in {folder} (the build is --locked)")
    name = cargo_binary_name(folder)
    key = cargo_key(folder, _toolchain(cargo, vendor))
    home = build_cache() / "cargo" / vendor
    binary = home / key / name
    if (home / key / ".ready").is_file() and binary.is_file():
        return binary
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build per vendor on this machine at a time
        if (home / key / ".ready").is_file() and binary.is_file():
            return binary
        started = time.monotonic()
        if progress:
            progress.write(printable(f"building vendor {vendor}'s server: cargo build --release --locked "
                                     f"(once per change of its sources, into {home / key})") + "\n")
            progress.flush()
        target = home / "target"
        env = {**os.environ, "CARGO_TARGET_DIR": str(target), "CARGO_TERM_COLOR": "never"}
        env.pop("RUSTFLAGS", None)  # the key does not know them: never let them change the binary unseen
        try:
            run_step(niced([cargo, "build", "--release", "--locked", "--manifest-path", str(folder / "Cargo.toml")]),
                     "cargo build --release --locked", progress, BUILD_TIMEOUT_S, env, folder)
        except TransportError as exc:
            raise BuildError(f"vendor {vendor}: {exc}") from None
        built = target / "release" / name
        if not built.is_file():
            raise BuildError(f"vendor {vendor}: cargo built no {built}")
        shutil.rmtree(home / key, ignore_errors=True)
        (home / key).mkdir()
        shutil.copy2(built, binary)
        (home / key / ".ready").write_text(json.dumps({"vendor": vendor, "folder": str(folder),
                                                       "seconds": round(time.monotonic() - started, 1)}))
        _prune(home, keep=KEEP_BUILDS)
        if progress:
            progress.write(f"built {binary} in {time.monotonic() - started:.0f} s\n")
            progress.flush()
    return binary


def install_key(crate: str, version: str, toolchain: str) -> str:
    """The cache folder of ``crate@version`` built by ``toolchain``: readable, then a hash."""
    digest = hashlib.sha256(json.dumps(["cargo install --locked", crate, version, toolchain]).encode())
    return f"{version}-{digest.hexdigest()[:12]}"


def cargo_install(vendor: str, crate: str, version: str, bin_name: str, progress: IO[str] | None = None) -> Path:
    """``cargo install --locked --version VERSION CRATE`` into the build cache, once per
    crate, version and toolchain; the installed program ``bin_name``."""
    cargo = find_cargo()
    if cargo is None:
        raise _missing_cargo(vendor, f"program is built with `cargo install --locked {crate}@{version}`")
    key = install_key(crate, version, f"{_toolchain(cargo, vendor)}; {_rustc(cargo, vendor)}")
    home = build_cache() / "cargo-install" / crate
    binary = home / key / "bin" / bin_name
    if (home / key / ".ready").is_file() and binary.is_file():
        return binary
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build per crate on this machine at a time
        if (home / key / ".ready").is_file() and binary.is_file():
            return binary
        started = time.monotonic()
        what = f"cargo install --locked --version {version} {crate}"
        if progress:
            progress.write(printable(f"building vendor {vendor}'s program: {what} (once per version and toolchain, "
                                     f"into {home / key}; the first build takes many minutes)") + "\n")
            progress.flush()
        staging = home / f"{key}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        env = {**os.environ, "CARGO_TARGET_DIR": str(home / "target"), "CARGO_TERM_COLOR": "never"}
        for name in ("RUSTFLAGS", "CARGO_INSTALL_ROOT", "CARGO_BUILD_TARGET"):  # the key does not know them
            env.pop(name, None)
        try:
            run_step(niced([cargo, "install", "--locked", "--version", version, crate, "--root", str(staging),
                            "--bin", bin_name]), what, progress, BUILD_TIMEOUT_S, env, home)
        except TransportError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise BuildError(f"vendor {vendor}: {exc}") from None
        if not (staging / "bin" / bin_name).is_file():
            raise BuildError(f"vendor {vendor}: {what} installed no bin/{bin_name}")
        shutil.rmtree(home / key, ignore_errors=True)
        staging.rename(home / key)
        (home / key / ".ready").write_text(json.dumps({"vendor": vendor, "crate": crate, "version": version,
                                                       "seconds": round(time.monotonic() - started, 1)}))
        _prune(home, keep=KEEP_BUILDS)
        if progress:
            progress.write(f"built {binary} in {time.monotonic() - started:.0f} s\n")
            progress.flush()
    return binary


def _prune(home: Path, keep: int) -> None:
    """Remove all but the ``keep`` newest builds of a vendor (a running copy keeps its inode)."""
    builds = sorted((p for p in home.iterdir() if p.is_dir() and (p / ".ready").is_file()),
                    key=lambda p: (p / ".ready").stat().st_mtime, reverse=True)
    for old in builds[keep:]:
        shutil.rmtree(old, ignore_errors=True)
