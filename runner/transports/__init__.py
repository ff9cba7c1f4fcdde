"""Placements of vendor adapters.  Only ``inproc`` exists so far; all share this face."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from runner.adapter import Asset
from runner.errors import HarnessError
from runner.model import VendorManifest


class TransportError(HarnessError):
    """The adapter crashed, hung, or broke the protocol (becomes an ``error`` outcome)."""


class Transport(ABC):
    """How the harness reaches one vendor's adapter."""

    def __init__(self, manifest: VendorManifest) -> None:
        self.manifest = manifest

    @abstractmethod
    def start(self) -> None:
        """Load or start the adapter; raise TransportError when it cannot run."""

    @abstractmethod
    def implementation_version(self) -> str | None:
        """The adapter's own report of its implementation version."""

    @abstractmethod
    def call(self, operation: str, asset: Asset, params: dict[str, Any], timeout_s: float) -> Asset | dict[str, Any]:
        """Run one operation; raise AdapterError/Unsupported (clean) or TransportError."""

    def close(self) -> None:  # noqa: B027 - most placements have nothing to stop
        """Stop whatever ``start`` started."""


PLACEMENTS = ("inproc", "process", "docker", "http")


#: Placements whose adapters cannot reach a server the harness runs on loopback (the
#: docker placement has no network; an http vendor runs on someone else's machine).
NO_LOOPBACK = frozenset({"docker", "http"})


def placement_of(manifest: VendorManifest, override: str | None) -> str:
    """The placement a vendor runs in: its manifest's, unless a run overrides it.

    Only adapters the harness holds (inproc) can be moved; process, docker and http
    vendors stay where their manifest puts them, and inproc is never forced on them.
    """
    if override and override != "inproc" and manifest.adapter_entry and manifest.transport in ("inproc", "process"):
        return override
    return manifest.transport


def make_transport(manifest: VendorManifest, placement: str | None = None, log_dir: Path | None = None) -> Transport:
    """The transport for a vendor in its placement."""
    where = placement or manifest.transport
    if where == "inproc":
        from runner.transports.inproc import InprocTransport

        return InprocTransport(manifest)
    if where == "process":
        from runner.transports.process import ProcessTransport

        return ProcessTransport(manifest, log_dir)
    if where == "docker":
        from runner.transports.docker import DockerTransport

        return DockerTransport(manifest, log_dir)
    if where == "http":
        from runner.transports.http import HttpTransport

        return HttpTransport(manifest)
    raise TransportError(f"vendor {manifest.id}: placement {where!r} is not available in this harness yet")
