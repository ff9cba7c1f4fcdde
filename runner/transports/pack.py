"""The ``pack`` placement: a vendor whose answers come from a verified artifact pack.

Nothing of the vendor runs here: the executor serves its steps from the pack
(runner/packs.py, ``VendorRuntime.pack``) by their cache keys.  A call that reaches this
transport is a step the executor did not route to the pack: a harness bug, said so.
"""

from __future__ import annotations

from typing import Any, ClassVar

from aiii_kit import Asset

from runner.errors import TransportError
from runner.transports import Transport


class PackTransport(Transport):
    hosts_adapter: ClassVar[bool] = False
    served: ClassVar[bool] = False
    reaches_loopback: ClassVar[bool] = False
    declarable: ClassVar[bool] = False

    def start(self) -> None:
        """Nothing to start: the pack was verified before the run."""

    def implementation_version(self) -> str | None:
        return None

    def call(self, operation: str, asset: Asset, params: dict[str, Any], timeout_s: float) -> Asset | dict[str, Any]:
        raise TransportError(f"vendor {self.manifest.id} is served from a pack; {operation} was not routed to it")
