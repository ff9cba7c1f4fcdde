"""encypher-c2pa 1.7.1 (Encypher), a verification-only C2PA 2.2-2.5 and CAWG SDK with its
own Rust core (it shares no code with c2pa-rs), as an in-process validating reader.

It runs offline (``online=False`` on every call) with failure telemetry off: the
environment switch is set before the native module loads, and no per-call ``telemetry``
value is passed, because the SDK saves such a value in the user's configuration folder.
"""

from __future__ import annotations

import os
import re
from typing import Any

# Before the import: the native module reads the switch when it loads.
os.environ["ENCYPHER_C2PA_TELEMETRY"] = "off"
os.environ["ENCYPHER_C2PA_ONLINE"] = "off"

import encypher_c2pa  # noqa: E402 - the telemetry switch must be set first
from aiii_kit import Adapter, AdapterError, Asset, Unsupported  # noqa: E402
from aiii_kit.c2pa import empty_provenance_report, summarise_ingredient, summarise_manifest_json  # noqa: E402

STATES = ("Invalid", "Valid", "Trusted")
_INGREDIENT = re.compile(r"^c2pa\.ingredient(\.v2|\.v3)?(__\d+)?$")


class EncypherC2paAdapter(Adapter):
    """``encypher_c2pa.verify`` on the asset's bytes, its report normalised."""

    def health(self) -> None:
        try:
            encypher_c2pa.supported_mime_types()
        except Exception as exc:  # noqa: BLE001 - the native library failed to load
            raise AdapterError(f"encypher-c2pa native library unusable: {exc}") from exc

    def provenance_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        """Verify the embedded manifest store; the given anchors extend the bundled trust lists."""
        if asset.media_type not in encypher_c2pa.supported_mime_types():
            raise Unsupported(f"encypher-c2pa does not read {asset.media_type}")
        try:
            report = encypher_c2pa.verify(bytes(asset.data), asset.media_type, online=False,
                                          trust_pem=params.get("trust_anchors_pem") or None)
        except (ValueError, TypeError, OSError, RuntimeError) as exc:
            raise AdapterError(f"encypher-c2pa: {exc}") from exc
        return normalised(dict(report))


def _codes(entries: Any) -> list[str]:
    if not isinstance(entries, list):
        return []
    return [str(e["code"]) for e in entries if isinstance(e, dict) and e.get("code")]


def normalised(report: dict[str, Any]) -> dict[str, Any]:
    """encypher-c2pa's report (schema 1.0) as the harness's provenance report."""
    if not report.get("present"):
        return empty_provenance_report()
    notes: list[str] = []
    results = report.get("validation_results") or {}
    store = report.get("manifest_report") or {}
    deltas = [
        {"uri": str(delta.get("ingredientAssertionURI", "")),
         **{key: _codes((delta.get("validationDeltas") or {}).get(key)) for key in ("success", "informational", "failure")}}
        for delta in (store.get("validation_results") or {}).get("ingredientDeltas") or []
        if isinstance(delta, dict)
    ]
    state = report.get("validation_state")
    if state not in STATES:
        notes.append(f"validation_state {state!r} not reported")
        state = None
    label = store.get("active_manifest")
    manifest = (store.get("manifests") or {}).get(label) if isinstance(label, str) else None
    out = empty_provenance_report()
    out.update(
        manifest_present=True,
        validation_state=state,
        codes={key: _codes(results.get(key)) for key in ("success", "informational", "failure")},
        ingredient_deltas=deltas,
        active_manifest=_summary(label, manifest, notes) if isinstance(manifest, dict) else None,
    )
    digest = store.get("manifest_store_sha256")
    if isinstance(digest, str) and re.fullmatch("[0-9a-f]{64}", digest):  # the report gives no size
        out["manifest_store"] = {"sha256": digest}
    if not isinstance(manifest, dict):
        notes.append("manifest store present but no active manifest in the report")
    if notes:
        out["notes"] = [note[:10000] for note in notes[:100]]
    return out


def _summary(label: str, manifest: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    """The active manifest: its report has the assertions as stored (hard binding included,
    thumbnails left out) and ``signature_info.common_name``; ingredients are read from the
    ingredient assertions, as the report lists none apart."""
    summary = summarise_manifest_json({**manifest, "label": label}, notes)
    ingredients = [a.get("data") for a in manifest.get("assertions") or []
                   if isinstance(a, dict) and _INGREDIENT.match(str(a.get("label", "")))]
    summary["ingredients"] = [summarise_ingredient(d) for d in ingredients if isinstance(d, dict)]
    summary["ingredients_count"] = len(ingredients)
    return summary
