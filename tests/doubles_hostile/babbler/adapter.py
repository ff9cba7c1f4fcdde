"""A programmable hostile metadata reader: ``[adapter.config] mode`` picks how it misbehaves.

Modes (each a finding of issue #11 the gate in runner/gate.py must absorb):

- ``surrogate-message``: refuses cleanly with a lone surrogate in the message;
- ``surrogate-crash``: crashes (a ValueError) with a lone surrogate in the message;
- ``surrogate-field``: answers a field holding a lone surrogate;
- ``surrogate-notes``: a schema-valid answer with a lone surrogate in each of its 100 notes;
- ``nan`` / ``inf``: answers a non-finite number;
- ``int-version`` / ``tuple-version``: its implementation version is an int / a tuple;
- ``huge-unsupported``: refuses as unsupported with a 5 MB message;
- ``deep``: answers a value nested 980 levels deep;
- ``echo-token``: refuses quoting the value of the environment variable ``config.env``;
- ``answer-file``: answers what the JSON file ``config.path`` says (for the fuzzer):
  ``{"answer": ..., "raise": {"kind": "adapter_error"|"unsupported"|"crash", "message": ...}}``,
  where objects ``{"$t": "tuple"|"bytes"|"set"|"bigint"|"object", "v": ...}`` in ``answer``
  become the Python values JSON cannot carry.  Its version is the file's digest, so a
  changed answer is never served from the step cache.

Only the adapter kit and the standard library: it runs in-process, in the kit's server
(process placement) and behind a TLS endpoint (http placement) alike.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

from aiii_kit import Adapter, AdapterError, Asset, Unsupported


class Opaque:
    """A value of a type JSON does not have."""

    def __repr__(self) -> str:
        return "Opaque()"


def _tagged(node: dict[str, Any]) -> Any:
    kind = node.get("$t")
    if kind is None or set(node) != {"$t", "v"}:
        return node
    value = node["v"]
    if kind == "tuple":
        return tuple(value)
    if kind == "bytes":
        return bytes.fromhex(value)
    if kind == "set":
        return set(value)
    if kind == "bigint":
        return 10 ** int(value)
    if kind == "object":
        return Opaque()
    return node


def _deep(levels: int) -> Any:
    value: Any = "leaf"
    for _ in range(levels):
        value = [value]
    return value


class Babbler(Adapter):
    def _mode(self) -> str:
        return str(self.config.get("mode", "answer-file"))

    def _program(self) -> dict[str, Any]:
        return json.loads(Path(self.config["path"]).read_text(encoding="utf-8"), object_hook=_tagged)  # type: ignore[no-any-return]

    def implementation_version(self) -> Any:
        mode = self._mode()
        if mode == "int-version":
            return 3
        if mode == "tuple-version":
            return (1, 2, "rc1")
        if mode == "answer-file":
            return "fuzz-" + hashlib.sha256(Path(self.config["path"]).read_bytes()).hexdigest()[:12]
        return f"1.0-{mode}"

    def metadata_read(self, asset: Asset, params: dict[str, Any]) -> Any:
        mode = self._mode()
        if mode == "surrogate-message":
            raise AdapterError("cannot read caf\ud800 here")
        if mode == "surrogate-crash":
            raise ValueError("bad byte \udcff in segment")
        if mode == "surrogate-field":
            return {"fields": {"title": "caf\ud800e", "creator": "Jane \udfff"}}
        if mode == "surrogate-notes":
            return {"fields": {"title": "x"}, "notes": [f"note {i} \ud800" for i in range(100)]}
        if mode == "nan":
            return {"fields": {"title": math.nan}}
        if mode == "inf":
            return {"fields": {"title": "x"}, "notes": [math.inf]}
        if mode in ("int-version", "tuple-version"):
            return {"fields": {}}
        if mode == "huge-unsupported":
            raise Unsupported("no " + "x" * (5 * 1024 * 1024))
        if mode == "deep":
            return {"fields": {"title": _deep(980)}}
        if mode == "echo-token":
            raise AdapterError(f"request refused, your token {os.environ.get(str(self.config['env']), '')} is not ours")
        if mode == "answer-file":
            program = self._program()
            failure = program.get("raise")
            if failure:
                text = failure.get("message", "")
                if failure.get("kind") == "unsupported":
                    raise Unsupported(text)
                if failure.get("kind") == "adapter_error":
                    raise AdapterError(text)
                raise RuntimeError(text)
            return program.get("answer")
        raise Unsupported(f"unknown mode {mode!r}")
