"""Images of the ``docker`` placement, built here from Debian's mirror and PyPI only.

No registry is needed: the base image is a Debian bookworm rootfs made with
``debootstrap`` and imported into the engine; a vendor image is built ``FROM`` it with
the vendor's folder, the adapter kit's wheel (``runner/kit_wheel.py``), wheels
downloaded on this host and, for a vendor whose server ``[process] build`` makes, that
binary as built on this host (``runner/builds.py``); the build itself has no network.  Images are tagged by a hash of what went into them and
reused while it is unchanged; a vendor's older images are removed after a build.

The base image is made by :mod:`runner.base_image`, the engine's client and build lock
are in :mod:`runner.docker_engine`; this module makes the vendor images.
"""


from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

from runner.base_image import SCRIPT_VERSION, base_tag, ensure_base_image
from runner.builds import built_binary
from runner.docker_engine import ImageError, _machine_lock, _run, _say, docker_client
from runner.kit_wheel import kit_hash, kit_wheel
from runner.model import VendorManifest

#: Wheels for the base image's CPython 3.11 on x86_64 with glibc 2.36 (bookworm).
WHEEL_PLATFORMS = tuple(f"manylinux_2_{minor}_x86_64" for minor in range(36, 4, -1)) + (
    "manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64")
LABEL_HARNESS = "org.aiii.harness-version"
LABEL_VENDOR = "org.aiii.vendor"
LABEL_CONTEXT = "org.aiii.context"
BUILD_TIMEOUT_S = 1800


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
    return manifest.code_files()


#: The Dockerfile of every Python vendor that ships none of its own.
SHARED_DOCKERFILE = Path(__file__).parent / "docker" / "python-wheels.Dockerfile"


def own_dockerfile(manifest: VendorManifest) -> Path:
    """Where a vendor's own Dockerfile is (``[docker] dockerfile``, default ``Dockerfile``), if it has one."""
    return manifest.folder / str(manifest.docker.get("dockerfile", "Dockerfile"))


def vendor_dockerfile(manifest: VendorManifest) -> Path:
    """The Dockerfile a vendor's image is built from: its own (``[docker] dockerfile``,
    default ``Dockerfile`` in its folder), else the shared one when it lists wheels."""
    own = own_dockerfile(manifest)
    if own.is_file():
        return own
    if "dockerfile" not in manifest.docker and manifest.docker.get("wheels"):
        return SHARED_DOCKERFILE
    raise ImageError(f"vendor {manifest.id}: no {own.name} in its folder and no [docker] wheels for the shared"
                     " Python image: the docker placement cannot build it")


def context_hash(manifest: VendorManifest, harness_version: str, base: str, requirements: list[str],
                 pins: list[str], binary: Path | None = None) -> str:
    """The hash of everything a vendor image is built from (``binary``: the server
    ``[process] build`` made, copied in as ``bin/<name>``)."""
    digest = hashlib.sha256(json.dumps([SCRIPT_VERSION, harness_version, base, requirements, pins,
                                        WHEEL_PLATFORMS]).encode())
    if binary is not None:
        digest.update(b"bin/" + binary.name.encode() + b"\0" + hashlib.sha256(binary.read_bytes()).digest())
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
                   progress: IO[str] | None, binary: Path | None = None) -> None:
    for path in manifest.code_files():  # the vendor's own tests stay out of its image
        (where / "vendor" / path.relative_to(manifest.folder)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, where / "vendor" / path.relative_to(manifest.folder))
    if binary is not None:
        (where / "bin").mkdir()
        shutil.copy2(binary, where / "bin" / binary.name)
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
    # a server built from the vendor's sources is built on this host (the base image's
    # Debian and glibc) and copied in: the image build itself has no network
    binary = built_binary(manifest, progress) if manifest.process.get("build") else None
    key = context_hash(manifest, harness_version, client.images.get(base).id, requirements, pins, binary)
    tag = f"aiii-vendor-{manifest.id}:{key[:12]}"
    with _machine_lock(f"vendor-{manifest.id}"):
        found = client.images.list(filters={"label": f"{LABEL_CONTEXT}={key}"})
        if found:
            return str(found[0].id)
        started = time.monotonic()
        _say(progress, f"building {tag}")
        with tempfile.TemporaryDirectory(prefix="aiii-ctx-") as ctx:
            _build_context(manifest, requirements, pins, Path(ctx), progress, binary)
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


__all__ = [
    "BUILD_TIMEOUT_S", "LABEL_CONTEXT", "LABEL_HARNESS", "LABEL_VENDOR", "SHARED_DOCKERFILE", "WHEEL_PLATFORMS",
    "ImageError", "base_tag", "context_hash", "docker_client", "download_wheels", "ensure_base_image",
    "ensure_vendor_image", "host_pins", "prune_vendor_images", "vendor_dockerfile", "vendor_images",
]
