"""Images of the ``docker`` placement, built here from Debian's mirror and PyPI only.

No registry is needed: the base image is a Debian bookworm rootfs made with
``debootstrap`` and imported into the engine; a vendor image is built ``FROM`` it with
the vendor's folder, the adapter kit's wheel (``runner/kit_wheel.py``) and wheels
downloaded on this host (the build
itself has no network).  Images are tagged by a hash of what went into them and
reused while it is unchanged; a vendor's older images are removed after a build.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from runner.errors import TransportError
from runner.kit_wheel import kit_hash, kit_wheel
from runner.model import VendorManifest

#: Bump when the way images are made changes: every image is rebuilt.
SCRIPT_VERSION = "2"
SUITE = "bookworm"
#: exiv2: the exiv2-cli vendor's program; libchromaprint-tools: fpcalc, for the ISCC vendors'
#: audio content codes; libgl1 and libglib2.0-0: what OpenCV (blind-watermark) links.
BASE_PACKAGES = ("python3", "python3-venv", "perl", "exiv2", "ca-certificates", "libchromaprint-tools", "libgl1",
                 "libglib2.0-0")
BASE_REPO = "aiii-base"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
CA_DIR = Path("/usr/local/share/ca-certificates")
#: Wheels for the base image's CPython 3.11 on x86_64 with glibc 2.36 (bookworm).
WHEEL_PLATFORMS = tuple(f"manylinux_2_{minor}_x86_64" for minor in range(36, 4, -1)) + (
    "manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64")
LABEL_HARNESS = "org.aiii.harness-version"
LABEL_VENDOR = "org.aiii.vendor"
LABEL_CONTEXT = "org.aiii.context"
LABEL_BASE = "org.aiii.base"
DEBOOTSTRAP_TIMEOUT_S = 1800
BUILD_TIMEOUT_S = 1800


class ImageError(TransportError):
    """An image of the docker placement could not be made."""


def docker_client(timeout: int = 600) -> Any:
    """A Docker SDK client for the local engine."""
    try:
        import docker  # type: ignore[import-untyped]

        return docker.from_env(timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - missing SDK or engine
        raise ImageError(f"no Docker engine reachable: {str(exc)[:200]}") from None


@contextlib.contextmanager
def _machine_lock(name: str) -> Iterator[None]:
    """One builder per image on this machine (images are shared by every AIII_HOME)."""
    path = Path(tempfile.gettempdir()) / f"aiii-{name}.lock"
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _say(progress: IO[str] | None, text: str) -> None:
    if progress is not None:
        progress.write(f"[images] {text}\n")
        progress.flush()


def _run(cmd: list[str], what: str, timeout: float) -> str:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ImageError(f"{what} did not finish within {timeout:.0f} s") from None
    except FileNotFoundError as exc:
        raise ImageError(f"{what}: {exc}") from None
    if proc.returncode != 0:
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-4:])
        raise ImageError(f"{what} failed (exit {proc.returncode}): {tail}")
    return proc.stdout


# -- the base image --------------------------------------------------------------------


def apt_mirror() -> str:
    """The host's Debian mirror for the suite (``AIII_DEBIAN_MIRROR`` overrides it)."""
    if os.environ.get("AIII_DEBIAN_MIRROR"):
        return os.environ["AIII_DEBIAN_MIRROR"]
    sources = sorted(Path("/etc/apt/sources.list.d").glob("*.sources"))
    for path in sources:  # deb822 stanzas
        with contextlib.suppress(OSError):
            for stanza in re.split(r"\n\s*\n", path.read_text()):
                keys = {k.strip().lower(): v.strip() for k, _, v in
                        (line.partition(":") for line in stanza.splitlines() if line and not line.startswith("#"))}
                if "deb" in keys.get("types", "").split() and SUITE in keys.get("suites", "").split():
                    return keys.get("uris", "").split()[0]
    for path in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*.list"))]:
        with contextlib.suppress(OSError):
            for line in path.read_text().splitlines():
                parts = re.sub(r"\[[^]]*\]", "", line).split()
                if len(parts) >= 3 and parts[0] == "deb" and parts[2] == SUITE:
                    return parts[1]
    return DEFAULT_MIRROR


def extra_ca_files() -> list[Path]:
    """The host's locally added CA certificates (a re-signing egress proxy's, say)."""
    return sorted(CA_DIR.rglob("*.crt")) if CA_DIR.is_dir() else []


def base_tag() -> str:
    """``aiii-base:<hash>``: the hash covers the packages, this script and the added CAs."""
    digest = hashlib.sha256(json.dumps([SCRIPT_VERSION, SUITE, sorted(BASE_PACKAGES)]).encode())
    for path in extra_ca_files():
        digest.update(path.name.encode() + path.read_bytes())
    return f"{BASE_REPO}:{digest.hexdigest()[:16]}"


def _find_image(client: Any, ref: str) -> Any | None:
    import docker

    try:
        return client.images.get(ref)
    except docker.errors.ImageNotFound:
        return None


def _debootstrap() -> str:
    found = shutil.which("debootstrap")
    if found:
        return found
    if os.geteuid() != 0:
        raise ImageError("debootstrap is not installed and this is not root: run `apt-get install debootstrap` "
                         "(the docker placement builds its base image from Debian's mirror with it)")
    _run(["apt-get", "update", "-qq"], "apt-get update", 600)
    _run(["apt-get", "install", "-y", "-qq", "debootstrap"], "apt-get install debootstrap", 600)
    return shutil.which("debootstrap") or "/usr/sbin/debootstrap"


def ensure_base_image(progress: IO[str] | None = sys.stderr) -> str:
    """The tag of the base image, made once from Debian's mirror with debootstrap."""
    client = docker_client()
    tag = base_tag()
    if _find_image(client, tag) is not None:
        return tag
    with _machine_lock("base"):
        if _find_image(client, tag) is not None:
            return tag
        if os.geteuid() != 0:
            raise ImageError(f"the base image {tag} is missing and building it (debootstrap, chroot) needs root")
        tool = _debootstrap()
        mirror = apt_mirror()
        started = time.monotonic()
        work = Path(tempfile.mkdtemp(prefix="aiii-rootfs-", dir="/var/tmp"))
        rootfs, tarball = work / "rootfs", work / "rootfs.tar"
        try:
            _say(progress, f"building {tag}: debootstrap {SUITE} from {mirror} (once; takes minutes)")
            _run([tool, "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}", SUITE, str(rootfs), mirror],
                 "debootstrap", DEBOOTSTRAP_TIMEOUT_S)
            cas = extra_ca_files()
            if cas:
                _say(progress, f"adding {len(cas)} local CA certificate(s) from {CA_DIR}")
                for path in cas:
                    shutil.copyfile(path, rootfs / "usr/local/share/ca-certificates" / path.name)
                _run(["chroot", str(rootfs), "update-ca-certificates"], "update-ca-certificates", 300)
            _trim(rootfs)
            _say(progress, f"rootfs ready after {time.monotonic() - started:.0f} s; importing into the engine")
            _run(["tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(tarball), "."], "tar of the rootfs", 900)
            repo, _, version = tag.partition(":")
            changes = [
                f'LABEL {LABEL_BASE}="{" ".join(sorted(BASE_PACKAGES))}"',
                f"LABEL org.aiii.script-version={SCRIPT_VERSION}",
                'ENV PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" LANG=C.UTF-8',
                'CMD ["/bin/sh"]',
            ]
            client.api.import_image(src=str(tarball), repository=repo, tag=version, changes=changes)
        finally:
            _unmount_under(work)  # a debootstrap cut short leaves proc/sys mounted in the rootfs
            shutil.rmtree(work, ignore_errors=True)
        if _find_image(client, tag) is None:
            raise ImageError(f"docker import did not produce {tag}")
        _untag_old_bases(client, tag)
        _say(progress, f"base image {tag} built in {time.monotonic() - started:.0f} s")
        return tag


def _unmount_under(folder: Path) -> None:
    try:
        mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    except OSError:
        return
    for point in sorted((m for m in mounts if m.startswith(f"{folder}/")), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True, timeout=60)


def _trim(rootfs: Path) -> None:
    """Drop what no adapter reads: apt's caches, manuals, translations (licences stay)."""
    for folder in ("var/cache/apt", "var/lib/apt/lists", "usr/share/man", "usr/share/info", "usr/share/locale"):
        for item in (rootfs / folder).glob("*"):
            if item.is_dir() and not item.is_symlink():
                shutil.rmtree(item, ignore_errors=True)
            elif item.name != "lock":
                item.unlink(missing_ok=True)
    for item in (rootfs / "usr/share/doc").rglob("*"):
        if item.is_file() and item.name != "copyright":
            item.unlink()


def _untag_old_bases(client: Any, keep: str) -> None:
    """Untag earlier base images; their layers go with the last vendor image built on them."""
    import docker

    for image in client.images.list(name=BASE_REPO):
        for tag in image.tags:
            if tag != keep:
                with contextlib.suppress(docker.errors.APIError):
                    client.images.remove(tag)


# -- vendor images ---------------------------------------------------------------------


def _requirement_name(spec: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else ""


def host_pins(requirements: list[str]) -> list[str]:
    """Pins for the dependencies of exactly pinned requirements, as installed here.

    So a vendor's container holds the same versions as the harness's own environment,
    down to its dependencies; requirements pinned to another version than the one
    installed here are left to pip.
    """
    import importlib.metadata

    pins: dict[str, str] = {}
    todo: list[str] = []
    direct = {_requirement_name(r) for r in requirements}
    for spec in requirements:
        name, _, version = spec.partition("==")
        try:
            if version and importlib.metadata.version(name.strip()) == version.strip():
                todo.append(name.strip())
        except importlib.metadata.PackageNotFoundError:
            continue
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if _requirement_name(name) in seen:
            continue
        seen.add(_requirement_name(name))
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        if _requirement_name(name) not in direct:
            pins[_requirement_name(name)] = dist.version
        for req in dist.requires or []:
            if not re.search(r"\bextra\s*==", req):
                todo.append(_requirement_name(req))
    return [f"{name}=={version}" for name, version in sorted(pins.items())]


def _vendor_files(manifest: VendorManifest) -> list[Path]:
    return sorted(p for p in manifest.folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                  and p.suffix not in (".pyc", ".pyo"))


#: The Dockerfile of every Python vendor that ships none of its own.
SHARED_DOCKERFILE = Path(__file__).parent / "docker" / "python-wheels.Dockerfile"


def vendor_dockerfile(manifest: VendorManifest) -> Path:
    """The Dockerfile a vendor's image is built from: its own (``[docker] dockerfile``,
    default ``Dockerfile`` in its folder), else the shared one when it lists wheels."""
    own = manifest.folder / str(manifest.docker.get("dockerfile", "Dockerfile"))
    if own.is_file():
        return own
    if "dockerfile" not in manifest.docker and manifest.docker.get("wheels"):
        return SHARED_DOCKERFILE
    raise ImageError(f"vendor {manifest.id}: no {own.name} in its folder and no [docker] wheels for the shared"
                     " Python image: the docker placement cannot build it")


def context_hash(manifest: VendorManifest, harness_version: str, base: str, requirements: list[str],
                 pins: list[str]) -> str:
    """The hash of everything a vendor image is built from."""
    digest = hashlib.sha256(json.dumps([SCRIPT_VERSION, harness_version, base, requirements, pins,
                                        WHEEL_PLATFORMS]).encode())
    digest.update(b"dockerfile\0" + hashlib.sha256(vendor_dockerfile(manifest).read_bytes()).digest())
    for path in _vendor_files(manifest):
        digest.update(b"vendor/" + str(path.relative_to(manifest.folder)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    digest.update(b"kit\0" + kit_hash().encode())
    return digest.hexdigest()


def download_wheels(requirements: list[str], pins: list[str], target: Path, progress: IO[str] | None) -> None:
    """``pip download`` the requirements' wheels for the base image's Python, on this host."""
    target.mkdir(parents=True, exist_ok=True)
    (target / "requirements.txt").write_text("".join(f"{r}\n" for r in requirements))
    (target / "constraints.txt").write_text("".join(f"{p}\n" for p in pins))
    if not requirements:
        return
    _say(progress, f"downloading wheels: {' '.join(requirements)}")
    # not --quiet: pip explains a dependency conflict only in its normal output
    cmd = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--dest", str(target),
           "--only-binary=:all:", "--python-version", "3.11", "--implementation", "cp", "--find-links", str(target),
           "-c", str(target / "constraints.txt"), "-r", str(target / "requirements.txt")]
    for platform in WHEEL_PLATFORMS:
        cmd += ["--platform", platform]
    what = f"pip download {' '.join(requirements)}"
    built: set[str] = set()
    while True:
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1200)
        except subprocess.TimeoutExpired:
            raise ImageError(f"{what} did not finish within 1200 s") from None
        if proc.returncode == 0:
            return
        # A pure-Python dependency that publishes only an sdist (iscc-core's data-url) is
        # "not found" or, pinned, "conflicting": build its wheel here, at the version
        # installed here, and let pip find it beside the others.
        found = re.findall(r"No matching distribution found for ([A-Za-z0-9._-]+)|"
                           r"The user requested \(constraint\) ([A-Za-z0-9._-]+)==", proc.stdout + proc.stderr)
        names = [_requirement_name(a or b) for a, b in found]
        todo = [(n, v) for n in dict.fromkeys(names) if n not in built and (v := _pure_python_version(n))]
        if not todo:
            tail = " | ".join(proc.stderr.strip().splitlines()[-4:])
            raise ImageError(f"{what} failed (exit {proc.returncode}): {tail}")
        for name, version in todo:
            built.add(name)
            _say(progress, f"building a wheel of {name}=={version} here (PyPI has only its sdist)")
            _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps",
                  "--wheel-dir", str(target), f"{name}=={version}"], f"pip wheel {name}=={version}", 600)


def _pure_python_version(name: str) -> str | None:
    """The version installed here of a pure-Python distribution (None if absent or compiled)."""
    import importlib.metadata

    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return None
    wheel = dist.read_text("WHEEL") or ""
    return dist.version if "Root-Is-Purelib: true" in wheel else None


def _build_context(manifest: VendorManifest, requirements: list[str], pins: list[str], where: Path,
                   progress: IO[str] | None) -> None:
    shutil.copytree(manifest.folder, where / "vendor", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (where / "kit").mkdir()
    wheel = kit_wheel()
    shutil.copyfile(wheel, where / "kit" / wheel.name)
    download_wheels(requirements, pins, where / "wheels", progress)


def vendor_images(client: Any, vendor: str) -> list[Any]:
    """Every image built for a vendor."""
    return list(client.images.list(filters={"label": f"{LABEL_VENDOR}={vendor}"}))


def ensure_vendor_image(manifest: VendorManifest, harness_version: str, progress: IO[str] | None = sys.stderr) -> str:
    """The image ID of the vendor's image, built when its context changed."""
    dockerfile = vendor_dockerfile(manifest)
    base = ensure_base_image(progress)
    client = docker_client()
    requirements = [str(r) for r in manifest.docker.get("wheels", [])]
    pins = host_pins(requirements)
    key = context_hash(manifest, harness_version, client.images.get(base).id, requirements, pins)
    tag = f"aiii-vendor-{manifest.id}:{key[:12]}"
    with _machine_lock(f"vendor-{manifest.id}"):
        found = client.images.list(filters={"label": f"{LABEL_CONTEXT}={key}"})
        if found:
            return str(found[0].id)
        started = time.monotonic()
        _say(progress, f"building {tag}")
        with tempfile.TemporaryDirectory(prefix="aiii-ctx-") as ctx:
            _build_context(manifest, requirements, pins, Path(ctx), progress)
            shutil.copyfile(dockerfile, Path(ctx) / "Dockerfile.aiii")
            image_id = _docker_build(client, Path(ctx), "Dockerfile.aiii", tag, {"BASE": base}, {
                LABEL_HARNESS: harness_version, LABEL_VENDOR: manifest.id, LABEL_CONTEXT: key}, progress)
        _say(progress, f"built {tag} ({image_id[7:19]}) in {time.monotonic() - started:.0f} s")
        prune_vendor_images(client, manifest.id, keep=image_id, progress=progress)
        return image_id


def _docker_build(client: Any, ctx: Path, dockerfile: str, tag: str, buildargs: dict[str, str],
                  labels: dict[str, str], progress: IO[str] | None) -> str:
    """Build without network, streaming the steps to ``progress``; the image ID."""
    image_id = None
    tail: list[str] = []
    stream = client.api.build(path=str(ctx), dockerfile=dockerfile, tag=tag, buildargs=buildargs, labels=labels,
                              rm=True, forcerm=True, pull=False, network_mode="none", decode=True,
                              timeout=BUILD_TIMEOUT_S)
    for chunk in stream:
        if "error" in chunk:
            raise ImageError(f"docker build of {tag} failed: {str(chunk['error']).strip()[:400]}: "
                             + " | ".join(tail[-4:])[-800:])
        text = str(chunk.get("stream", "")).strip()
        if text:
            tail.append(text)
            if text.startswith("Step "):
                _say(progress, f"  {tag}: {text}")
        aux = chunk.get("aux")
        if isinstance(aux, dict) and "ID" in aux:
            image_id = str(aux["ID"])
    if image_id is None:
        image_id = str(client.images.get(tag).id)
    return image_id


def prune_vendor_images(client: Any, vendor: str, keep: str, progress: IO[str] | None = None) -> list[str]:
    """Remove the vendor's images other than ``keep`` (those a container still uses stay)."""
    import docker

    removed = []
    for image in vendor_images(client, vendor):
        if image.id == keep:
            continue
        try:
            client.images.remove(image.id, force=False, noprune=False)
            removed.append(str(image.id))
        except docker.errors.APIError as exc:
            _say(progress, f"kept old image {image.id[7:19]} of {vendor}: {str(exc)[:120]}")
    if removed:
        _say(progress, f"removed {len(removed)} older image(s) of {vendor}")
    return removed
