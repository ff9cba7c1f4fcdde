"""Loading JSON Schemas kept in the repository, and one-line validation errors."""

from __future__ import annotations

import json
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource

from runner.errors import ConfigError

SCHEMA_DIR = Path(__file__).parent / "schemas"
PROTOCOL_DIR = Path(__file__).parent / "protocol" / "schemas"


@cache
def _registry() -> Registry:
    resources = []
    for directory in (SCHEMA_DIR, PROTOCOL_DIR):
        for path in sorted(directory.glob("*.json")):
            doc = json.loads(path.read_text())
            resources.append((doc["$id"], Resource.from_contents(doc)))
    return Registry().with_resources(resources)


@cache
def validator(schema_id: str) -> jsonschema.protocols.Validator:
    """A draft 2020-12 validator for a schema by its ``$id``."""
    schema = _registry()[schema_id].contents
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, registry=_registry(), format_checker=cls.FORMAT_CHECKER)  # type: ignore[no-any-return]


def json_path(parts: Any) -> str:
    """Render a jsonschema path deque like ``capabilities[0].operation``."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def first_error(schema_id: str, document: Any) -> str | None:
    """The most relevant validation error as ``path: message``, or None when valid."""
    errors = sorted(validator(schema_id).iter_errors(document), key=lambda e: (len(e.absolute_path), e.message))
    if not errors:
        return None
    err = errors[0]
    message = err.message if len(err.message) < 200 else err.message[:200] + "…"
    return f"{json_path(err.absolute_path)}: {message}"


def load_toml(path: Path, display: str) -> dict[str, Any]:
    """Parse a TOML file, turning syntax errors into one-line ConfigErrors."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{display}: file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{display}: a folder, not a file") from None
    except OSError as exc:
        raise ConfigError(f"{display}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    except UnicodeDecodeError as exc:  # TOML is UTF-8; tomllib decodes the whole file first
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{display}: not UTF-8 (byte 0x{exc.object[exc.start]:02x} on line {line})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{display}: invalid TOML: {exc}") from None


def check_document(schema_id: str, document: Any, display: str) -> None:
    """Raise ConfigError naming the file and the key when the document is invalid."""
    problem = first_error(schema_id, document)
    if problem:
        raise ConfigError(f"{display}: {problem}")
