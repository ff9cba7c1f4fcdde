"""The protocol comes from its schemas: an operation is exactly two files.

``<op>.params.json`` and ``<op>.result.json`` in the kit's ``aiii_kit/protocol/schemas/``,
with ``examples`` and the ``x-aiii`` facts.  The kit's operation list, describe's enum,
the vendor manifest's enum, the OpenAPI document and ``aiii adapter check``'s samples are
all derived from them; these tests check the files and that a new pair of files is all
it takes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from aiii_kit import protocol
from aiii_kit.protocol import OPERATIONS, PARAMS_ONLY, ProtocolSchemaError, openapi, operation_facts

from runner.schema import PROTOCOL_DIR, harness_schemas, validator


def _signer() -> dict[str, str]:
    from runner.pki import TestPKI

    return TestPKI.create().leaf("adapter-check").as_params()


def test_every_operation_is_two_schema_files_with_its_facts() -> None:
    assert OPERATIONS, "no operation found"
    names = {p.name for p in PROTOCOL_DIR.glob("*.json")}
    shared = {"common.json", "error.json", "describe.result.json", "health.result.json"}
    assert names - shared == {f"{op}.{part}.json" for op in OPERATIONS for part in ("params", "result")}
    for operation, facts in operation_facts().items():
        assert OPERATIONS[operation] == ("asset" if facts["returns_asset"] else "report")
        assert (operation in PARAMS_ONLY) == (not facts["takes_asset"])
    assert {op for op, kind in OPERATIONS.items() if kind == "asset"} == {"metadata.write", "provenance.sign", "watermark.embed"}


def test_every_params_example_validates_against_its_own_schema() -> None:
    for operation, facts in operation_facts().items():
        for example in facts["examples"]:
            errors = list(validator(f"aiii:protocol/v1/{operation}.params").iter_errors(example))
            assert not errors, (operation, [e.message for e in errors])


def test_every_schema_is_a_valid_draft_2020_12_schema() -> None:
    for schema_id, doc in harness_schemas().items():
        jsonschema.Draft202012Validator.check_schema(doc)
        assert doc["$id"] == schema_id


def test_adapter_check_sends_schema_valid_params_and_junk_for_every_operation() -> None:
    from runner.protocol_check import junk_call, sample_params
    from runner.schema import first_error

    for operation in OPERATIONS:
        params = sample_params(operation, _signer)
        assert first_error(f"aiii:protocol/v1/{operation}.params", params) is None, operation
        _asset, junk = junk_call(operation, params)
        assert first_error(f"aiii:protocol/v1/{operation}.params", junk) is None, operation
    assert "BEGIN" in sample_params("provenance.sign", _signer)["signer"]["cert_chain_pem"]


def test_the_openapi_document_has_a_path_for_every_operation_and_no_other() -> None:
    paths = openapi()["paths"]
    assert {p.removeprefix("/v1/operations/") for p in paths if p.startswith("/v1/operations/")} == set(OPERATIONS)
    for operation, kind in OPERATIONS.items():
        ok = paths[f"/v1/operations/{operation}"]["post"]["responses"]["200"]["content"]
        assert ("*/*" in ok) == (kind == "asset")
        for ref in _refs(paths[f"/v1/operations/{operation}"]):
            assert (PROTOCOL_DIR.parent / ref).is_file(), ref


def _refs(value: object) -> list[str]:
    if isinstance(value, dict):
        return [value["$ref"]] if "$ref" in value else [r for v in value.values() for r in _refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in _refs(v)]
    return []


def test_a_new_operation_is_two_files(tmp_path: Path) -> None:
    """Two schema files in a copy of the folder: the operation is in describe's enum, the
    manifest's enum, the OpenAPI document and adapter check's samples."""
    from runner.protocol_check import sample_params

    folder = tmp_path / "schemas"
    shutil.copytree(PROTOCOL_DIR, folder)
    (folder / "widget.count.params.json").write_text(json.dumps({
        "$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "aiii:protocol/v1/widget.count.params",
        "title": "widget.count request parameters", "x-aiii": {"takes_asset": True, "summary": "widget.count: an asset in"},
        "examples": [{"colour": "blue"}], "type": "object", "properties": {"colour": {"type": "string"}}}))
    (folder / "widget.count.result.json").write_text(json.dumps({
        "$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "aiii:protocol/v1/widget.count.result",
        "title": "widget.count answer", "x-aiii": {"returns_asset": False}, "type": "object",
        "required": ["count"], "properties": {"count": {"type": "integer"}}}))

    assert operation_facts(folder)["widget.count"]["returns_asset"] is False
    schemas = harness_schemas(folder)
    assert "widget.count" in schemas["aiii:protocol/v1/describe.result"]["properties"]["operations"]["items"]["enum"]
    vendor = schemas["aiii:schemas/vendor"]
    assert "widget.count" in vendor["properties"]["capabilities"]["items"]["properties"]["operation"]["enum"]
    assert "/v1/operations/widget.count" in openapi(folder)["paths"]
    assert sample_params("widget.count", _signer, folder) == {"colour": "blue"}
    # ... and nothing of it leaks into the real protocol
    assert "widget.count" not in OPERATIONS


def test_a_params_file_without_its_result_file_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "schemas"
    shutil.copytree(PROTOCOL_DIR, folder)
    (folder / "metadata.read.result.json").unlink()
    with pytest.raises(ProtocolSchemaError, match=r"metadata.read.params.json has no metadata.read.result.json"):
        operation_facts(folder)


def test_the_manifest_schema_lists_the_placement_registry() -> None:
    from runner.transports import PLACEMENTS

    vendor = harness_schemas()["aiii:schemas/vendor"]
    assert vendor["properties"]["placement"]["enum"] == [name for name in PLACEMENTS if name != "pack"]
    assert "pack" in PLACEMENTS, "a pack is chosen by --import-pack, never declared by a manifest"
    assert protocol.PROTOCOL == "aiii-adapter/1"
