"""The one gate everything a vendor says passes before it is stored or judged.

Answers (in-process ones included, so placements cannot differ), error messages and
versions come through here.  What the gate guarantees to everything behind it:

- text is valid Unicode: invalid sequences (lone surrogates, and undecodable bytes of a
  wire answer, which arrive as lone surrogates) are replaced by U+FFFD, and the step
  carries a note saying so, which the cell's reason repeats;
- numbers are finite and of bounded size: anything else is a protocol violation, an
  ``error`` naming the path;
- size, nesting depth, container length and string length are bounded (safe defaults,
  overridable in the manifest's ``[limits]`` table);
- only JSON types remain (tuples become lists and simple keys strings, as on the wire);
- configured secrets are redacted (:mod:`runner.redact`);
- messages are one line of bounded length; versions are bounded strings.

:func:`scrub` is the last line of defence for whatever the harness itself writes (cell
records, run info): it never raises, whatever it is handed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from runner.redact import active as redact_active
from runner.redact import redact, redact_value

REPLACEMENT = "\ufffd"
#: Integers beyond this are refused: they do not survive JSON parsers of other languages,
#: and Python refuses to print integers of more than 4300 digits.
MAX_INT = 2**64
#: Characters of one string that :func:`dumps` keeps (what the harness writes itself).
WRITE_CHARS = 1024 * 1024
#: Repair notes of one answer kept (each names a path; the rest are counted), and their length.
MAX_NOTES = 3
NOTE_CHARS = 120


class AnswerViolation(ValueError):
    """An answer the protocol does not allow; ``path`` is a JSON pointer into it."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{problem} at {path or '/'}")
        self.path = path or "/"
        self.problem = problem


@dataclass(frozen=True)
class Limits:
    """Bounds on what one vendor may say (``[limits]`` in its manifest)."""

    #: serialised size of one report, in bytes
    report_bytes: int = 4 * 1024 * 1024
    #: size of one returned asset, in bytes
    asset_bytes: int = 512 * 1024 * 1024
    #: nesting depth of a report (the top object is depth 1)
    depth: int = 64
    #: entries of one object or array
    items: int = 100_000
    #: characters of one string of a report
    string_chars: int = 1024 * 1024
    #: characters of one error or refusal message kept in a reason
    message_chars: int = 500
    #: characters of an implementation version
    version_chars: int = 100

    @classmethod
    def from_manifest(cls, table: Mapping[str, Any] | None) -> Limits:
        """The defaults, with the manifest's overrides (validated by the vendor schema)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: int(v) for k, v in (table or {}).items() if k in known})


DEFAULT_LIMITS = Limits()


def clean_text(text: str) -> tuple[str, bool]:
    """``text`` as valid Unicode, and whether anything had to be replaced."""
    try:
        text.encode("utf-8")
        return text, False
    except UnicodeEncodeError:
        # A proper surrogate pair passes as its character; a lone one becomes U+FFFD.
        fixed = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        try:
            fixed.encode("utf-8")
        except UnicodeEncodeError:  # pragma: no cover - utf-16 decoding leaves no surrogate
            fixed = fixed.encode("utf-8", "replace").decode("utf-8")
        return fixed, True


def one_line(text: str, limit: int) -> str:
    """Whitespace and control characters folded to single spaces; at most ``limit`` characters."""
    folded = "".join(ch if ch.isprintable() else " " for ch in text)
    line = " ".join(folded.split())
    if len(line) <= limit:
        return line
    return f"{line[:limit]}… ({len(line) - limit} more characters cut)"


def message(text: object, limits: Limits = DEFAULT_LIMITS) -> str:
    """A vendor's (or a transport's) message as it may appear in a reason."""
    try:
        raw = text if isinstance(text, str) else str(text)
    except Exception as exc:  # noqa: BLE001 - a vendor's exception may not even print
        raw = f"<message that cannot be printed: {type(exc).__name__}>"
    raw = raw[: limits.message_chars * 4 + 1024]  # never fold megabytes just to cut them
    fixed, replaced = clean_text(raw)
    line = one_line(redact(fixed), limits.message_chars)
    return f"{line} (invalid Unicode replaced)" if replaced else line


def version(value: object, limits: Limits = DEFAULT_LIMITS) -> str | None:
    """An implementation version as a bounded, printable string (``None`` stays ``None``)."""
    if value is None:
        return None
    if isinstance(value, tuple | list):
        text = ".".join(str(part) for part in value[:16])
    else:
        text = value if isinstance(value, str) else str(value)
    line = one_line(clean_text(redact(text[:1024]))[0], limits.version_chars)
    return line or None


def _key(key: object, path: str) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return str(int(key))
    if isinstance(key, float) and math.isfinite(key):
        return repr(float(key))
    raise AnswerViolation(path, f"an object key of type {type(key).__name__}")


def _pointer(path: str, key: object) -> str:
    text = str(key).replace("~", "~0").replace("/", "~1")
    return f"{path}/{clean_text(text[:64])[0]}"


def _utf8_size(text: str) -> int:
    """Bytes of valid text in UTF-8 (ASCII, the common case, without encoding it)."""
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def answer(value: Any, limits: Limits = DEFAULT_LIMITS) -> tuple[Any, list[str]]:
    """A report as the protocol allows it, and notes on what was repaired.

    Raises :class:`AnswerViolation` for what cannot be repaired: a non-finite or huge
    number, a type JSON does not have, too deep, too long, too large.
    """
    notes: set[str] = set()
    budget = [limits.report_bytes]  # characters left, counted as the walk goes

    def spend(n: int, path: str) -> None:
        budget[0] -= n
        if budget[0] < 0:
            raise AnswerViolation(path, f"a report larger than the {limits.report_bytes}-byte limit")

    def walk(node: Any, path: str, depth: int) -> Any:
        if depth > limits.depth:
            raise AnswerViolation(path, f"nesting deeper than the limit of {limits.depth}")
        if node is None or isinstance(node, bool):
            spend(5, path)
            return bool(node) if node is not None else None
        if isinstance(node, int):
            if abs(node) > MAX_INT:
                raise AnswerViolation(path, "an integer out of range")
            spend(21, path)
            return int(node)
        if isinstance(node, float):
            if not math.isfinite(node):
                raise AnswerViolation(path, f"a non-finite number ({node!r})")
            spend(24, path)
            return float(node)
        if isinstance(node, str):
            if len(node) > limits.string_chars:
                raise AnswerViolation(path, f"a string of {len(node)} characters (limit {limits.string_chars})")
            text, replaced = clean_text(str(node))
            spend(_utf8_size(text) + 2, path)  # bytes, as documented: "é" is 2, "😀" 4
            if replaced:
                notes.add(f"invalid Unicode replaced at {path or '/'}")
            return redact(text)
        if isinstance(node, Mapping):
            if len(node) > limits.items:
                raise AnswerViolation(path, f"an object of {len(node)} entries (limit {limits.items})")
            out: dict[str, Any] = {}
            for k, v in node.items():
                key = _key(k, path)
                sub = _pointer(path, key)
                fixed_key, replaced = clean_text(key)
                spend(_utf8_size(fixed_key) + 4, sub)
                if replaced:
                    notes.add(f"invalid Unicode replaced in a key at {path or '/'}")
                out[redact(fixed_key)] = walk(v, sub, depth + 1)
            return out
        if isinstance(node, list | tuple):
            if len(node) > limits.items:
                raise AnswerViolation(path, f"an array of {len(node)} items (limit {limits.items})")
            spend(2, path)
            return [walk(v, _pointer(path, i), depth + 1) for i, v in enumerate(node)]
        raise AnswerViolation(path, f"a value of type {type(node).__name__}, which JSON does not have")

    cleaned = walk(value, "", 1)
    found = sorted(notes)  # bounded: a hundred repaired strings must not make a reason a page
    if len(found) > MAX_NOTES:
        found = [*found[:MAX_NOTES], f"and {len(found) - MAX_NOTES} more repairs"]
    return cleaned, [one_line(n, NOTE_CHARS) for n in found]


def scrub(value: Any, limit_chars: int = 20_000, _depth: int = 0) -> Any:
    """Any value made safe to write as JSON, without ever raising.

    Strings become valid, redacted Unicode of at most ``limit_chars`` characters;
    non-finite numbers become ``None``; unknown types their bounded ``repr``; nesting
    beyond 100 levels is cut.  Used on what the harness writes itself (cell records,
    run info), after vendor answers have already passed :func:`answer`.
    """
    try:
        if _depth > 100:
            return "<nesting cut>"
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int):
            return int(value) if abs(value) <= MAX_INT else None
        if isinstance(value, float):
            return float(value) if math.isfinite(value) else None
        if isinstance(value, str):
            text = clean_text(value[: limit_chars + 1])[0]
            text = redact(text)
            return text if len(text) <= limit_chars else text[:limit_chars] + "…"
        if isinstance(value, Mapping):
            return {str(scrub(k if isinstance(k, str) else str(k), 200, _depth + 1)):
                    scrub(v, limit_chars, _depth + 1) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [scrub(v, limit_chars, _depth + 1) for v in value]
        return scrub(repr(value)[:500], limit_chars, _depth + 1)
    except Exception as exc:  # noqa: BLE001 - the last line of defence never raises
        return f"<unstorable value: {type(exc).__name__}>"


def dumps(value: Any) -> str:
    """JSON text of ``value`` that a store can always keep (see :func:`scrub`)."""
    if not redact_active():
        try:
            text = json.dumps(value, ensure_ascii=False, allow_nan=False)
            text.encode("utf-8")  # a lone surrogate passes json.dumps but not the store
            return text
        except (TypeError, ValueError, RecursionError, UnicodeEncodeError):
            pass
    return json.dumps(scrub(value, WRITE_CHARS), ensure_ascii=False, allow_nan=False)


__all__ = ["AnswerViolation", "Limits", "DEFAULT_LIMITS", "answer", "message", "version", "scrub", "dumps",
           "clean_text", "one_line", "redact_value"]
