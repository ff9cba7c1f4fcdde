"""The ``docker`` placement: the adapter served by the kit's server in a hardened container.

One container per vendor per run, from the vendor's image (``runner/images.py``): no
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
import threading
import time
from pathlib import Path
from typing import Any

from runner import __version__
from runner.adapter import Asset
from runner.images import docker_client, ensure_vendor_image
from runner.model import VendorManifest
from runner.paths import state_dir
from runner.transports import Transport, TransportError
from runner.transports.client import Endpoint, ProtocolClient
from runner.transports.process import MAX_RESTARTS, log_tail

SOCKET_DIR = "/run/aiii"
DEFAULTS = {"memory": "1g", "cpus": 1, "pids": 256, "tmpfs_size": "256m", "startup_timeout_s": 60}


class DockerTransport(Transport):
    placement = "docker"

    def __init__(self, manifest: VendorManifest, log_dir: Path | None = None) -> None:
        super().__init__(manifest)
        self.log_dir = log_dir or state_dir() / "logs"
        self.log_path = self.log_dir / f"{manifest.id}.log"
        self.settings = {**DEFAULTS, **dict(manifest.docker)}
        self.image_id = ""
        self._docker: Any = None
        self._container: Any = None
        self._alive = False
        self._sock_dir: str | None = None
        self._client: ProtocolClient | None = None
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(manifest.max_concurrency)
        self._restarts = 0
        self._killed: set[str] = set()  # containers killed for hanging
        self._version: str | None = None

    # -- life cycle --------------------------------------------------------------------

    def start(self) -> None:
        self.image_id = ensure_vendor_image(self.manifest, __version__, sys.stderr)
        self._docker = docker_client()
        reap_orphans(self._docker)
        with self._lock:
            self._spawn()

    def _command(self) -> list[str]:
        assert self.manifest.adapter_entry, f"vendor {self.manifest.id}: the docker placement needs [adapter] entry"
        return ["--entry", self.manifest.adapter_entry, "--vendor", self.manifest.id,
                "--config", json.dumps(dict(self.manifest.config)),
                "--version-rule", json.dumps(dict(self.manifest.version_rule))]

    def _spawn(self) -> None:
        self._sock_dir = tempfile.mkdtemp(prefix="aiii-d-", dir="/tmp")  # short: unix socket paths are limited
        os.chmod(self._sock_dir, 0o777)  # the server runs as uid 65534
        socket_path = os.path.join(self._sock_dir, "adapter.sock")
        s = self.settings
        try:
            self._container = self._run_container(socket_path)
        except Exception as exc:  # noqa: BLE001 - the engine refused: not a harness bug
            shutil.rmtree(self._sock_dir, ignore_errors=True)
            self._sock_dir = None
            raise TransportError(f"vendor {self.manifest.id}: the engine could not start its container: {str(exc)[:300]}") from None
        self._alive = True
        self._client = ProtocolClient(self.manifest.id, Endpoint(unix_socket=socket_path))
        deadline = time.monotonic() + float(s["startup_timeout_s"])
        while True:
            if os.path.exists(socket_path):
                try:
                    self._client.health(timeout=10)
                    self._version = self._client.describe(timeout=10)["implementation_version"]
                    return
                except TransportError:
                    pass
            status, code = self._status()
            if status not in ("created", "running"):
                self._discard()
                raise TransportError(f"vendor {self.manifest.id}: adapter container exited with code {code}"
                                     f" at start-up: {log_tail(self.log_path)}")
            if time.monotonic() > deadline:
                self._discard()
                raise TransportError(f"vendor {self.manifest.id}: adapter container not healthy within "
                                     f"{float(s['startup_timeout_s']):.0f} s: {log_tail(self.log_path)}")
            time.sleep(0.05)

    def _run_container(self, socket_path: str) -> Any:
        """Start the hardened container serving the adapter on ``socket_path``."""
        s, sock_dir = self.settings, os.path.dirname(socket_path)
        return self._docker.containers.run(
            self.image_id, self._command(), detach=True, init=True, network_mode="none", read_only=True,
            tmpfs={"/tmp": f"size={s['tmpfs_size']}"}, user="65534:65534", cap_drop=["ALL"],
            security_opt=["no-new-privileges"], mem_limit=s["memory"], memswap_limit=s["memory"],
            nano_cpus=int(float(s["cpus"]) * 1e9), pids_limit=int(s["pids"]),
            volumes={sock_dir: {"bind": SOCKET_DIR, "mode": "rw"}},
            labels={"org.aiii.vendor": self.manifest.id, "org.aiii.harness-version": __version__,
                    "org.aiii.host": socket.gethostname(), "org.aiii.owner-pid": str(os.getpid()),
                    "org.aiii.socket-dir": sock_dir},
            name=f"aiii-{self.manifest.id}-{secrets.token_hex(4)}")

    def _status(self) -> tuple[str, int | None]:
        """The container's state and exit code, as the engine reports them now."""
        try:
            self._container.reload()
        except Exception:  # noqa: BLE001 - gone: treat as exited
            return "removed", None
        state = self._container.attrs.get("State", {})
        return str(self._container.status), state.get("ExitCode")

    def _save_log(self, container: Any) -> None:
        """Append the container's output to the vendor's log of this run."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(f"--- start container {container.name} ({self.image_id[7:19]}) ---\n".encode())
            with contextlib.suppress(Exception):
                log.write(container.logs(stdout=True, stderr=True))

    def _discard(self, stop: bool = False) -> None:
        """Stop (or kill) the container, keep its log, remove it and its socket folder."""
        container, self._container, self._alive = self._container, None, False
        if container is not None:
            with contextlib.suppress(Exception):
                if stop:
                    container.stop(timeout=5)
                else:
                    container.kill()
            self._save_log(container)
            with contextlib.suppress(Exception):
                container.remove(force=True)
        if self._sock_dir:
            shutil.rmtree(self._sock_dir, ignore_errors=True)
            self._sock_dir = None

    def _ensure_running(self) -> ProtocolClient:
        with self._lock:
            if self._alive and self._client is not None:
                return self._client
            if self._restarts >= MAX_RESTARTS:
                raise TransportError(f"vendor {self.manifest.id}: gave up after {MAX_RESTARTS} restarts: {log_tail(self.log_path)}")
            time.sleep(min(8.0, 0.25 * 2 ** self._restarts))  # backoff
            self._restarts += 1
            self._discard()
            self._spawn()
            assert self._client is not None
            return self._client

    def implementation_version(self) -> str | None:
        if self._version is None:
            return None
        return f"{self._version} (image {self.image_id[7:19]})"

    @property
    def endpoint(self) -> Endpoint | None:
        """Where the running adapter listens (for `aiii adapter check`)."""
        return self._client.endpoint if self._client else None

    def call(self, operation: str, asset: Asset, params: dict[str, Any], timeout_s: float) -> Asset | dict[str, Any]:
        if not self._slots.acquire(timeout=timeout_s):
            raise TransportError(f"vendor {self.manifest.id}: no free slot within {timeout_s:.0f} s")
        try:
            client = self._ensure_running()
            container = self._container
            try:
                return client.call(operation, asset, params, timeout_s)
            except TransportError as exc:
                self._after_failure(operation, container, exc, timeout_s)
                raise
        finally:
            self._slots.release()

    def _after_failure(self, operation: str, container: Any, exc: TransportError, timeout_s: float) -> None:
        """Turn a failed call into the container's story: died, killed, or hung (kill it now)."""
        timed_out = "no answer within" in str(exc) or "at the deadline" in str(exc)
        name = getattr(container, "name", "")
        if name in self._killed:
            raise TransportError(f"vendor {self.manifest.id}: {operation} cut short: the adapter container was"
                                 " killed because another call to it hung") from None
        if container is not None and not timed_out:
            with contextlib.suppress(Exception):
                container.wait(timeout=2)  # a dropped connection: did the container die?
            with contextlib.suppress(Exception):
                container.reload()
            if getattr(container, "status", "") not in ("created", "running"):
                code = container.attrs.get("State", {}).get("ExitCode")
                oom = container.attrs.get("State", {}).get("OOMKilled")
                with self._lock:
                    if self._container is container:
                        self._discard()
                why = " (out of memory)" if oom else ""
                raise TransportError(f"vendor {self.manifest.id}: adapter container died during {operation} "
                                     f"(exit code {code}){why}: {log_tail(self.log_path)}") from None
        if timed_out:
            with self._lock:
                if self._container is container and container is not None:
                    self._killed.add(name)
                    self._discard()  # hung: the next call starts a fresh container
            raise TransportError(f"vendor {self.manifest.id}: {operation} timed out after {timeout_s:.0f} s;"
                                 " the adapter container was killed") from None

    def close(self) -> None:
        with self._lock:
            self._discard(stop=True)


def reap_orphans(client: Any) -> list[str]:
    """Remove containers (and socket folders) left by harness processes of this host that are gone."""
    removed = []
    for container in client.containers.list(all=True, filters={"label": f"org.aiii.host={socket.gethostname()}"}):
        pid = container.labels.get("org.aiii.owner-pid", "")
        if not pid.isdigit() or _process_alive(int(pid)):
            continue
        with contextlib.suppress(Exception):
            container.remove(force=True)
            removed.append(str(container.name))
        sock_dir = container.labels.get("org.aiii.socket-dir", "")
        if sock_dir.startswith("/tmp/aiii-d-"):
            shutil.rmtree(sock_dir, ignore_errors=True)
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
