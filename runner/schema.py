"""Loading JSON Schemas kept in the repository, and one-line validation errors.

The protocol's schemas come from the adapter kit (``aiii_kit.protocol``), with the facts
derived from them filled in; the vendor manifest's enums are derived the same way (its
operations from the protocol's schema files, its placements from ``PLACEMENTS``).
"""

from __future__ import annotations

import copy
import json
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from aiii_kit import protocol
from referencing import Registry, Resource

from runner.errors import ConfigError

SCHEMA_DIR = Path(__file__).parent / "schemas"
PROTOCOL_DIR = protocol.SCHEMAS
VENDOR_SCHEMA_ID = "aiii:schemas/vendor"


def with_derived_facts(doc: dict[str, Any], operations: list[str]) -> dict[str, Any]:
    """A harness schema with the derived facts filled in where it names them: the vendor
    manifest's ``capabilities[].operation`` (the protocol's operation ids) and its
    ``placement`` (the placement registry's names)."""
    if doc.get("$id") != VENDOR_SCHEMA_ID:
        return doc
    from runner.transports import PLACEMENTS  # the transports validate answers with this module

    doc = copy.deepcopy(doc)
    doc["properties"]["capabilities"]["items"]["properties"]["operation"]["enum"] = operations
    doc["properties"]["placement"]["enum"] = [name for name, cls in PLACEMENTS.items() if cls.declarable]
    return doc


def harness_schemas(protocol_dir: Path = PROTOCOL_DIR) -> dict[str, dict[str, Any]]:
    """Every schema by ``$id``: the harness's own and the protocol's, facts derived."""
    found = protocol.schemas(protocol_dir)
    operations = list(protocol.operation_facts(protocol_dir))
    for path in sorted(SCHEMA_DIR.glob("*.json")):
        doc = json.loads(path.read_text())
        found[str(doc["$id"])] = with_derived_facts(doc, operations)
    return found


@cache
def _registry() -> Registry:
    return Registry().with_resources((schema_id, Resource.from_contents(doc)) for schema_id, doc in harness_schemas().items())


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
