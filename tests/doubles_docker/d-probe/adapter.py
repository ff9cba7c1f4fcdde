"""Reports, in its answer's notes, what the container lets it do (hardening probe)."""

from __future__ import annotations

import os
import socket
import tempfile
from typing import Any

from aiii_kit import Adapter, Asset


def _try(what: str, action: Any) -> str:
    try:
        result = action()
    except Exception as exc:  # noqa: BLE001 - the failure is the finding
        return f"{what}=refused: {type(exc).__name__}: {exc}"
    return f"{what}=ok{'' if result is None else ': ' + str(result)}"


def _write_root() -> None:
    with open("/aiii-probe", "w") as handle:
        handle.write("x")


def _write_tmp() -> int:
    with tempfile.NamedTemporaryFile(dir="/tmp") as handle:
        handle.write(b"x" * 4096)
        handle.flush()
        return os.path.getsize(handle.name)


def _reach_pypi() -> str:
    """Resolve and connect to PyPI (an allowed registry host) only: nothing else is tried."""
    infos = socket.getaddrinfo("pypi.org", 443, type=socket.SOCK_STREAM)
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.settimeout(3)
        sock.connect(address)
    return str(address[0])


def _status(name: str) -> str:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(name + ":"):
                return line.split(":", 1)[1].strip()
    return "?"


def _first(*paths: str) -> str:
    for path in paths:
        try:
            with open(path) as handle:
                return handle.read().strip()
        except OSError:
            continue
    return "?"


class Probe(Adapter):
    version_hint = "1.0-probe"

    def metadata_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        notes = [
            f"uid={os.getuid()}",
            f"gid={os.getgid()}",
            _try("write_root", _write_root),
            _try("write_tmp", _write_tmp),
            f"interfaces={','.join(sorted(os.listdir('/sys/class/net')))}",
            _try("network", _reach_pypi),
            f"cap_eff={_status('CapEff')}",
            f"no_new_privs={_status('NoNewPrivs')}",
            f"memory_limit={_first('/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes')}",
            f"pids_max={_first('/sys/fs/cgroup/pids.max', '/sys/fs/cgroup/pids/pids.max')}",
        ]
        return {"fields": {}, "notes": notes}
