"""The adapter kit: the one harness module a vendor adapter imports.

A vendor adapter is a small class deriving from :class:`Adapter`.  Each operation the
vendor supports is a method named after the operation id with the dot replaced by an
underscore (``metadata.write`` -> ``metadata_write``).  Every operation takes an
:class:`Asset` and a JSON-like ``params`` dict; producers return an :class:`Asset`,
consumers return a JSON-like dict.  Nothing here knows where the adapter runs, so the
same class can be served in-process, from a local process, a container or a remote
endpoint.

This module has no imports from the rest of the harness on purpose: a vendor can copy
it into its own repository.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, ClassVar

#: Canonical metadata field names shared by every metadata writer and reader.
#: Values are plain strings.  ``digital_source_type`` and ``data_mining`` hold the
#: vocabulary URI or the bare code, exactly as the harness asked for it to be written.
METADATA_FIELDS: tuple[str, ...] = (
    "digital_source_type",  # Iptc4xmpExt:DigitalSourceType
    "data_mining",  # plus:DataMining
    "creator",  # dc:creator (first entry)
    "copyright_notice",  # dc:rights (x-default)
    "web_statement",  # xmpRights:WebStatement
    "title",  # dc:title (x-default)
    "description",  # dc:description (x-default)
)

#: Operation ids and whether they produce an asset (producer) or a report (consumer).
OPERATIONS: dict[str, str] = {
    "metadata.write": "asset",
    "metadata.read": "report",
    "provenance.sign": "asset",
    "provenance.read": "report",
}

IPTC_DST = "http://cv.iptc.org/newscodes/digitalsourcetype/"
PLUS_VOCAB = "http://ns.useplus.org/ldf/vocab/"


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


MEDIA_SUFFIX: dict[str, str] = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/tiff": ".tif",
    "image/gif": ".gif",
    "audio/wav": ".wav",
    "audio/mpeg": ".mp3",
    "audio/flac": ".flac",
    "audio/ogg": ".ogg",
    "text/plain": ".txt",
    "application/octet-stream": ".bin",
}


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
