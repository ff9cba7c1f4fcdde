"""c2pa-unstructured-text 0.2.0 (WritersLogic), a Rust codec for C2PA Annex A.8 in text.

The library (Rust, in an abi3 wheel) owns the wrapper frame (embed, extract, strip,
locate every wrapper, the deterministic padding) and the unstructured-text hard binding
(``compute_data_hash``/``verify_data_hash``: remove the wrapper, NFC, hash).  It parses
no manifest, checks no signature, and so cannot find the hash and exclusions a manifest
declares: the binding functions are not used here.  So:

* ``provenance.sign`` re-embeds: it takes the payload of the wrapper already in its input
  (``extract``), removes that wrapper (``strip``) and appends the same bytes with its own
  ``embed`` (unpadded, as c2patxt's is).  The signing params are not used; input without
  a wrapper is refused as unsupported.
* ``provenance.read`` decodes: ``extract`` gives the payload (reported by digest as
  ``manifest_store``); a candidate that does not decode, or two valid wrappers, is the
  status code the library puts in its error.  No state.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import c2pa_unstructured_text as codec
from aiii_kit import Adapter, AdapterError, Asset, Unsupported
from aiii_kit.c2pa import empty_provenance_report, manifest_text

TEXT = "text/plain"
#: The status code the library appends to its error messages, e.g. ``[manifest.text.corruptedWrapper]``.
_CODE = re.compile(r"\[(manifest\.text\.[A-Za-z]+)\]")


class C2paUnstructuredTextAdapter(Adapter):
    """WritersLogic's c2pa-unstructured-text: Annex A.8 frame codec, embed and extract only."""

    def provenance_sign(self, asset: Asset, params: dict[str, Any]) -> Asset:
        """Re-embed the payload found in the input with the library's own encoder."""
        text = manifest_text(asset, "c2pa-unstructured-text")
        try:
            found = codec.extract(text)
        except ValueError as exc:  # a corrupt candidate or two wrappers
            raise AdapterError(f"c2pa-unstructured-text cannot take the input's manifest: {exc}") from exc
        if found is None:
            raise Unsupported("c2pa-unstructured-text embeds a manifest store it is given and cannot sign one:"
                              " the input carries no Annex A.8 wrapper to re-embed")
        visible = codec.strip(text, found["start"], found["length"])
        return Asset(codec.embed(visible, found["payload"]).encode("utf-8"), TEXT)

    def provenance_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        """The wrapper's payload by digest, or the status code of a wrapper that fails; no validation."""
        text = manifest_text(asset, "c2pa-unstructured-text")
        report = empty_provenance_report(validates=False)
        report["manifest_store"] = None
        try:
            found = codec.extract(text)
        except ValueError as exc:
            match = _CODE.search(str(exc))
            report["manifest_present"] = True
            report["codes"]["failure"] = [match.group(1) if match else "manifest.text.corruptedWrapper"]
            report["notes"] = [str(exc)[:10000]]
            return report
        if found is not None:
            payload = bytes(found["payload"])
            report["manifest_present"] = True
            report["manifest_store"] = {"sha256": hashlib.sha256(payload).hexdigest(), "size": len(payload)}
        return report
