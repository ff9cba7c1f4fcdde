"""The adapter kit: the one distribution (``aiii-adapter-kit``) a vendor adapter imports.

A vendor adapter is a small class deriving from :class:`Adapter`, with one method per
operation it supports (``metadata.write`` -> ``metadata_write(asset, params)``);
:func:`serve` (or ``python -m aiii_kit``) serves it over the protocol.  The core needs
only the standard library; the families' helpers are modules of their own
(:mod:`aiii_kit.metadata`, :mod:`aiii_kit.c2pa`, :mod:`aiii_kit.iscc`,
:mod:`aiii_kit.watermark`, :mod:`aiii_kit.optout`, :mod:`aiii_kit.recognition`, the vocabularies in
:mod:`aiii_kit.vocab`), and the protocol's schemas live in :mod:`aiii_kit.protocol`.
"""

from aiii_kit._core import Adapter, AdapterError, Asset, Unsupported
from aiii_kit._server import serve

__version__ = "0.1.0"
__all__ = ["Adapter", "AdapterError", "Asset", "Unsupported", "serve"]
