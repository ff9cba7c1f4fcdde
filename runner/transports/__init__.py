"""Placements of vendor adapters.  Only ``inproc`` exists so far; all share this face."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from runner.adapter import Asset
from runner.model import VendorManifest


class TransportError(Exception):
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


def make_transport(manifest: VendorManifest) -> Transport:
    from runner.transports.inproc import InprocTransport

    if manifest.transport == "inproc":
        return InprocTransport(manifest)
    raise TransportError(f"vendor {manifest.id}: transport {manifest.transport!r} is not available")
