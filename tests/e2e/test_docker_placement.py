"""The docker placement: a real engine, real images, hardened containers, no mocks.

Without a reachable engine these tests skip, except under CI=true where they fail: CI
must run them.  The first run builds the base image (debootstrap) and the vendor images,
which takes minutes; later runs reuse them.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiii_kit import Asset
from helpers import TESTS, cells, placement_differences
from helpers import aiii as _aiii

from runner import __version__
from runner.transports import TransportError

DOUBLES = TESTS / "doubles_docker"
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

pytestmark = [pytest.mark.timeout(3600), pytest.mark.docker]  # the first run builds every image, then runs the default profile


def aiii(home: Path, *args: str, timeout: float = 2000) -> subprocess.CompletedProcess[str]:
    """Image builds take minutes on a fresh machine: a longer deadline."""
    return _aiii(home, *args, timeout=timeout)


@pytest.fixture(scope="module")
def engine() -> Iterator[object]:
    """The engine's client; skip without one (fail under CI)."""
    from runner.vendors import docker_availability

    avail = docker_availability()
    if not avail.runnable:
        if CI:
            pytest.fail(f"CI runs the docker placement's tests, but: {avail.reason}")
        pytest.skip(f"the docker placement needs a Docker engine: {avail.reason}")
    from runner.images import docker_client

    client = docker_client()
    yield client
    client.close()


def manifest(folder: Path):  # noqa: ANN201 - a VendorManifest
    from runner.vendors import load_manifest

    return load_manifest(folder / "vendor.toml")


def jpeg(name: str) -> Asset:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 30, 30)).save(out, "JPEG")
    return Asset(out.getvalue(), "image/jpeg", name)


def notes_of(answer: object) -> dict[str, str]:
    assert isinstance(answer, dict)
    return dict(note.split("=", 1) for note in answer["notes"])


@pytest.mark.slow
def test_docker_placement_gives_the_same_outcomes_as_in_process(engine: object, default_inproc: dict[str, dict], home: Path,
                                                               tmp_path: Path) -> None:
    """The default profile itself, every in-process vendor in a hardened container: not one
    cell's outcome may differ (opt-out evaluators, with no network, get the site inline)."""
    from runner.images import LABEL_HARNESS, LABEL_VENDOR

    docker = aiii(home, "run", "--placement", "docker", "--out", str(tmp_path / "b"), "--store", str(tmp_path / "b.sqlite"),
                  "--fail-on", "never", "-q", timeout=3000)
    assert docker.returncode == 0, docker.stderr[-3000:]
    assert placement_differences(default_inproc, cells(tmp_path / "b.sqlite")) == {}
    bundle = json.loads((tmp_path / "b" / "results.json").read_text())
    assert {v["transport"] for v in bundle["vendors"]} == {"docker"}
    assert all(v["runnable"] for v in bundle["vendors"]), [v["reason"] for v in bundle["vendors"]]
    for vendor in bundle["vendors"]:  # the image digest is part of the version, so of every cache key
        assert " (image " in vendor["version"], vendor
        short = vendor["version"].rsplit("(image ", 1)[1].rstrip(")")
        image = engine.images.get("sha256:" + short)  # type: ignore[attr-defined]
        assert image.labels[LABEL_VENDOR] == vendor["id"]
        assert image.labels[LABEL_HARNESS] == __version__


def test_exiv2_cli_joins_the_metadata_round_trip_and_agrees_with_pyexiv2(engine: object, home: Path, tmp_path: Path) -> None:
    proc = aiii(home, "run", "--profile", str(TESTS / "profiles" / "exiv2-cli.toml"), "--out", str(tmp_path / "out"),
                "--store", str(tmp_path / "s.sqlite"), "-q")
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = {(c["vector"], c["producer"], c["consumer"], c["variant"]): c for c in cells(tmp_path / "s.sqlite").values()}
    vectors = ["kodim01-jpg", "kodim01", "kodim01-webp", "kodim01-tif"]
    for vector in vectors:
        for pair in [("exiv2-cli", "exiv2-cli"), ("exiv2-cli", "exiv2"), ("exiv2", "exiv2-cli")]:
            cell = got[(vector, *pair, "ascii")]
            assert cell["outcome"] == "pass", (vector, pair, cell["reason"])
        for writer in ("exiftool", "exiv2", "exiv2-cli"):  # the program reads what the library reads
            for variant in ("ascii", "unicode"):
                lib, cli = got[(vector, writer, "exiv2", variant)], got[(vector, writer, "exiv2-cli", variant)]
                assert (cli["outcome"], cli["reason"]) == (lib["outcome"], lib["reason"]), (vector, writer, variant)
    bundle = json.loads((tmp_path / "out" / "results.json").read_text())
    cli_vendor = next(v for v in bundle["vendors"] if v["id"] == "exiv2-cli")
    assert cli_vendor["transport"] == "docker" and cli_vendor["version"].startswith("0.27.6 (image ")


def test_the_container_is_hardened(engine: object, tmp_path: Path) -> None:
    from runner.transports.docker import DockerTransport

    transport = DockerTransport(manifest(DOUBLES / "d-probe"), tmp_path / "logs")
    transport.start()
    try:
        container = transport._instance
        found = notes_of(transport.call("metadata.read", jpeg("probe.jpg"), {}, 30))
        host = container.attrs["HostConfig"]
    finally:
        transport.close()
    assert found["uid"] == "65534" and found["gid"] == "65534"
    assert found["write_root"].startswith("refused") and "Read-only file system" in found["write_root"], found
    assert found["write_tmp"] == "ok: 4096", found
    assert found["interfaces"] == "lo"
    assert found["network"].startswith("refused"), found  # no route to PyPI, the one host tried
    assert int(found["cap_eff"], 16) == 0 and found["no_new_privs"] == "1"
    assert found["memory_limit"] == str(256 * 1024 ** 2) and found["pids_max"] == "64"
    assert host["ReadonlyRootfs"] and host["NetworkMode"] == "none" and host["CapDrop"] == ["ALL"]
    assert host["SecurityOpt"] == ["no-new-privileges"] and host["NanoCpus"] == 10 ** 9
    with pytest.raises(Exception, match="No such container|404"):  # closed: removed
        engine.containers.get(container.id)  # type: ignore[attr-defined]
    assert transport._sock_dir is None


def test_a_crashed_container_is_restarted_for_the_next_call(engine: object, tmp_path: Path) -> None:
    from runner.transports.docker import DockerTransport

    transport = DockerTransport(manifest(DOUBLES / "d-crash"), tmp_path / "logs")
    transport.start()
    try:
        first = transport._instance.name
        with pytest.raises(TransportError, match=r"adapter container died during metadata.read \(exit code 139\)"):
            transport.call("metadata.read", jpeg("x.jpg"), {}, 30)
        answer = transport.call("metadata.read", jpeg("survive.jpg"), {}, 30)
        assert "notes" in answer and transport._instance.name != first
    finally:
        transport.close()
    log = (tmp_path / "logs" / "d-crash.log").read_text()
    assert log.count("--- start container") == 2


def test_a_hung_container_is_killed_at_the_deadline(engine: object, tmp_path: Path) -> None:
    from runner.transports.docker import DockerTransport

    transport = DockerTransport(manifest(DOUBLES / "d-hang"), tmp_path / "logs")
    transport.start()
    try:
        hung = transport._instance
        started = time.monotonic()
        with pytest.raises(TransportError, match="timed out after 3 s; the adapter container was killed"):
            transport.call("metadata.read", jpeg("x.jpg"), {}, 3)
        assert time.monotonic() - started < 8
        with pytest.raises(Exception, match="No such container|404"):
            engine.containers.get(hung.id)  # type: ignore[attr-defined]
        assert transport.call("metadata.read", jpeg("survive.jpg"), {}, 30) == {"fields": {}}
    finally:
        transport.close()


def test_misbehaving_containers_in_a_run_become_errors_with_logs(engine: object, home: Path, tmp_path: Path) -> None:
    proc = aiii(home, "run", "--profile", str(TESTS / "profiles" / "docker-doubles.toml"), "--vendor-dir", str(DOUBLES),
                "--timeout", "5", "--out", str(tmp_path / "out"), "--store", str(tmp_path / "s.sqlite"), "-q")
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = [c for c in cells(tmp_path / "s.sqlite").values() if c["producer"] == "exiftool"]
    crashed = [c for c in got if c["consumer"] == "d-crash"]
    hung = [c for c in got if c["consumer"] == "d-hang"]
    assert len(crashed) == 2 and len(hung) == 2
    for cell in crashed:  # both calls reached a container: the first crash did not end the vendor
        assert cell["outcome"] == "error" and "adapter container died during metadata.read (exit code 139)" in cell["reason"]
    killed = ("timed out after 5 s; the adapter container was killed", "killed because another call to it hung")
    assert all(c["outcome"] == "error" and any(k in c["reason"] for k in killed) for c in hung), hung
    assert any(killed[0] in c["reason"] for c in hung)
    assert all(c["outcome"] == "pass" for c in got if c["consumer"] == "exiftool")
    bundle = json.loads((tmp_path / "out" / "results.json").read_text())
    versions = {v["id"]: v["version"] for v in bundle["vendors"]}
    assert versions["d-crash"].startswith("1.0-crash (image ") and versions["d-hang"].startswith("1.0-hang (image ")
    log = home / "logs" / bundle["run"]["id"] / "d-crash.log"  # kept per run
    assert log.read_text().count("--- start container") >= 2
    leftover = engine.containers.list(all=True, filters={"label": "org.aiii.vendor=d-crash"})  # type: ignore[attr-defined]
    assert leftover == []


def test_images_are_labelled_reused_and_pruned(engine: object, tmp_path: Path) -> None:
    from runner.images import LABEL_CONTEXT, LABEL_HARNESS, LABEL_VENDOR, ensure_vendor_image, vendor_images

    folder = tmp_path / "d-prune"
    shutil.copytree(DOUBLES / "d-probe", folder)
    toml = folder / "vendor.toml"
    toml.write_text(toml.read_text().replace('id = "d-probe"', 'id = "d-prune"'))
    try:
        first = ensure_vendor_image(manifest(folder), __version__, None)
        image = engine.images.get(first)  # type: ignore[attr-defined]
        assert image.labels[LABEL_HARNESS] == __version__ and image.labels[LABEL_VENDOR] == "d-prune"
        assert len(image.labels[LABEL_CONTEXT]) == 64
        progress = io.StringIO()
        assert ensure_vendor_image(manifest(folder), __version__, progress) == first  # unchanged: reused
        assert "building" not in progress.getvalue()
        with open(folder / "adapter.py", "a") as handle:
            handle.write("\n# changed\n")
        second = ensure_vendor_image(manifest(folder), __version__, None)
        assert second != first
        assert [i.id for i in vendor_images(engine, "d-prune")] == [second]  # the old one was pruned
    finally:
        for old in vendor_images(engine, "d-prune"):
            engine.images.remove(old.id, force=True)  # type: ignore[attr-defined]


def test_a_container_that_cannot_start_says_why(engine: object, tmp_path: Path) -> None:
    from runner.images import vendor_images
    from runner.transports.docker import DockerTransport

    folder = tmp_path / "d-broken"
    shutil.copytree(DOUBLES / "d-probe", folder)
    toml = folder / "vendor.toml"
    toml.write_text(toml.read_text().replace('id = "d-probe"', 'id = "d-broken"'))
    (folder / "adapter.py").write_text('raise RuntimeError("broken on purpose")\n')
    transport = DockerTransport(manifest(folder), tmp_path / "logs")
    try:
        with pytest.raises(TransportError, match=r"exited with code 1 at start-up: .*broken on purpose"):
            transport.start()
    finally:
        transport.close()
        for old in vendor_images(engine, "d-broken"):
            engine.images.remove(old.id, force=True)  # type: ignore[attr-defined]
    assert engine.containers.list(all=True, filters={"label": "org.aiii.vendor=d-broken"}) == []  # type: ignore[attr-defined]


def test_only_containers_of_gone_owners_in_this_namespace_are_reaped(engine: object, tmp_path: Path) -> None:
    """Two harnesses can share an engine and a host name without seeing each other's
    processes (CI sandboxes): neither may take the other's live containers for orphans."""
    import socket

    from runner.base_image import ensure_base_image
    from runner.transports.docker import owner_identity, reap_orphans

    base = ensure_base_image(None)
    dead = subprocess.Popen(["true"])  # a process of ours that has ended
    dead.wait()
    mine, dead_owner = owner_identity(), owner_identity(dead.pid)
    boot, namespace, pid, start = mine.split("/")
    foreign = f"{boot}/{int(namespace) + 1}/{dead.pid}/{start}"  # another PID namespace: cannot tell
    reused = f"{boot}/{namespace}/{pid}/{int(start) + 1}"  # our pid, but another start: gone
    made = {}
    try:
        for name, owner in (("live", mine), ("dead", dead_owner), ("foreign", foreign), ("reused", reused)):
            made[name] = engine.containers.create(  # type: ignore[attr-defined]
                base, ["sleep", "60"], name=f"aiii-reap-{name}-{os.getpid()}",
                labels={"org.aiii.host": socket.gethostname(), "org.aiii.owner": owner})
        removed = reap_orphans(engine)
        assert sorted(n for n in removed if n.startswith("aiii-reap-")) == [f"aiii-reap-dead-{os.getpid()}",
                                                                              f"aiii-reap-reused-{os.getpid()}"]
        left = {c.name for c in engine.containers.list(all=True)}  # type: ignore[attr-defined]
        assert {f"aiii-reap-live-{os.getpid()}", f"aiii-reap-foreign-{os.getpid()}"} <= left
    finally:
        for container in made.values():
            with contextlib.suppress(Exception):
                container.remove(force=True)


def test_reaping_survives_containers_that_vanish_while_it_looks(engine: object) -> None:
    """Seen in CI: a container removed by its owner between the engine's list and the
    reaper's look at it made the next vendor's start fail with a 404.  Here containers
    of a live owner (this process) are removed by another thread while the reaper runs
    again and again: it never raises and never reports a live owner's container."""
    import socket
    import threading

    from runner.base_image import ensure_base_image
    from runner.transports.docker import owner_identity, reap_orphans

    base = ensure_base_image(None)
    made = [engine.containers.create(  # type: ignore[attr-defined]
        base, ["sleep", "60"], name=f"aiii-vanish-{i}-{os.getpid()}",
        labels={"org.aiii.host": socket.gethostname(), "org.aiii.owner": owner_identity()}) for i in range(24)]

    def remove_all() -> None:
        for container in made:
            with contextlib.suppress(Exception):
                container.remove(force=True)

    remover = threading.Thread(target=remove_all)
    reported: list[str] = []
    try:
        remover.start()
        while remover.is_alive():
            reported += reap_orphans(engine)
        reported += reap_orphans(engine)
    finally:
        remover.join()
        remove_all()
    assert [n for n in reported if n.startswith("aiii-vanish-")] == []
