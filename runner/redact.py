"""Configured secrets, and their removal from every text the harness writes.

A transport that reads a secret (a bearer token from the environment) registers it
here once; the gate that every vendor answer and message passes, the results store and
the log copies beside the reports replace each registered value with ``[redacted]``.
The registry is per process: a secret is never written anywhere to be shared.
"""

from __future__ import annotations

import json
import threading
from typing import Any

MARK = "[redacted]"
#: Values shorter than this are not treated as secrets (they would redact ordinary words).
MIN_SECRET_CHARS = 8

_lock = threading.Lock()
_secrets: tuple[str, ...] = ()


def register_secret(value: str | None) -> None:
    """Remember a secret value so that :func:`redact` removes it from then on."""
    global _secrets
    if not value:
        return
    # as written raw, stripped, and escaped the way repr() and JSON write control characters
    variants = {value, value.strip(), value.encode("unicode_escape").decode("ascii"), json.dumps(value)[1:-1]}
    with _lock:
        known = set(_secrets) | {v for v in variants if len(v) >= MIN_SECRET_CHARS}
        _secrets = tuple(sorted(known, key=len, reverse=True))  # longest first: no partial leftovers


def forget_secrets() -> None:
    """Drop every registered secret (tests)."""
    global _secrets
    with _lock:
        _secrets = ()


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``[redacted]``."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, MARK)
    return text


def redact_bytes(data: bytes) -> bytes:
    """The same for bytes (log files), matching each secret's UTF-8 form."""
    for secret in _secrets:
        raw = secret.encode("utf-8", "surrogatepass")
        if raw in data:
            data = data.replace(raw, MARK.encode())
    return data


def redact_value(value: Any) -> Any:
    """A JSON-like value with every string (keys included) redacted."""
    if not _secrets:
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_value(k): redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value


def active() -> bool:
    """Whether any secret is registered."""
    return bool(_secrets)
