"""c2pa-python 0.38 (c2pa-rs 0.91) as an in-process signer and validating reader."""

from __future__ import annotations

import io
import json
from typing import Any

import c2pa
from aiii_kit import Adapter, AdapterError, Asset, Unsupported
from aiii_kit.c2pa import empty_provenance_report, manifest_definition, summarise_manifest_json

#: Media types verified to sign and read back with c2pa-python 0.38.1.
SIGN_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/webp", "image/tiff", "image/gif", "audio/wav", "audio/mpeg", "audio/flac"}
)
#: crJSON reports larger than this (characters) are left out of the answer.
CRJSON_MAX_CHARS = 1_000_000

_BASE_SETTINGS: dict[str, Any] = {
    "builder": {"thumbnail": {"enabled": False}},
    "verify": {"remote_manifest_fetch": False},
}


def _error(exc: c2pa.C2paError) -> AdapterError:
    """Map a library error to the adapter's clean error types."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, c2pa.C2paError.NotSupported):
        return Unsupported(message)
    return AdapterError(message)


def _context(settings: dict[str, Any], signer: c2pa.Signer | None = None) -> c2pa.Context:
    return c2pa.Context(settings=c2pa.Settings.from_dict(settings), signer=signer)


class C2paPythonAdapter(Adapter):
    """Signs with ``Builder`` and reads with ``Reader``, each call with its own Context."""

    def health(self) -> None:
        try:
            c2pa.sdk_version()
        except Exception as exc:  # noqa: BLE001 - the native library failed to load
            raise AdapterError(f"c2pa native library unusable: {exc}") from exc

    # ------------------------------------------------------------------ sign

    def provenance_sign(self, asset: Asset, params: dict[str, Any]) -> Asset:
        """Embed a manifest signed with the harness's test credentials."""
        if asset.media_type not in SIGN_TYPES:
            raise Unsupported(f"c2pa-python adapter does not sign {asset.media_type}")
        credentials = params["signer"]
        if credentials.get("alg") != "es256":
            raise Unsupported(f"signing algorithm {credentials.get('alg')!r}")
        manifest = manifest_definition(params, created=True)
        try:
            signer = c2pa.Signer.from_info(
                c2pa.C2paSignerInfo(
                    "es256",
                    credentials["cert_chain_pem"].encode("utf-8"),
                    credentials["private_key_pem"].encode("utf-8"),
                    None,  # no timestamp authority: offline
                )
            )
            with _context(_BASE_SETTINGS, signer) as context, c2pa.Builder(manifest, context=context) as builder:
                output = io.BytesIO()
                builder.sign(asset.media_type, io.BytesIO(asset.data), output)
        except c2pa.C2paError as exc:
            raise _error(exc) from exc
        return Asset(output.getvalue(), asset.media_type, asset.name)

    # ------------------------------------------------------------------ read

    def provenance_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        """Validate and report the manifest store as the normalised provenance report."""
        settings = json.loads(json.dumps(_BASE_SETTINGS))
        anchors = params.get("trust_anchors_pem")
        if anchors:
            settings["trust"] = {"trust_anchors": anchors}
        try:
            with _context(settings) as context:
                try:
                    reader = c2pa.Reader(asset.media_type, io.BytesIO(asset.data), context=context)
                except c2pa.C2paError.ManifestNotFound:
                    return empty_provenance_report()
                with reader:
                    return _report(reader)
        except c2pa.C2paError as exc:
            raise _error(exc) from exc



def _codes(bucket: Any) -> list[str]:
    if not isinstance(bucket, list):
        return []
    return [str(entry.get("code")) for entry in bucket if isinstance(entry, dict) and entry.get("code")]


def _report(reader: c2pa.Reader) -> dict[str, Any]:
    notes: list[str] = []
    state = reader.get_validation_state()
    results = reader.get_validation_results() or {}
    active = results.get("activeManifest") or {}
    codes = {key: _codes(active.get(key)) for key in ("success", "informational", "failure")}
    deltas = [
        {
            "uri": str(delta.get("ingredientAssertionURI", "")),
            **{key: _codes((delta.get("validationDeltas") or {}).get(key)) for key in ("success", "informational", "failure")},
        }
        for delta in results.get("ingredientDeltas") or []
        if isinstance(delta, dict)
    ]
    try:
        manifest = reader.get_active_manifest()
    except KeyError:  # the store has no (readable) active manifest; the state still stands
        manifest = None
    report = empty_provenance_report()
    report.update(
        manifest_present=True,
        validation_state=state if state in ("Invalid", "Valid", "Trusted") else None,
        codes=codes,
        ingredient_deltas=deltas,
        active_manifest=summarise_manifest_json(manifest, notes, _store_labels(reader)) if manifest else None,
        crjson=_crjson(reader, notes),
    )
    if state not in ("Invalid", "Valid", "Trusted"):
        notes.append(f"unexpected validation state {state!r}")
    if manifest is None:
        notes.append("manifest store present but no active manifest")
    if notes:
        report["notes"] = [note[:10000] for note in notes[:100]]
    return report


def _store_labels(reader: c2pa.Reader) -> list[str] | None:
    """Labels of every assertion in the active manifest's store, hard bindings included.

    ``Reader.json()`` hides hard bindings, thumbnails and ingredients and renames v1
    actions to ``c2pa.actions.v2``; ``detailed_json()`` keeps the stored labels.
    """
    try:
        detailed = json.loads(reader.detailed_json())
        store = detailed["manifests"][detailed["active_manifest"]]["assertion_store"]
    except (c2pa.C2paError, KeyError, TypeError, ValueError):
        return None
    return sorted(store) if isinstance(store, dict) else None


def _crjson(reader: c2pa.Reader, notes: list[str]) -> dict[str, Any] | None:
    try:
        text = reader.crjson()
    except (c2pa.C2paError, AttributeError) as exc:
        notes.append(f"crJSON unavailable: {exc}")
        return None
    if len(text) > CRJSON_MAX_CHARS:
        notes.append(f"crJSON left out: {len(text)} characters")
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        notes.append(f"crJSON is not JSON: {exc}")
        return None
    return value if isinstance(value, dict) else None




