"""Normalising C2PA manifest content, the same way in every provenance reader.

Every provenance reader reports actions, training-mining entries and soft bindings in
the same normalised shape; these helpers keep the readers' answers comparable.
Standard library only.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiii_kit._core import AdapterError, Asset, Unsupported
from aiii_kit.vocab import TRAINING_MINING_KEYS, TRAINING_MINING_USES


def normalise_actions(actions: Any, notes: list[str]) -> list[dict[str, Any]]:
    """``c2pa.actions`` entries as ``{action, digital_source_type}``."""
    found = []
    for action in actions if isinstance(actions, list) else []:
        if not isinstance(action, dict) or not isinstance(action.get("action"), str):
            notes.append("an action without an action name was skipped")
            continue
        source = action.get("digitalSourceType")
        found.append({"action": action["action"], "digital_source_type": source if isinstance(source, str) else None})
    return found


def add_training_mining(label: str, entries: Any, into: dict[str, dict[str, Any]], notes: list[str]) -> None:
    """Add the entries of a ``c2pa.training-mining`` or ``cawg.training-mining`` assertion.

    Keys lose their ``c2pa.``/``cawg.`` prefix; ``constraints_info`` (a spelling some
    prose uses) is read as ``constraint_info``.  When both labels give one key different
    values, the CAWG assertion (the current one) wins and a note says so.
    """
    if not isinstance(entries, dict):
        notes.append(f"{label}: no entries map")
        return
    for key, value in entries.items():
        name = str(key).split(".", 1)[1] if "." in str(key) else str(key)
        if name not in TRAINING_MINING_KEYS or not isinstance(value, dict) or value.get("use") not in TRAINING_MINING_USES:
            notes.append(f"{label}: entry {key!r} not understood")
            continue
        info = value.get("constraint_info", value.get("constraints_info"))
        if info is not None and not isinstance(info, str):
            info = json.dumps(info, sort_keys=True)
        entry = {"use": value["use"], "constraint_info": info}
        if name in into and into[name] != entry:
            notes.append(f"{label}: {name} conflicts with another training-mining assertion")
            if not label.startswith("cawg."):
                continue
        into[name] = entry


def normalise_soft_bindings(alg: Any, blocks: Any) -> list[dict[str, Any]]:
    """A ``c2pa.soft-binding`` assertion as one ``{alg, value}`` per block.

    A text value is kept as it is; a byte value (a CBOR byte string, which the SDKs'
    JSON shows as an array of byte values) becomes ``bytes:<hex>``.
    """
    if not isinstance(alg, str):
        return []
    found = [b for b in blocks if isinstance(b, dict)] if isinstance(blocks, list) else []
    if not found:
        return [{"alg": alg, "value": None}]
    return [{"alg": alg, "value": _block_value(b.get("value"))} for b in found]


def _block_value(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(isinstance(v, int) and 0 <= v < 256 for v in value):
        return "bytes:" + bytes(value).hex()
    return None


_INSTANCE = r"(__\d+)?$"
_ACTIONS_LABEL = re.compile(r"^c2pa\.actions(\.v2)?" + _INSTANCE)
_TRAINING_LABEL = re.compile(r"^(c2pa|cawg)\.training-mining" + _INSTANCE)
_SOFT_BINDING_LABEL = re.compile(r"^c2pa\.soft-binding" + _INSTANCE)


def empty_provenance_report(validates: bool = True) -> dict[str, Any]:
    """A ``provenance.read`` answer for an asset without a manifest."""
    return {
        "manifest_present": False,
        "validates": validates,
        "validation_state": None,
        "codes": {"success": [], "informational": [], "failure": []},
        "ingredient_deltas": [],
        "active_manifest": None,
        "crjson": None,
    }


def claim_generator_of(manifest: dict[str, Any]) -> str | None:
    """The v1 ``claim_generator`` string, else the first ``claim_generator_info`` as name[/version]."""
    generator = manifest.get("claim_generator")
    if isinstance(generator, str) and generator:
        return generator
    infos = manifest.get("claim_generator_info")
    info = infos[0] if isinstance(infos, list) and infos else infos
    if not isinstance(info, dict) or not isinstance(info.get("name"), str):
        return None
    version = info.get("version")
    return f"{info['name']}/{version}" if isinstance(version, str) and version else str(info["name"])


def summarise_manifest_json(manifest: dict[str, Any], notes: list[str],
                            assertion_labels: list[str] | None = None) -> dict[str, Any]:
    """The normalised ``active_manifest`` of a manifest in the C2PA SDKs' manifest-store JSON.

    ``assertion_labels``: the labels as stored, when the reader knows them better than
    the JSON (which hides hard bindings); otherwise they are taken from the JSON.
    """
    assertions = [a for a in manifest.get("assertions") or [] if isinstance(a, dict)]
    actions: list[dict[str, Any]] = []
    training: dict[str, dict[str, Any]] = {}
    soft_bindings: list[dict[str, Any]] = []
    for item in assertions:
        label, data = str(item.get("label", "")), item.get("data")
        if not isinstance(data, dict):
            continue
        if _ACTIONS_LABEL.match(label):
            actions.extend(normalise_actions(data.get("actions"), notes))
        elif _TRAINING_LABEL.match(label):
            add_training_mining(label, data.get("entries"), training, notes)
        elif _SOFT_BINDING_LABEL.match(label):
            soft_bindings.extend(normalise_soft_bindings(data.get("alg"), data.get("blocks")))
    title, manifest_label = manifest.get("title"), manifest.get("label")
    ingredients = manifest.get("ingredients")
    summary: dict[str, Any] = {
        "label": manifest_label if isinstance(manifest_label, str) else None,
        "title": title if isinstance(title, str) else None,
        "claim_generator": claim_generator_of(manifest),
        "actions": actions,
        "training_mining": training,
        "soft_bindings": soft_bindings,
        "ingredients_count": len(ingredients) if isinstance(ingredients, list) else 0,
        "assertion_labels": assertion_labels if assertion_labels is not None
        else sorted({str(a.get("label")) for a in assertions}),
        "ingredients": [summarise_ingredient(i) for i in ingredients if isinstance(i, dict)]
        if isinstance(ingredients, list) else [],
    }
    signature = manifest.get("signature_info")
    if isinstance(signature, dict) and "common_name" in signature:  # older SDKs give only the issuer
        summary["signer"] = {"common_name": _text(signature.get("common_name"))}
    return summary


def summarise_ingredient(ingredient: dict[str, Any]) -> dict[str, Any]:
    """An ingredient as ``{title, relationship}``, from the SDKs' JSON (``title``) or an
    ingredient assertion as stored (``dc:title``)."""
    return {"title": _text(ingredient.get("title", ingredient.get("dc:title"))),
            "relationship": _text(ingredient.get("relationship"))}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def manifest_definition(params: dict[str, Any], created: bool = False) -> dict[str, Any]:
    """The C2PA SDKs' manifest definition for ``provenance.sign`` params.

    The claim generator string goes into ``claim_generator_info.name`` unchanged (claim
    v2 has no free-text claim_generator; v1 SDKs write that name as the string).
    ``created``: mark the assertions as created by this claim (current SDKs otherwise
    file actions under gathered assertions).
    """
    mark = {"created": True} if created else {}
    actions = []
    for item in params["actions"]:
        action: dict[str, Any] = {"action": item["action"]}
        if item.get("digital_source_type"):
            action["digitalSourceType"] = item["digital_source_type"]
        actions.append(action)
    assertions: list[dict[str, Any]] = []
    if actions:
        assertions.append({"label": "c2pa.actions", "data": {"actions": actions}, **mark})
    training = params.get("training_mining")
    if training:
        label = params.get("training_mining_label", "cawg.training-mining")
        prefix = label.split(".", 1)[0]
        entries: dict[str, Any] = {}
        for key, value in training.items():
            entry: dict[str, Any] = {"use": value["use"]}
            if value.get("constraint_info") is not None:
                entry["constraint_info"] = value["constraint_info"]
            entries[f"{prefix}.{key}"] = entry
        assertions.append({"label": label, "data": {"entries": entries}, **mark})
    for binding in params.get("soft_bindings") or []:
        # The block value as a list of byte values, the form c2pa-rs' manifest definition takes
        # (releases with c2pa-rs PR 2757 store it as a CBOR byte string, older ones as an array).
        data: dict[str, Any] = {"alg": binding["alg"], "blocks": [{"scope": {}, "value": list(bytes.fromhex(binding["value_hex"]))}]}
        if binding.get("binding_metadata"):
            data["bindingMetadata"] = binding["binding_metadata"]
        assertions.append({"label": "c2pa.soft-binding", "data": data, **mark})
    return {"claim_generator_info": [{"name": params["claim_generator"]}], "title": params["title"], "assertions": assertions}


def manifest_text(asset: Asset, vendor: str) -> str:
    """A ``text/plain`` asset's text, for C2PA in text (Annex A.8): UTF-8, a leading U+FEFF
    kept as part of the text.  Another media type is :class:`~aiii_kit.Unsupported`; bytes
    that are not UTF-8 are an :class:`~aiii_kit.AdapterError`, both naming ``vendor``."""
    if asset.media_type != "text/plain":
        raise Unsupported(f"{vendor} marks and reads only text/plain here, not {asset.media_type}")
    try:
        return asset.data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AdapterError(f"{vendor}: the text is not UTF-8: {exc}") from exc
