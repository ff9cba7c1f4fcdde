"""The base image of the docker placement: a Debian bookworm rootfs made with
``debootstrap`` from the host's mirror, with the packages every vendor image may use,
imported into the engine and tagged by a hash of what went into it."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

from runner.docker_engine import ImageError, _find_image, _machine_lock, _run, _say, docker_client

#: Bump when the way images are made changes: every image is rebuilt.
SCRIPT_VERSION = "2"
SUITE = "bookworm"
#: exiv2: the exiv2-cli vendor's program; libchromaprint-tools: fpcalc, for the ISCC vendors'
#: audio content codes; libgl1 and libglib2.0-0: what OpenCV (blind-watermark) links;
#: libexempi8: Exempi, which python-xmp-toolkit loads with ctypes.
BASE_PACKAGES = ("python3", "python3-venv", "perl", "exiv2", "ca-certificates", "libchromaprint-tools", "libgl1",
                 "libglib2.0-0", "libexempi8")
BASE_REPO = "aiii-base"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
CA_DIR = Path("/usr/local/share/ca-certificates")
LABEL_BASE = "org.aiii.base"
DEBOOTSTRAP_TIMEOUT_S = 1800


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
