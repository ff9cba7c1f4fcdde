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
import json
import re
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
    # Identifiers carried in metadata (mapping per format in IDENTIFIER_FIELDS' comment)
    "iscc",
    "isrc",
    "iswc",
)

#: The identifier fields of METADATA_FIELDS.  Where they go:
#: XMP (images): one ``xmp:Identifier`` bag item each, written as ``<SCHEME>:<value>``
#: with the scheme upper-case (``ISCC:...`` is already an ISCC's canonical form, so the
#: ISCC item is the code itself; ``ISRC:USRC17607839``, ``ISWC:T-034.524.680-1``);
#: ID3 (MP3, WAV): ``TSRC`` for the ISRC, ``TXXX:ISCC`` and ``TXXX:ISWC``;
#: Vorbis comments (FLAC): ``ISRC``, ``ISCC``, ``ISWC``.
IDENTIFIER_FIELDS: tuple[str, ...] = ("iscc", "isrc", "iswc")


def identifier_bag_item(field_name: str, value: str) -> str:
    """The ``xmp:Identifier`` bag item of an identifier field."""
    if field_name == "iscc" and value.upper().startswith("ISCC:"):
        return value
    return f"{field_name.upper()}:{value}"


def identifier_scheme(item: str) -> str | None:
    """The lower-case scheme of an ``xmp:Identifier`` item (``ISRC:...`` -> ``isrc``), if any."""
    scheme, sep, _rest = item.partition(":")
    return scheme.strip().lower() if sep else None


def identifier_from_bag(items: list[str]) -> dict[str, str]:
    """Identifier fields found among ``xmp:Identifier`` bag items (the first of each scheme)."""
    found: dict[str, str] = {}
    for item in items:
        name = identifier_scheme(item)
        if name is None or name not in IDENTIFIER_FIELDS or name in found:
            continue
        found[name] = item.strip() if name == "iscc" else item.partition(":")[2]
    return found


def identifier_bag(existing: list[str], identifiers: dict[str, str]) -> list[str]:
    """The new ``xmp:Identifier`` bag: the existing items of other schemes, kept in order,
    then one item per identifier written.  An empty identifier has no item: refused."""
    for name, value in identifiers.items():
        if not value:
            raise AdapterError(f"{name}: an empty identifier has no xmp:Identifier item")
    items = [item for item in existing if identifier_scheme(item) not in identifiers]
    return items + [identifier_bag_item(name, value) for name, value in identifiers.items()]

#: Operation ids and whether they produce an asset (producer) or a report (consumer).
OPERATIONS: dict[str, str] = {
    "metadata.write": "asset",
    "metadata.read": "report",
    "provenance.sign": "asset",
    "provenance.read": "report",
    "identifier.generate": "report",
    "identifier.validate": "report",
    "identifier.compare": "report",
    "watermark.embed": "asset",
    "watermark.detect": "report",
    "optout.declare": "report",
    "optout.evaluate": "report",
}

#: Operations whose whole input is in ``params``: their asset is this empty one.
PARAMS_ONLY: frozenset[str] = frozenset({"identifier.validate", "identifier.compare", "optout.declare"})
NO_MEDIA_TYPE = "application/octet-stream"

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
    "application/json": ".json",
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


# -- normalising C2PA manifest content ------------------------------------------------
# Every provenance reader reports actions, training-mining entries and soft bindings in
# the same normalised shape; these helpers keep the readers' answers comparable.

TRAINING_MINING_KEYS: tuple[str, ...] = ("ai_training", "ai_generative_training", "ai_inference", "data_mining")
TRAINING_MINING_USES: tuple[str, ...] = ("allowed", "notAllowed", "constrained")


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
    return {
        "label": manifest_label if isinstance(manifest_label, str) else None,
        "title": title if isinstance(title, str) else None,
        "claim_generator": claim_generator_of(manifest),
        "actions": actions,
        "training_mining": training,
        "soft_bindings": soft_bindings,
        "ingredients_count": len(ingredients) if isinstance(ingredients, list) else 0,
        "assertion_labels": assertion_labels if assertion_labels is not None
        else sorted({str(a.get("label")) for a in assertions}),
    }


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


# -- ISCC (ISO 24138) ------------------------------------------------------------------
# ISCC implementations share the reference API (``gen_meta_code_v0``, ...); these helpers
# drive any module with that API, so two implementations see identical inputs and only
# their algorithms are compared.  Media preprocessing happens here, once, for all of them.

ISCC_UNITS: tuple[str, ...] = ("meta", "content", "data", "instance", "iscc_code")
#: In function mode, an ``args`` item that stands for the asset: as a stream or as bytes.
ASSET_AS_STREAM = "$asset:stream"
ASSET_AS_BYTES = "$asset:bytes"


def iscc_image_pixels(data: bytes) -> list[int]:
    """32x32 grey pixels of an image, as ISO 24138's Image-Code takes them.

    EXIF orientation applied, transparency flattened onto white, converted to 8-bit grey,
    resized with bicubic resampling.  (Unlike iscc-sdk, uniform borders are not trimmed.)
    """
    import io

    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as opened:
        img = ImageOps.exif_transpose(opened)
        if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
            rgba = img.convert("RGBA")
            background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            img = Image.alpha_composite(background, rgba)
        grey = img.convert("L").resize((32, 32), Image.Resampling.BICUBIC)
        return list(grey.tobytes())


def chromaprint_vector(data: bytes, suffix: str, fpcalc: str = "fpcalc", timeout_s: float = 120) -> list[int]:
    """The raw, signed Chromaprint vector of a whole audio file (``fpcalc -raw -json -signed -length 0``).

    fpcalc 1.5.1 exits 3 after a successful run that reached the end of the input; the
    JSON on stdout decides.  Raises :class:`Unsupported` when fpcalc is not installed.
    """
    import os
    import shutil
    import subprocess
    import tempfile

    exe = shutil.which(fpcalc)
    if exe is None:
        raise Unsupported(f"audio content codes need Chromaprint's {fpcalc} (Debian: libchromaprint-tools), not found")
    fd, path = tempfile.mkstemp(suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        proc = subprocess.run([exe, "-raw", "-json", "-signed", "-length", "0", path],
                              capture_output=True, timeout=timeout_s, check=False)
    finally:
        os.unlink(path)
    try:
        doc = json.loads(proc.stdout.decode("utf-8", "replace"))
        vector = doc["fingerprint"]
    except (ValueError, KeyError, TypeError):
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise AdapterError(f"fpcalc exited {proc.returncode} without a fingerprint: {err[-1] if err else 'no output'}") from None
    if not isinstance(vector, list) or not all(isinstance(v, int) for v in vector):
        raise AdapterError("fpcalc's fingerprint is not a list of integers")
    return vector


def iscc_generate(impl: Any, asset: Asset, params: dict[str, Any], fpcalc: str = "fpcalc") -> dict[str, Any]:
    """An ``identifier.generate`` answer from a module with the ISCC reference API."""
    import io

    if params.get("function"):
        return iscc_function(impl, asset, params)
    bits = int(params.get("bits", 64))
    wanted = params.get("units") or list(ISCC_UNITS)
    codes: dict[str, str] = {}
    not_made: dict[str, str] = {}
    kind: str | None = None
    meta = params.get("meta")
    if "meta" in wanted or "iscc_code" in wanted:
        if meta:
            codes["meta"] = str(impl.gen_meta_code_v0(meta["name"], meta.get("description") or "", bits=bits)["iscc"])
        else:
            not_made["meta"] = "no metadata given"
    if "content" in wanted or "iscc_code" in wanted:
        major = asset.media_type.split("/", 1)[0]
        try:
            if major == "image":
                kind = "image"
                codes["content"] = str(impl.gen_image_code_v0(iscc_image_pixels(asset.data), bits=bits)["iscc"])
            elif major == "audio":
                kind = "audio"
                vector = chromaprint_vector(asset.data, MEDIA_SUFFIX.get(asset.media_type, ".bin"), fpcalc)
                codes["content"] = str(impl.gen_audio_code_v0(vector, bits=bits)["iscc"])
            elif asset.media_type == "text/plain":
                kind = "text"
                codes["content"] = str(impl.gen_text_code_v0(asset.data.decode("utf-8"), bits=bits)["iscc"])
            else:
                not_made["content"] = f"no content code for {asset.media_type}"
        except Unsupported as exc:
            not_made["content"] = str(exc)
        except (OSError, ValueError) as exc:
            raise AdapterError(f"cannot decode the {asset.media_type} asset: {exc}") from exc
    if "data" in wanted or "iscc_code" in wanted:
        codes["data"] = str(impl.gen_data_code_v0(io.BytesIO(asset.data), bits=bits)["iscc"])
    if "instance" in wanted or "iscc_code" in wanted:
        codes["instance"] = str(impl.gen_instance_code_v0(io.BytesIO(asset.data), bits=bits)["iscc"])
    if "iscc_code" in wanted:
        parts = [codes[u] for u in ("meta", "content", "data", "instance") if u in codes]
        codes["iscc_code"] = str(impl.gen_iscc_code_v0(parts)["iscc"])
    codes = {u: c for u, c in codes.items() if u in wanted}
    return {"scheme": "iscc", "codes": codes, "content_kind": kind,
            "not_made": {u: why for u, why in not_made.items() if u in wanted}}


def iscc_function(impl: Any, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
    """Function mode: one ISO 24138 function called with the conformance data's inputs."""
    import io

    name = str(params["function"])
    fn = getattr(impl, name, None)
    if fn is None:
        raise Unsupported(f"this implementation has no {name}")
    args: list[Any] = []
    for arg in params.get("args", []):
        if arg == ASSET_AS_STREAM:
            args.append(io.BytesIO(asset.data))
        elif arg == ASSET_AS_BYTES:
            args.append(asset.data)
        else:
            args.append(arg)
    try:
        result = fn(*args)
    except (TypeError, ValueError) as exc:
        raise AdapterError(f"{name} refused its inputs: {exc}") from exc
    return {"scheme": "iscc", "outputs": _jsonable(result)}


def _jsonable(value: Any) -> Any:
    """A function's result in the conformance data's JSON form (bytes as ``bytes:<hex>``)."""
    if isinstance(value, bytes | bytearray | memoryview):
        return "bytes:" + bytes(value).hex()
    if isinstance(value, dict) or hasattr(value, "keys"):
        return {str(k): _jsonable(value[k]) for k in list(value.keys())}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


# -- watermarks ------------------------------------------------------------------------
# Payloads travel as '0'/'1' strings (most significant first); keys as strings.  Libraries
# that take integer seeds or passwords get one derived from the key the same way in every
# adapter, so a vendor's embedder and detector agree across placements.


def key_seed(key: str, bits: int = 31) -> int:
    """A non-negative integer below ``2**bits`` derived from a watermark key (SHA-256)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % (1 << bits)


def payload_list(params: dict[str, Any], bits: int) -> list[int]:
    """The request's payload as a list of 0/1 ints, checked against the vendor's length."""
    payload = params.get("payload")
    if not isinstance(payload, str) or len(payload) != bits or set(payload) - {"0", "1"}:
        raise AdapterError(f"this vendor embeds exactly {bits} payload bits ('0'/'1'), got {payload!r}")
    return [int(c) for c in payload]


def bits_string(values: Any, threshold: float = 0.5) -> str:
    """Decoded bits (ints, bools or soft values in 0..1) as a '0'/'1' string."""
    return "".join("1" if float(v) >= threshold else "0" for v in values)


def require_key(params: dict[str, Any]) -> str:
    """The request's key (required by the protocol even where a mark is unkeyed)."""
    key = params.get("key")
    if not isinstance(key, str) or not key:
        raise AdapterError(f"key: a non-empty string is required, got {key!r}")
    return key


def read_samples(asset: Asset, min_seconds: float, who: str) -> tuple[Any, int]:
    """An audio asset as float64 samples (frames x channels) and its rate, through
    soundfile (imported here: the kit itself needs only the standard library); a file
    shorter than ``min_seconds`` is refused with a clear error naming ``who``."""
    import io

    import soundfile as sf

    try:
        samples, rate = sf.read(io.BytesIO(asset.data), dtype="float64", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise AdapterError(f"cannot read the {asset.media_type} asset: {exc}") from exc
    if len(samples) < min_seconds * rate:
        raise AdapterError(f"audio too short ({len(samples) / rate:.2f} s): {who} needs at least {min_seconds} s")
    return samples, int(rate)


def mono_mark_wav(samples: Any, mono: Any, marked: Any, rate: int, name: str = "") -> Asset:
    """A mark made on the mono mix, added to every channel of the original ``samples``
    (frames x channels), as 16-bit WAV: the input's rate, channels and length are kept
    (a model that returns a few samples fewer leaves the tail unmarked)."""
    import io

    import numpy as np
    import soundfile as sf

    mark = np.zeros_like(mono)
    n = min(len(mark), len(marked))
    mark[:n] = marked[:n] - mono[:n]
    out = io.BytesIO()
    sf.write(out, np.clip(samples + mark[:, None], -1.0, 32767 / 32768), rate, subtype="PCM_16", format="WAV")
    return Asset(out.getvalue(), "audio/wav", name)


def detect_report(present: bool | None = None, score: float | None = None, bits: str | None = None,
                  notes: list[str] | None = None) -> dict[str, Any]:
    """A watermark.detect answer (a NaN or infinite score becomes null, with a note)."""
    out_notes = list(notes or [])
    if score is not None:
        score = float(score)
        if score != score or score in (float("inf"), float("-inf")):
            out_notes.append(f"the detector's score was {score}: reported as null")
            score = None
    report: dict[str, Any] = {"present": present, "score": score, "bits": bits or None}
    if out_notes:
        report["notes"] = out_notes[:20]
    return report
# -- rights reservation and opt-out (optout.declare, optout.evaluate) ------------------
# One intent, {purpose: "allowed" | "denied"}, written through a channel and read back
# by evaluators.  The purposes and which of them each channel family can express are
# the harness's mapping of the channels' vocabularies (table in conformance/optout.py).

OPTOUT_PURPOSES: tuple[str, ...] = ("train-ai", "train-genai", "search", "inference", "data-mining")
OPTOUT_DECISIONS: tuple[str, ...] = ("allowed", "denied", "unknown")
#: Channel families an evaluator may be asked to consult (``channels`` of optout.evaluate).
OPTOUT_FAMILIES: tuple[str, ...] = ("tdmrep", "aipref", "robots", "plus", "c2pa")
#: The channels optout.declare writes as site artefacts, with their family.
OPTOUT_SITE_CHANNELS: dict[str, str] = {
    "tdmrep-file": "tdmrep", "tdmrep-header": "tdmrep", "tdmrep-html": "tdmrep", "tdmrep-epub2": "tdmrep",
    "tdmrep-epub3": "tdmrep", "tdmrep-pdf": "tdmrep", "aipref-header": "aipref", "aipref-robots": "aipref",
    "robots": "robots",
}
#: Which purposes each family can express; for the others the right answer is "unknown".
OPTOUT_EXPRESSES: dict[str, tuple[str, ...]] = {
    "tdmrep": ("train-ai", "train-genai", "data-mining"),  # one TDM bit for all mining
    "aipref": ("train-ai", "train-genai", "search"),  # keys train-ai (genai training is AI training) and search
    "robots": OPTOUT_PURPOSES,  # through the crawler's user agent, one agent per purpose
    "plus": ("train-ai", "train-genai", "search", "data-mining"),
    "c2pa": ("train-ai", "train-genai", "inference", "data-mining"),
}
#: TDMRep's two namespaces: PDF XMP uses the first, EPUB 3 the second.
TDMREP_NS_XMP = "http://www.w3.org/ns/tdmrep/"
TDMREP_NS_EPUB3 = "http://www.w3.org/ns/tdmrep#"
#: What a crawl keeps of a response body (robots.txt limits parsing at 500 KiB anyway).
CRAWL_MAX_BYTES = 2 * 1024 * 1024


def optout_decision(decision: str, channel: str | None = None, source: str | None = None,
                    rule: str | None = None) -> dict[str, Any]:
    """One entry of ``decisions`` in an optout.evaluate answer."""
    if decision not in OPTOUT_DECISIONS:
        raise ValueError(f"decision {decision!r} is not one of {OPTOUT_DECISIONS}")
    return {"decision": decision, "channel": channel, "source": source, "rule": rule}


def crawl(url: str, agent: str, timeout_s: float = 5.0) -> tuple[dict[str, Any], bytes]:
    """What a crawler sees for ``url``, fetched with requests as ``agent``: the origin's
    ``/robots.txt`` and ``/.well-known/tdmrep.json`` and the resource itself.

    Returns the material (the JSON form optout.evaluate also accepts inline) and the
    resource's body.  Redirects are followed up to five (RFC 9309 2.3.1.2); a failure is
    recorded as the fetch's ``error`` (``timeout``, ``too-many-redirects``,
    ``connection: ...``), never raised.
    """
    import base64
    from urllib.parse import urlsplit, urlunsplit

    import requests  # imported here: the kit itself needs only the standard library

    parts = urlsplit(url)
    origin = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    session = requests.Session()
    session.max_redirects = 5
    session.headers["User-Agent"] = agent

    def fetch(target: str) -> tuple[dict[str, Any], bytes]:
        try:
            with session.get(target, timeout=timeout_s, stream=True, allow_redirects=True) as resp:
                body = b""
                for chunk in resp.iter_content(65536):
                    body += chunk
                    if len(body) >= CRAWL_MAX_BYTES:
                        body = body[:CRAWL_MAX_BYTES]
                        break
                return {"url": resp.url, "status": resp.status_code, "headers": [[k, v] for k, v in resp.raw.headers.items()],
                        "redirects": [r.url for r in resp.history], "error": None}, body
        except requests.TooManyRedirects:
            error = "too-many-redirects"
        except requests.Timeout:
            error = "timeout"
        except requests.RequestException as exc:
            error = f"connection: {type(exc).__name__}"
        return {"url": target, "status": None, "headers": [], "redirects": [], "error": error}, b""

    robots, robots_body = fetch(origin + "/robots.txt")
    tdmrep, tdmrep_body = fetch(origin + "/.well-known/tdmrep.json")
    resource, body = fetch(url)
    robots["body_base64"] = base64.b64encode(robots_body).decode()
    tdmrep["body_base64"] = base64.b64encode(tdmrep_body).decode()
    return {"robots": robots, "tdmrep": tdmrep, "resource": resource}, body


def optout_material(asset: Asset, params: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """The material of an optout.evaluate call: inline (``params.material``, the asset is
    the resource's body) or crawled from ``params.url``."""
    if params.get("material") is not None:
        return params["material"], asset.data
    return crawl(str(params["url"]), str(params.get("agent", "*")), float(params.get("timeout_s", 5.0)))


def material_body(fetched: dict[str, Any]) -> bytes:
    """The body of a robots.txt or tdmrep.json fetch in the material."""
    import base64

    return base64.b64decode(fetched.get("body_base64") or "")


def header_values(fetched: dict[str, Any], name: str) -> list[str]:
    """Every value of one response header (case-insensitive name), in order."""
    return [str(v) for k, v in fetched.get("headers") or [] if str(k).lower() == name.lower()]


#: plus:DataMining code -> (decision for the purposes PLUS speaks to, exceptions).  PLUS
#: LDF, property Data Mining: the prohibitions name AI/ML training, generative AI/ML
#: training, and everything but search-engine indexing; the SEE... codes prohibit unless
#: another expression (constraint, embedded or linked rights) allows, which a reader of
#: this one property cannot see: read as prohibited.
PLUS_DATA_MINING: dict[str, tuple[str, dict[str, str]]] = {
    "DMI-UNSPECIFIED": ("unknown", {}),
    "DMI-ALLOWED": ("allowed", {}),
    "DMI-PROHIBITED-AIMLTRAINING": ("allowed", {"train-ai": "denied", "train-genai": "denied"}),
    "DMI-PROHIBITED-GENAIMLTRAINING": ("allowed", {"train-genai": "denied"}),
    "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING": ("denied", {"search": "allowed"}),
    "DMI-PROHIBITED": ("denied", {}),
    "DMI-PROHIBITED-SEECONSTRAINT": ("denied", {}),
    "DMI-PROHIBITED-SEEEMBEDDEDRIGHTSEXPR": ("denied", {}),
    "DMI-PROHIBITED-SEELINKEDRIGHTSEXPR": ("denied", {}),
}


def plus_decisions(value: str | None) -> dict[str, str]:
    """Per purpose, what a ``plus:DataMining`` value (vocabulary URI or bare code) says."""
    out = dict.fromkeys(OPTOUT_PURPOSES, "unknown")
    code = (value or "").strip()
    code = code[len(PLUS_VOCAB):] if code.startswith(PLUS_VOCAB) else code
    if code not in PLUS_DATA_MINING:
        return out
    default, exceptions = PLUS_DATA_MINING[code]
    for purpose in OPTOUT_EXPRESSES["plus"]:
        out[purpose] = exceptions.get(purpose, default)
    return out


#: training-mining entry (normalised key, see TRAINING_MINING_KEYS) -> purpose.
TRAINING_MINING_PURPOSES: dict[str, str] = {
    "ai_training": "train-ai", "ai_generative_training": "train-genai", "ai_inference": "inference", "data_mining": "data-mining",
}


def training_mining_decisions(entries: dict[str, Any] | None) -> dict[str, str]:
    """Per purpose, what normalised training-mining entries say: ``allowed``; ``notAllowed``
    and ``constrained`` without constraint information are denied (CAWG training and data
    mining assertion); ``constrained`` with information depends on terms a machine cannot
    read here: unknown.  A missing entry and the search purpose: unknown."""
    out = dict.fromkeys(OPTOUT_PURPOSES, "unknown")
    for key, purpose in TRAINING_MINING_PURPOSES.items():
        entry = (entries or {}).get(key)
        if not isinstance(entry, dict):
            continue
        use = entry.get("use")
        if use == "allowed":
            out[purpose] = "allowed"
        elif use == "notAllowed" or (use == "constrained" and not entry.get("constraint_info")):
            out[purpose] = "denied"
    return out


def aipref_decisions(prefs: dict[str, str | None]) -> dict[str, str]:
    """Per purpose, what parsed AI-preference keys say: ``prefs`` maps each dictionary key
    to its token value (None when the value is not a token).  ``y`` allows, ``n`` denies,
    anything else is unknown; ``train-ai`` covers generative training too (the vocabulary's
    categories nest); keys are case-sensitive."""
    out = dict.fromkeys(OPTOUT_PURPOSES, "unknown")
    meaning = {"y": "allowed", "n": "denied"}
    train = meaning.get(prefs.get("train-ai") or "", "unknown")
    out["train-ai"] = out["train-genai"] = train
    out["search"] = meaning.get(prefs.get("search") or "", "unknown")
    return out


def robots_fetch_decision(fetched: dict[str, Any]) -> str | None:
    """RFC 9309 2.3.1: what the fetch of robots.txt alone decides for every path:
    ``allowed`` (unavailable: 4xx, or more than five redirects), ``denied`` (unreachable:
    5xx, timeout, network error), or None (a file to parse)."""
    if fetched.get("error") == "too-many-redirects":
        return "allowed"
    if fetched.get("error") or fetched.get("status") is None:
        return "denied"
    status = int(fetched["status"])
    if 400 <= status < 500:
        return "allowed"
    if status >= 500:
        return "denied"
    return None
