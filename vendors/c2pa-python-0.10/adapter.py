"""c2pa-python 0.10.0 (c2pa-rs 0.55) as a version-skew signer and validating reader.

The 0.10 API: ``Builder(definition)`` with ``Signer.from_info(C2paSignerInfo(...))``,
``Reader(format, stream).json()`` and a process-wide-per-thread ``load_settings``.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from collections.abc import Iterator
from importlib import metadata
from typing import Any

import c2pa
from aiii_kit import Adapter, AdapterError, Asset, Unsupported
from aiii_kit.c2pa import empty_provenance_report, manifest_definition, summarise_manifest_json
from c2pa.c2pa import load_settings

#: Media types that sign and read back with this release (verified, see README).
SIGN_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/tiff", "audio/wav", "audio/mpeg"})
#: Media types it reads manifests from.
READ_TYPES = SIGN_TYPES
STATES = ("Invalid", "Valid", "Trusted")


# 0.10 raises C2paError (message "Kind: reason") and, on some paths, its nested
# classes, which derive from Exception rather than from C2paError.
_LIBRARY_ERRORS: tuple[type[Exception], ...] = (
    c2pa.C2paError,
    *(v for v in vars(c2pa.C2paError).values() if isinstance(v, type) and issubclass(v, Exception)),
)


class _NoManifest(AdapterError):
    """The asset holds no manifest store."""


def _settings(trust_anchors: str | None) -> str:
    """A complete settings document: settings persist per thread, so each call sets all."""
    return json.dumps(
        {
            # The release's default is verify_trust = false (no trust evaluation at all);
            # anchors are only looked at with verify_trust = true.
            "verify": {"verify_trust": trust_anchors is not None, "remote_manifest_fetch": False, "ocsp_fetch": False},
            "trust": {"trust_anchors": trust_anchors},
            "builder": {"auto_thumbnail": False},
        }
    )


@contextlib.contextmanager
def _library(trust_anchors: str | None = None) -> Iterator[None]:
    """Load this call's settings and turn library failures into adapter errors.

    0.10 prints some errors to stdout ("## error_str: ..."); they go to stderr here.
    """
    try:
        with contextlib.redirect_stdout(sys.stderr):
            load_settings(_settings(trust_anchors))
            yield
    except _LIBRARY_ERRORS as exc:
        message = str(exc) or type(exc).__name__
        kinds = {message.split(":", 1)[0].strip(), type(exc).__name__}
        if "ManifestNotFound" in kinds:
            raise _NoManifest(message) from exc
        if "NotSupported" in kinds:
            raise Unsupported(message) from exc
        raise AdapterError(message) from exc


class C2paPython010Adapter(Adapter):
    """Signs with ``Builder``/``Signer.from_info`` and reads with ``Reader``."""

    def implementation_version(self) -> str | None:
        return metadata.version("c2pa-python")

    def health(self) -> None:
        try:
            c2pa.sdk_version()
        except Exception as exc:  # noqa: BLE001 - the native library failed to load
            raise AdapterError(f"c2pa native library unusable: {exc}") from exc

    def provenance_sign(self, asset: Asset, params: dict[str, Any]) -> Asset:
        """Embed a manifest signed with the given ES256 test credentials (no TSA)."""
        if asset.media_type not in SIGN_TYPES:
            raise Unsupported(f"c2pa-python 0.10 adapter does not sign {asset.media_type}")
        credentials = params["signer"]
        if credentials.get("alg") != "es256":
            raise Unsupported(f"signing algorithm {credentials.get('alg')!r}")
        info = c2pa.C2paSignerInfo(
            b"es256",
            credentials["cert_chain_pem"].encode("utf-8"),
            credentials["private_key_pem"].encode("utf-8"),
            None,
        )
        output = io.BytesIO()
        with _library(), c2pa.Signer.from_info(info) as signer, c2pa.Builder(manifest_definition(params)) as builder:
            builder.sign(signer, asset.media_type, io.BytesIO(asset.data), output)
        if not output.getvalue():
            raise AdapterError("the library wrote no output")
        return Asset(output.getvalue(), asset.media_type, asset.name)

    def provenance_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        """Validate the manifest store and report it in the normalised shape."""
        if asset.media_type not in READ_TYPES:
            raise Unsupported(f"c2pa-python 0.10 adapter does not read {asset.media_type}")
        anchors = params.get("trust_anchors_pem") or None
        try:
            with _library(anchors), c2pa.Reader(asset.media_type, io.BytesIO(asset.data)) as reader:
                text = reader.json()
        except _NoManifest:
            return empty_provenance_report()
        if not text:
            raise AdapterError("the library returned no manifest store JSON")
        return _report(json.loads(text), anchors)



def _codes(entries: Any) -> list[str]:
    if not isinstance(entries, list):
        return []
    return [str(e["code"]) for e in entries if isinstance(e, dict) and e.get("code")]


def _report(store: dict[str, Any], anchors: str | None) -> dict[str, Any]:
    notes: list[str] = []
    results = store.get("validation_results")
    if isinstance(results, dict):
        active = results.get("activeManifest") or {}
        codes = {key: _codes(active.get(key)) for key in ("success", "informational", "failure")}
        deltas = [
            {
                "uri": str(delta.get("ingredientAssertionURI", "")),
                **{
                    key: _codes((delta.get("validationDeltas") or {}).get(key)) for key in ("success", "informational", "failure")
                },
            }
            for delta in results.get("ingredientDeltas") or []
            if isinstance(delta, dict)
        ]
    else:  # not seen with 0.10, kept for stores that only carry the flat list
        codes = {"success": [], "informational": [], "failure": _codes(store.get("validation_status"))}
        deltas = []
        notes.append("no validation_results: failure codes from validation_status")
    state = store.get("validation_state")
    if state not in STATES:
        notes.append(f"library validation_state {state!r} not reported")
        state = None
    if anchors is None:
        notes.append("trust not evaluated: c2pa-python 0.10 defaults to verify_trust = false")
    label = store.get("active_manifest")
    manifests = store.get("manifests") or {}
    manifest = manifests.get(label) if isinstance(label, str) and isinstance(manifests, dict) else None
    if not isinstance(manifest, dict):
        notes.append("manifest store present but no active manifest")
        manifest = None
    report = empty_provenance_report()
    report.update(
        manifest_present=True,
        validation_state=state,
        codes=codes,
        ingredient_deltas=deltas,
        active_manifest=summarise_manifest_json(manifest, notes) if manifest else None,
    )
    if notes:
        report["notes"] = [note[:10000] for note in notes[:100]]
    return report




