"""Exiv2 command-line adapter: XMP write/read through Debian's ``exiv2`` tool (0.27.6).

Runs ``exiv2`` (installed in the docker placement's base image) on a scratch file in
``$TMPDIR``, with a deadline per command.  Writes go through ``-M "set KEY TYPE VALUE"``
with the value quoted (so leading and trailing spaces survive); reads list the XMP
keys (``-PXk``) and print each canonical key's item count and value (``-K KEY -Pcv``).
The identifier fields are ``<SCHEME>:<value>`` items of the ``Xmp.xmp.Identifier`` bag.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from typing import Any

from aiii_kit import Adapter, AdapterError, Asset, Unsupported
from aiii_kit.metadata import IDENTIFIER_FIELDS, identifier_bag, identifier_from_bag

#: Canonical field -> (Exiv2 XMP key, Exiv2 value type).
XMP_KEYS: dict[str, tuple[str, str]] = {
    "digital_source_type": ("Xmp.iptcExt.DigitalSourceType", "XmpText"),
    "data_mining": ("Xmp.plus.DataMining", "XmpText"),
    "creator": ("Xmp.dc.creator", "XmpSeq"),
    "copyright_notice": ("Xmp.dc.rights", "LangAlt"),
    "web_statement": ("Xmp.xmpRights.WebStatement", "XmpText"),
    "title": ("Xmp.dc.title", "LangAlt"),
    "description": ("Xmp.dc.description", "LangAlt"),
}
#: The identifier fields (iscc, isrc, iswc) are items of this rdf:Bag.
IDENTIFIER_KEY = "Xmp.xmp.Identifier"
MEDIA_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/tiff"})
X_DEFAULT = 'lang="x-default" '
LANG_ITEM = re.compile(r'(?:^|, )lang="([^"]*)" ')


class Exiv2CliAdapter(Adapter):
    """The ``exiv2`` program, one process per command; calls may run in parallel."""

    _version: str | None = None

    @property
    def _timeout(self) -> float:
        return float(self.config.get("command_timeout_s", 20))

    def _exiv2(self, *args: str) -> tuple[int, str, str]:
        tool = shutil.which("exiv2")
        if tool is None:
            raise AdapterError("the exiv2 program is not installed (Debian package exiv2)")
        try:
            proc = subprocess.run([tool, *args], capture_output=True, timeout=self._timeout,
                                  env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"})
        except subprocess.TimeoutExpired:
            raise AdapterError(f"exiv2 {args[0]} did not finish within {self._timeout:.0f} s") from None
        return proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")

    def implementation_version(self) -> str | None:
        if self._version is None:
            status, out, err = self._exiv2("--version")
            match = re.match(r"exiv2 (\S+)", out)
            if status != 0 or not match:
                raise AdapterError(f"exiv2 --version failed: {err.strip()[:200]}")
            self._version = match.group(1)
        return self._version

    def health(self) -> None:
        self.implementation_version()

    def _scratch(self, asset: Asset) -> str:
        if asset.media_type not in MEDIA_TYPES:
            raise Unsupported(f"no XMP support for {asset.media_type} in this adapter")
        fd, path = tempfile.mkstemp(prefix="exiv2-", suffix=asset.suffix)
        with os.fdopen(fd, "wb") as handle:
            handle.write(asset.data)
        _status, out, err = self._exiv2("-ps", path)  # exits 253 when there is no Exif: not an error here
        found = re.search(r"^MIME type\s*:\s*(\S+)", out, re.MULTILINE)
        if not found or found.group(1) != asset.media_type:
            os.unlink(path)
            seen = found.group(1) if found else _clean(err, path) or "nothing"
            raise AdapterError(f"Exiv2 sees {seen!r}, not {asset.media_type!r}")
        return path

    def metadata_write(self, asset: Asset, params: dict[str, Any]) -> Asset:
        """Set the given fields in the XMP packet with ``exiv2 -M``; other metadata is left alone."""
        commands = []
        identifiers = {name: value for name, value in params["fields"].items() if name in IDENTIFIER_FIELDS}
        for name, value in params["fields"].items():
            if name in identifiers:
                if "\0" in value:
                    raise AdapterError(f"{name}: a NUL character cannot be passed to exiv2 on its command line")
                continue
            if name not in XMP_KEYS:
                raise Unsupported(f"unknown field {name!r}")
            key, kind = XMP_KEYS[name]
            if "\0" in value:
                raise AdapterError(f"{key}: a NUL character cannot be passed to exiv2 on its command line")
            if kind == "XmpText" and len(value) > 5 and value.startswith("type="):
                raise AdapterError(f"{key}: Exiv2 reads a value starting with 'type=' as a type qualifier")
            if kind != "XmpText" and not value:
                raise AdapterError(f"{key}: exiv2 -M writes no item for an empty {kind} value")
            if kind == "XmpSeq":
                # "set" on an existing array adds an item, so an old creator would stay first.
                commands += ["-M", f"del {key}"]
            text = f"lang=x-default {value}" if kind == "LangAlt" else value
            commands += ["-M", f'set {key} {kind} "{text}"']  # exiv2 strips one pair of outer quotes
        path = self._scratch(asset)
        try:
            if identifiers:
                commands += self._identifier_commands(path, identifiers)
            status, _out, err = self._exiv2(*commands, path)
            errors = [line for line in err.splitlines() if line.startswith(("Error", "Exiv2 exception"))]
            if status != 0 or errors:
                raise AdapterError(f"exiv2 could not write: {_clean(err, path)[:500]}")
            with open(path, "rb") as handle:
                data = handle.read()
        finally:
            os.unlink(path)
        return Asset(data=data, media_type=asset.media_type, name=asset.name)

    def _identifier_commands(self, path: str, identifiers: dict[str, str]) -> list[str]:
        """Commands that rebuild the ``xmp:Identifier`` bag: the file's items of other schemes,
        kept in order, then one item per identifier written."""
        status, out, err = self._exiv2("-PXk", path)
        if status != 0:
            raise AdapterError(f"exiv2 could not read: {_clean(err, path)[:500]}")
        notes: list[str] = []
        existing = self._bag_items(path, IDENTIFIER_KEY, notes) if IDENTIFIER_KEY in out.split() else []
        if notes:
            raise AdapterError(f"the file's own identifier items cannot be kept: {notes[0]}")
        items = identifier_bag(existing, identifiers)
        # "set" on an existing XmpBag adds an item (the first one here creates the bag).
        commands = ["-M", f"del {IDENTIFIER_KEY}"]
        for item in items:
            commands += ["-M", f'set {IDENTIFIER_KEY} XmpBag "{item}"']
        return commands

    def _bag_items(self, path: str, key: str, notes: list[str]) -> list[str]:
        """The items of an array property the file has; exiv2 prints them joined by ', ', so
        an item that holds ', ' itself makes the split ambiguous (a note says so)."""
        status, out, err = self._exiv2("-K", key, "-Pcv", path)
        match = re.match(r" *(\d+)  (.*)\Z", out.removesuffix("\n"), re.DOTALL)
        if status != 0 or not match:
            notes.append(f"{key}: exiv2 printed no value ({_clean(err, path)[:200]})")
            return []
        count, text = int(match.group(1)), match.group(2)
        if count <= 1:
            return [text] if count else []
        items = text.split(", ")
        if len(items) != count:
            notes.append(f"{key}: {count} items, but the printed value splits into {len(items)} at ', '")
        return items

    def metadata_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        """The canonical fields Exiv2 finds in the XMP packet."""
        path = self._scratch(asset)
        fields: dict[str, str] = {}
        notes: list[str] = []
        try:
            status, out, err = self._exiv2("-PXk", path)
            if status != 0:
                raise AdapterError(f"exiv2 could not read: {_clean(err, path)[:500]}")
            present = set(out.split())
            for name, (key, kind) in XMP_KEYS.items():
                if key not in present:
                    continue
                status, out, err = self._exiv2("-K", key, "-Pcv", path)
                match = re.match(r" *(\d+)  (.*)\Z", out.removesuffix("\n"), re.DOTALL)
                if status != 0 or not match:
                    notes.append(f"{key}: exiv2 printed no value ({_clean(err, path)[:200]})")
                    continue
                value = _item(key, kind, int(match.group(1)), match.group(2), notes)
                if value is not None:
                    fields[name] = value
            if IDENTIFIER_KEY in present:
                fields.update(identifier_from_bag(self._bag_items(path, IDENTIFIER_KEY, notes)))
        finally:
            os.unlink(path)
        answer: dict[str, Any] = {"fields": fields}
        if notes:
            answer["notes"] = notes[:100]
        return answer


def _item(key: str, kind: str, count: int, text: str, notes: list[str]) -> str | None:
    """The canonical value from exiv2's printed value of a key."""
    if kind == "LangAlt" and count <= 1:
        if text.startswith(X_DEFAULT):
            return text[len(X_DEFAULT):]
        notes.append(f"{key} has no x-default item")
        return None
    if kind == "LangAlt":
        items = list(LANG_ITEM.finditer(text))
        if len(items) != count:
            notes.append(f"{key}: {count} languages, but the printed value does not split into them")
        for i, item in enumerate(items):
            if item.group(1) == "x-default":
                end = items[i + 1].start() if i + 1 < len(items) else len(text)
                return text[item.end():end]
        notes.append(f"{key} has no x-default item")
        return None
    if kind == "XmpSeq":
        if count == 0:
            return None
        if count > 1:
            notes.append(f"{key}: {count} items, printed joined by ', '; the first is taken up to the first ', '")
            return text.split(", ", 1)[0]
    return text


def _clean(text: str, path: str) -> str:
    return " ".join(text.replace(path, "<input>").split())


