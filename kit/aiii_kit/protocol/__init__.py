"""The adapter protocol, version 1, from its JSON Schemas (package data beside this file).

An operation is exactly two files in ``schemas/``: ``<op>.params.json`` and
``<op>.result.json``.  What the harness needs to know about it beyond the shape of its
JSON is said in the schemas' own keyword ``x-aiii``: ``takes_asset`` and ``summary`` in
the params schema, ``returns_asset`` in the result schema (a producer's result schema
describes no JSON: its answer is the asset's bytes).  Each params schema carries
``examples``.  Everything else is derived here: the operation list, describe's enum and
the OpenAPI document (``python -m aiii_kit.protocol`` prints it).

Standard library only.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

SCHEMAS = Path(__file__).parent / "schemas"
PROTOCOL = "aiii-adapter/1"
ID_PREFIX = "aiii:protocol/v1/"
EXTENSION = "x-aiii"


class ProtocolSchemaError(Exception):
    """The protocol's schema files disagree with one another (a missing file or fact)."""


def _read(path: Path) -> dict[str, Any]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict):
        raise ProtocolSchemaError(f"{path.name}: not a JSON object")
    return doc


def operation_facts(folder: Path = SCHEMAS) -> dict[str, dict[str, Any]]:
    """Per operation id, in sorted order: ``takes_asset``, ``returns_asset``, ``summary``
    and ``examples``, read from its two schema files."""
    facts: dict[str, dict[str, Any]] = {}
    for params_path in sorted(folder.glob("*.params.json")):
        operation = params_path.name.removesuffix(".params.json")
        result_path = folder / f"{operation}.result.json"
        if not result_path.is_file():
            raise ProtocolSchemaError(f"{params_path.name} has no {result_path.name} beside it")
        params, result = _read(params_path), _read(result_path)
        given, answered = params.get(EXTENSION), result.get(EXTENSION)
        if not isinstance(given, dict) or not isinstance(given.get("takes_asset"), bool):
            raise ProtocolSchemaError(f"{params_path.name}: {EXTENSION}.takes_asset (true or false) is required")
        if not isinstance(answered, dict) or not isinstance(answered.get("returns_asset"), bool):
            raise ProtocolSchemaError(f"{result_path.name}: {EXTENSION}.returns_asset (true or false) is required")
        examples = params.get("examples")
        if not isinstance(examples, list) or not examples:
            raise ProtocolSchemaError(f"{params_path.name}: examples (at least one) are required")
        facts[operation] = {"takes_asset": given["takes_asset"], "returns_asset": answered["returns_asset"],
                            "summary": str(given.get("summary") or operation), "examples": examples}
    return facts


@cache
def _facts() -> dict[str, dict[str, Any]]:
    return operation_facts()


#: Operation ids and whether they produce an asset (producer) or a report (consumer).
OPERATIONS: dict[str, str] = {op: ("asset" if f["returns_asset"] else "report") for op, f in _facts().items()}
#: Operations whose whole input is in ``params``: their asset is an empty one.
PARAMS_ONLY: frozenset[str] = frozenset(op for op, f in _facts().items() if not f["takes_asset"])


def schemas(folder: Path = SCHEMAS) -> dict[str, dict[str, Any]]:
    """Every protocol schema by its ``$id``, with the derived facts filled in (describe's
    operation enum)."""
    operations = list(operation_facts(folder))
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("*.json")):
        doc = _read(path)
        found[str(doc["$id"])] = doc
    describe = copy.deepcopy(found[ID_PREFIX + "describe.result"])
    describe["properties"]["operations"]["items"]["enum"] = operations
    found[ID_PREFIX + "describe.result"] = describe
    return found


def _json_response(description: str, ref: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": f"schemas/{ref}"}}}}


_UNAUTHORISED = _json_response("bearer token missing or wrong", "error.json")
_ERRORS = {
    "400": _json_response("malformed request", "error.json"),
    "401": _UNAUTHORISED,
    "413": _json_response("request too large", "error.json"),
    "422": _json_response("the implementation failed cleanly on this input (kind adapter_error)", "error.json"),
    "501": _json_response("the implementation does not support this input (kind unsupported)", "error.json"),
    "500": _json_response("the adapter crashed", "error.json"),
}


def openapi(folder: Path = SCHEMAS) -> dict[str, Any]:
    """The protocol's OpenAPI 3.1 document, made from the schema files (``$ref`` paths are
    relative to this package's folder)."""
    paths: dict[str, Any] = {
        "/v1/describe": {"get": {"operationId": "describe", "summary": "Vendor, implementation version and implemented operations",
                                 "responses": {"200": _json_response("the adapter", "describe.result.json"), "401": _UNAUTHORISED}}},
        "/v1/health": {"get": {"operationId": "health", "summary": "Whether the implementation can answer",
                               "responses": {"200": _json_response("ready", "health.result.json"),
                                             "503": _json_response("not ready", "health.result.json"), "401": _UNAUTHORISED}}},
    }
    for operation, facts in operation_facts(folder).items():
        if facts["returns_asset"]:
            ok = {"description": "the produced asset, its media type as Content-Type",
                  "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}}
        else:
            ok = _json_response("the report", f"{operation}.result.json")
        paths[f"/v1/operations/{operation}"] = {"post": {
            "operationId": operation.replace(".", "_"),
            "summary": facts["summary"],
            "requestBody": {"required": True, "content": {"multipart/form-data": {
                "schema": {"type": "object", "required": ["params", "asset"], "properties": {
                    "params": {"$ref": f"schemas/{operation}.params.json"}, "asset": {"type": "string", "format": "binary"}}},
                "encoding": {"params": {"contentType": "application/json"}, "asset": {"contentType": "*/*"}}}}},
            "responses": {"200": ok, **_ERRORS},
        }}
    return {
        "openapi": "3.1.0",
        "info": {"title": "aiii-interop adapter protocol", "version": "1", "description": (
            "How the harness talks to a vendor adapter in any placement (process, container, remote). Assets travel as "
            "raw bytes in multipart/form-data requests and raw response bodies; parameters and reports are JSON validated "
            "against the schemas beside this file. Served by the adapter kit (aiii_kit), generated from its schemas.")},
        "servers": [{"url": "http://localhost", "description": "a unix socket (process and docker placements)"},
                    {"url": "https://vendor.example", "description": "a vendor-hosted endpoint (http placement)"}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{}, {"bearer": []}],
        "paths": paths,
    }


def write_openapi(target: Path, folder: Path = SCHEMAS) -> Path:
    """Write the OpenAPI document to ``target`` (its ``$ref`` paths point at ``schemas/``
    beside it: copy the schemas there too when publishing it elsewhere)."""
    target.write_text(json.dumps(openapi(folder), indent=2) + "\n", encoding="utf-8")
    return target
