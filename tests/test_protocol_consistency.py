"""The protocol's machine-readable descriptions agree with the kit's list of operations.

Adding an operation means touching the kit, the JSON Schemas, the OpenAPI document and
the manifest schema; a place forgotten makes every served vendor of that operation fail
at start-up, so these tests name the place.
"""

from __future__ import annotations

import json

from runner.adapter import OPERATIONS
from runner.schema import PROTOCOL_DIR, SCHEMA_DIR


def test_openapi_has_a_path_for_every_operation_and_no_other() -> None:
    doc = json.loads((PROTOCOL_DIR.parent / "openapi.json").read_text())
    paths = {p.removeprefix("/v1/operations/") for p in doc["paths"] if p.startswith("/v1/operations/")}
    assert paths == set(OPERATIONS)


def test_every_operation_has_params_and_result_schemas() -> None:
    for operation, produces in OPERATIONS.items():
        assert (PROTOCOL_DIR / f"{operation}.params.json").is_file(), operation
        if produces == "report":
            assert (PROTOCOL_DIR / f"{operation}.result.json").is_file(), operation


def test_describe_and_manifest_schemas_list_every_operation() -> None:
    describe = json.loads((PROTOCOL_DIR / "describe.result.json").read_text())
    assert set(describe["properties"]["operations"]["items"]["enum"]) == set(OPERATIONS)
    vendor = json.loads((SCHEMA_DIR / "vendor.schema.json").read_text())
    enum = vendor["properties"]["capabilities"]["items"]["properties"]["operation"]["enum"]
    assert set(enum) == set(OPERATIONS)


def test_adapter_check_sends_schema_valid_params_for_every_operation() -> None:
    from runner.adapter_check import junk_call, sample_params
    from runner.pki import TestPKI
    from runner.schema import first_error

    pki = TestPKI.create()
    for operation in OPERATIONS:
        params = sample_params(operation, lambda: pki.leaf("adapter-check").as_params())
        assert first_error(f"aiii:protocol/v1/{operation}.params", params) is None, operation
        _asset, junk = junk_call(operation, params)
        assert first_error(f"aiii:protocol/v1/{operation}.params", junk) is None, operation
