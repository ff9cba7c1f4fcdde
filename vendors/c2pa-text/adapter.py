"""c2pa-text 3.0.0 (Encypher), the C2PA text-embedding codec: Annex A.8 wrappers in text.

The library encodes and decodes the ``C2PATextManifestWrapper`` (U+FEFF, then the magic,
version, length and manifest bytes as variation selectors) and checks its structure and
the outer JUMBF box.  It neither signs nor validates a manifest (its README sends you to
c2pa-rs, c2patool or Encypher's paid API for the manifest itself).  So here:

* ``provenance.sign`` re-embeds: it takes the manifest store of the wrapper already in
  its input (made by a signer), removes that wrapper with ``extract_manifest`` and
  appends the same bytes with ``embed_manifest``.  The harness's signing params are not
  used.  Input without a wrapper is refused as unsupported.
* ``provenance.read`` decodes: ``extract_manifest`` gives the bytes (reported by digest
  as ``manifest_store``), ``validate_text`` the structural codes
  (``manifest.text.corruptedWrapper``, ``manifest.text.multipleWrappers``); no state.
"""

from __future__ import annotations

import hashlib
from typing import Any

import c2pa_text
from aiii_kit import Adapter, AdapterError, Asset, Unsupported
from aiii_kit.c2pa import empty_provenance_report, manifest_text

TEXT = "text/plain"


class C2paTextAdapter(Adapter):
    """Encypher's c2pa-text: Annex A.8 wrapper codec, embed and extract only."""

    def provenance_sign(self, asset: Asset, params: dict[str, Any]) -> Asset:
        """Re-embed the manifest store found in the input with c2pa-text's own encoder."""
        text = manifest_text(asset, "c2pa-text")
        try:
            manifest, clean = c2pa_text.extract_manifest(text)
        except ValueError as exc:  # more than one wrapper
            raise AdapterError(f"c2pa-text cannot take the input's manifest: {exc}") from exc
        if manifest is None:
            raise Unsupported("c2pa-text embeds a manifest store it is given and cannot sign one:"
                              " the input carries no Annex A.8 wrapper to re-embed")
        return Asset(c2pa_text.embed_manifest(clean, manifest).encode("utf-8"), TEXT)

    def provenance_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        """The wrapper's manifest store by digest, and the structural codes; no validation."""
        text = manifest_text(asset, "c2pa-text")
        report = empty_provenance_report(validates=False)
        report["manifest_store"] = None
        structure = c2pa_text.validate_text(text)
        failures = sorted({issue.code.value for issue in structure.issues})
        try:
            manifest, _ = c2pa_text.extract_manifest(text)
        except ValueError:  # more than one wrapper: validate_text has the code
            manifest = None
        report["manifest_present"] = manifest is not None or bool(failures)
        report["codes"]["failure"] = failures
        if manifest is not None:
            report["manifest_store"] = {"sha256": hashlib.sha256(manifest).hexdigest(), "size": len(manifest)}
        notes = [f"{issue.code.value}: {issue.message}"[:10000] for issue in structure.issues[:100]]
        if notes:
            report["notes"] = notes
        return report
