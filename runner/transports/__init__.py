"""Placements of vendor adapters: one registry (``PLACEMENTS``), one face (``Transport``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

from aiii_kit import Asset

from runner.cpu import CpuAccount
from runner.errors import TransportError
from runner.model import VendorManifest

__all__ = ["PLACEMENTS", "Transport", "TransportError", "make_transport", "placement_of", "reaches_loopback"]


class Transport(ABC):
    """How the harness reaches one vendor's adapter."""

    #: Whether it can run an adapter class the harness holds (``[adapter] entry``).
    hosts_adapter: ClassVar[bool] = True
    #: Whether the adapter is reached over the protocol (so ``aiii adapter check`` can probe it).
    served: ClassVar[bool] = True
    #: Whether the adapter can reach a server the harness runs on loopback (a container
    #: without a network cannot; an http vendor runs on someone else's machine).
    reaches_loopback: ClassVar[bool] = True
    #: Whether a vendor's manifest may name it (a pack is chosen by ``--import-pack``, never declared).
    declarable: ClassVar[bool] = True

    def __init__(self, manifest: VendorManifest, log_dir: Path | None = None) -> None:
        self.manifest = manifest
        #: CPU inside the adapter and the wait for its slots (runner/cpu.py)
        self.account = CpuAccount()

    @abstractmethod
    def start(self) -> None:
        """Load or start the adapter; raise TransportError when it cannot run."""

    @abstractmethod
    def implementation_version(self) -> str | None:
        """The adapter's own report of its implementation version."""

    @abstractmethod
    def call(self, operation: str, asset: Asset, params: dict[str, Any], timeout_s: float) -> Asset | dict[str, Any]:
        """Run one operation; raise AdapterError/Unsupported (clean) or TransportError."""

    def adapter_cpu_s(self) -> float | None:
        """CPU seconds the adapter has spent serving calls so far (None: not measured here)."""
        return self.account.cpu_s

    def process_groups(self) -> list[int]:
        """The process groups of the adapter's running servers (kept out of the harness's children)."""
        return []

    def close(self) -> None:  # noqa: B027 - most placements have nothing to stop
        """Stop whatever ``start`` started."""


def placement_of(manifest: VendorManifest, override: str | None) -> str:
    """The placement a vendor runs in: its manifest's, unless a run overrides it.

    Only adapters the harness holds (inproc) can be moved; process, docker and http
    vendors stay where their manifest puts them, and inproc is never forced on them.
    One exception: a vendor with a server of its own (``[process] command``, no adapter
    entry) that ships a Dockerfile moves to ``docker`` when the run asks for it, its
    server in the image that file describes (vendors/rust-recognition).  An inproc
    vendor that declares ``[adapter] processes`` runs in the ``process`` placement (a
    pool of servers, runner/transports/pool.py), unless the run says
    ``--placement inproc``: then it runs in the harness's own process after all.
    """
    movable = manifest.adapter_entry and manifest.placement in ("inproc", "process")
    if override and movable and (override != "inproc" or manifest.placement == "inproc"):
        return override
    if override == "docker" and _own_server_with_image(manifest):
        return override
    if manifest.placement == "inproc" and manifest.processes is not None:
        return "process"
    return manifest.placement


def _own_server_with_image(manifest: VendorManifest) -> bool:
    """A process vendor serving the protocol itself, with its own Dockerfile."""
    if manifest.placement != "process" or manifest.adapter_entry or not manifest.process.get("command"):
        return False
    from runner.images import own_dockerfile

    return own_dockerfile(manifest).is_file()


def make_transport(manifest: VendorManifest, placement: str | None = None, log_dir: Path | None = None) -> Transport:
    """The transport for a vendor in its placement (:func:`placement_of` without an override
    unless given); in the ``process`` placement, a pool when it declares several processes."""
    where = placement or placement_of(manifest, None)
    cls = PLACEMENTS.get(where)
    if cls is None:
        raise TransportError(f"vendor {manifest.id}: placement {where!r} is not available in this harness yet")
    if cls is ProcessTransport and pool_size(manifest) > 1:
        return ProcessPool(manifest, log_dir)
    return cls(manifest, log_dir)


def movable_placements() -> list[str]:
    """The placements an adapter the harness holds can be run in (``aiii run --placement``)."""
    return [name for name, cls in PLACEMENTS.items() if cls.hosts_adapter]


def reaches_loopback(placement: str) -> bool:
    """Whether adapters in this placement can fetch from the harness's loopback servers."""
    cls = PLACEMENTS.get(placement)
    return cls is not None and cls.reaches_loopback


def served_placements() -> list[str]:
    """The placements that serve a held adapter over the protocol (``aiii adapter check --placement``)."""
    return [name for name, cls in PLACEMENTS.items() if cls.hosts_adapter and cls.served]


# The registry: a placement is one module with one Transport class, named here.  (Imported
# after Transport is defined: each module derives from it.)
from runner.transports.docker import DockerTransport  # noqa: E402
from runner.transports.http import HttpTransport  # noqa: E402
from runner.transports.inproc import InprocTransport  # noqa: E402
from runner.transports.pack import PackTransport  # noqa: E402
from runner.transports.pool import ProcessPool, pool_size  # noqa: E402
from runner.transports.process import ProcessTransport  # noqa: E402

#: Placement name -> its transport class, in the order the docs list them.
PLACEMENTS: dict[str, type[Transport]] = {
    "inproc": InprocTransport,
    "process": ProcessTransport,
    "docker": DockerTransport,
    "http": HttpTransport,
    "pack": PackTransport,
}
