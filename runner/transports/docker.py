"""The ``docker`` placement: the adapter served by the kit's server in a hardened container.

One container per vendor per run, from the vendor's image (``runner/images.py``), serving
the adapter with the kit's server or, for a vendor without ``[adapter] entry``, with the
server its image's entry point starts (on ``/run/aiii/adapter.sock``): no
network, read-only root, a small ``/tmp`` tmpfs, uid 65534, no capabilities, no new
privileges, memory/CPU/pids limits.  The harness speaks the protocol over a unix socket
in a host folder bind-mounted at ``/run/aiii``.  A crash is noticed on the call it
happens in and the container restarted with backoff for the next; a hang is killed at
the call's deadline.  Each container's log is appended to ``<log_dir>/<vendor>.log``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

from runner import __version__
from runner.cpu import container_cpu_s
from runner.docker_engine import docker_client
from runner.images import ensure_vendor_image
from runner.model import VendorManifest
from runner.transports import TransportError
from runner.transports.served import ServedTransport

SOCKET_DIR = "/run/aiii"
DEFAULTS = {"memory": "1g", "cpus": 1, "pids": 256, "tmpfs_size": "256m", "startup_timeout_s": 60}


class DockerTransport(ServedTransport):
    placement = "docker"
    what = "container"
    reaches_loopback = False  # network_mode "none"

    def __init__(self, manifest: VendorManifest, log_dir: Path | None = None) -> None:
        super().__init__(manifest, log_dir)
        self.settings = {**DEFAULTS, **dict(manifest.docker)}
        self.image_id = ""
        self._docker: Any = None

    def start(self) -> None:
        self.image_id = ensure_vendor_image(self.manifest, __version__, sys.stderr)
        self._docker = docker_client()
        reap_orphans(self._docker)
        with self._lock:
            self._spawn()

    def _startup_timeout(self) -> float:
        return float(self.settings["startup_timeout_s"])

    def _socket_folder(self) -> str:
        folder = tempfile.mkdtemp(prefix="aiii-d-", dir="/tmp")  # short: unix socket paths are limited
        os.chmod(folder, 0o777)  # the server runs as uid 65534
        return folder

    def _command(self) -> list[str] | None:
        if not self.manifest.adapter_entry:  # a server of the vendor's own: its image says how to start it
            return None
        return ["--entry", self.manifest.adapter_entry, "--vendor", self.manifest.id,
                "--config", json.dumps(dict(self.manifest.config)),
                "--version-rule", json.dumps(dict(self.manifest.version_rule))]

    def _launch(self, socket_path: str) -> Any:
        """Start the hardened container serving the adapter on ``socket_path``."""
        s, sock_dir = self.settings, os.path.dirname(socket_path)
        try:
            return self._docker.containers.run(
                self.image_id, self._command(), detach=True, init=True, network_mode="none", read_only=True,
                tmpfs={"/tmp": f"size={s['tmpfs_size']}"}, user="65534:65534", cap_drop=["ALL"],
                security_opt=["no-new-privileges"], mem_limit=s["memory"], memswap_limit=s["memory"],
                nano_cpus=int(float(s["cpus"]) * 1e9), pids_limit=int(s["pids"]),
                volumes={sock_dir: {"bind": SOCKET_DIR, "mode": "rw"}},
                labels={"org.aiii.vendor": self.manifest.id, "org.aiii.harness-version": __version__,
                        "org.aiii.host": socket.gethostname(), "org.aiii.owner-pid": str(os.getpid()),
                        "org.aiii.owner": owner_identity(),
                        "org.aiii.socket-dir": sock_dir},
                name=f"aiii-{self.manifest.id}-{secrets.token_hex(4)}")
        except Exception as exc:  # noqa: BLE001 - the engine refused: not a harness bug
            raise TransportError(f"vendor {self.manifest.id}: the engine could not start its container: {str(exc)[:300]}") from None

    def _instance_cpu_s(self, instance: Any) -> float | None:
        return container_cpu_s(instance)  # its cgroup's usage, outside the harness's process tree

    def _looks_alive(self, instance: Any) -> bool:
        return True  # asking the engine before every call costs a round trip; failures tell us

    def _exit_status(self, instance: Any, wait_s: float = 0.0) -> tuple[bool, str]:
        if wait_s:
            with contextlib.suppress(Exception):
                instance.wait(timeout=wait_s)
        try:
            instance.reload()
        except Exception:  # noqa: BLE001 - gone: treat as exited
            return False, "code unknown (container removed)"
        state = instance.attrs.get("State", {})
        running = str(instance.status) in ("created", "running")
        oom = " (out of memory)" if state.get("OOMKilled") else ""
        return running, f"code {state.get('ExitCode')}{oom}"

    def _discard(self, instance: Any, gently: bool) -> None:
        """Stop (or kill) the container, append its log to the run's, and remove it."""
        with contextlib.suppress(Exception):
            if gently:
                instance.stop(timeout=5)
            else:
                instance.kill()
        with open(self.log_path, "ab") as log:
            log.write(f"--- start container {instance.name} ({self.image_id[7:19]}) ---\n".encode())
            with contextlib.suppress(Exception):
                log.write(instance.logs(stdout=True, stderr=True))
        with contextlib.suppress(Exception):
            instance.remove(force=True)

    def implementation_version(self) -> str | None:
        if self._version is None:
            return None
        return f"{self._version} (image {self.image_id[7:19]})"


def owner_identity(pid: int | None = None) -> str:
    """Who started a container, so that no other harness takes it for an orphan: the boot,
    the PID namespace, the process id and the process's start time.  Several harnesses
    (CI jobs in sandboxes of their own, say) can share one engine and one host name while
    each sees only its own processes: a process id alone would let one reap the other's
    live containers (seen in CI as a 404 from the engine right after a container was made)."""
    pid = os.getpid() if pid is None else pid
    return f"{_read('/proc/sys/kernel/random/boot_id')}/{_pid_namespace()}/{pid}/{_start_time(pid)}"


def reap_orphans(client: Any) -> list[str]:
    """Remove containers (and socket folders) left by harness processes of this host that
    are gone.  A container of a harness this one cannot see (another boot or PID namespace)
    is left alone: its owner may well be alive.

    The engine's list is read in one call (the low-level API): docker-py's
    ``containers.list`` inspects every container it lists one by one, and a container
    removed in between (by its owner, or by a vendor starting in the next thread) made it
    raise a 404 that stopped the vendor from starting.  Never raises: reaping is tidying."""
    removed: list[str] = []
    boot, namespace = _read("/proc/sys/kernel/random/boot_id"), _pid_namespace()
    try:
        listed = client.api.containers(all=True, filters={"label": f"org.aiii.host={socket.gethostname()}"})
    except Exception:  # noqa: BLE001 - the engine could not list: nothing is reaped this time
        return removed
    for entry in listed:
        labels = entry.get("Labels") or {}
        parts = str(labels.get("org.aiii.owner", "")).split("/")
        if len(parts) != 4 or parts[0] != boot or parts[1] != namespace or not parts[2].isdigit():
            continue  # not ours to judge
        if _process_alive(int(parts[2])) and _start_time(int(parts[2])) == parts[3]:
            continue  # its owner runs
        try:
            client.api.remove_container(entry["Id"], force=True)
        except Exception:  # noqa: BLE001 - already gone (its owner's last act, or another reaper)
            continue
        removed.append(str((entry.get("Names") or [entry["Id"]])[0]).lstrip("/"))
        sock_dir = str(labels.get("org.aiii.socket-dir", ""))
        if sock_dir.startswith("/tmp/aiii-d-"):
            shutil.rmtree(sock_dir, ignore_errors=True)
    return removed


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii") as f:
            return f.read().strip()
    except OSError:
        return ""


def _pid_namespace() -> str:
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return ""


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (``/proc/PID/stat`` field 22),
    which tells a live owner from a later process that got the same id."""
    stat = _read(f"/proc/{pid}/stat")
    return stat.rsplit(")", 1)[-1].split()[19] if ")" in stat else ""


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
