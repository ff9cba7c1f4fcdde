"""The kit's core: assets, errors, the adapter base class and version rules.

A vendor adapter is a small class deriving from :class:`Adapter`.  Each operation the
vendor supports is a method named after the operation id with the dot replaced by an
underscore (``metadata.write`` -> ``metadata_write``).  Every operation takes an
:class:`Asset` and a JSON-like ``params`` dict; producers return an :class:`Asset`,
consumers return a JSON-like dict.  Nothing here knows where the adapter runs, so the
same class can be served in-process, from a local process, a container or a remote
endpoint.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, ClassVar

from aiii_kit.protocol import OPERATIONS
from aiii_kit.vocab import MEDIA_SUFFIX, NO_MEDIA_TYPE

__all__ = ["MEDIA_SUFFIX", "NO_MEDIA_TYPE", "Adapter", "AdapterError", "Asset", "Unsupported", "resolve_version"]


@dataclass(frozen=True)
class Asset:
    """Bytes of a media file with their media type."""

    data: bytes
    media_type: str
    #: Optional file name hint (extension matters to some tools).
    name: str = ""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def suffix(self) -> str:
        """The usual file extension for the media type, with its dot."""
        return MEDIA_SUFFIX.get(self.media_type, ".bin")




class AdapterError(Exception):
    """The implementation failed cleanly on this input; the message says why."""


class Unsupported(AdapterError):
    """The implementation cannot do this (format, option or field) at all."""


@dataclass
class Adapter:
    """Base class for vendor adapters.

    ``config`` holds the ``[adapter.config]`` table of the vendor's manifest.
    """

    config: dict[str, Any] = field(default_factory=dict)

    #: Set by subclasses that know their implementation's version better than the
    #: manifest's ``[version]`` rule (for example from a command's output).
    version_hint: ClassVar[str | None] = None

    def implementation_version(self) -> str | None:
        """The implementation's own version, when the adapter can tell it."""
        return self.version_hint

    def health(self) -> None:
        """Raise :class:`AdapterError` when the implementation cannot run here."""

    def close(self) -> None:
        """Release processes or handles the adapter holds."""

    def call(self, operation: str, asset: Asset, params: dict[str, Any]) -> Asset | dict[str, Any]:
        """Dispatch an operation id to its method."""
        if operation not in OPERATIONS:
            raise Unsupported(f"unknown operation {operation!r}")
        method = getattr(self, operation.replace(".", "_"), None)
        if method is None:
            raise Unsupported(f"{type(self).__name__} does not implement {operation}")
        return method(asset, params)  # type: ignore[no-any-return]


def resolve_version(rule: dict[str, Any]) -> str | None:
    """A manifest's ``[version]`` rule evaluated in the current environment.

    ``distribution``: an installed distribution's version; ``attribute``: ``module:attr``;
    ``adapter``: None here (the adapter's :meth:`Adapter.implementation_version` answers).
    """
    import importlib
    import importlib.metadata

    if "distribution" in rule:
        return importlib.metadata.version(rule["distribution"])
    if "attribute" in rule:
        module_name, attr = str(rule["attribute"]).split(":", 1)
        value: object = importlib.import_module(module_name)
        for part in attr.split("."):
            value = getattr(value, part)
        return str(value)
    return None
