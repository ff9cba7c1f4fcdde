"""The tests of ISCC conformance data (iscc-core's data.json).  The codes themselves
(decoding, distances, the ISCC vendors) are in the shared :mod:`conformance.iscc_codes`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conformance.planning import read_json
from runner.errors import PlanError
from runner.model import Vector
from runner.paths import display


def conformance_tests(vector: Vector) -> Iterator[tuple[str, str, list[Any], Any]]:
    """(function, test name, inputs, outputs) of every test in conformance data shaped
    like iscc-core's data.json (keys starting with "_" are metadata)."""
    data = read_json(vector)
    if not isinstance(data, dict):
        raise PlanError(f"vector {vector.id} ({display(vector.path)}): expected an object of functions")
    for function, tests in sorted(data.items()):
        if function.startswith("_"):
            continue
        if not isinstance(tests, dict):
            raise PlanError(f"vector {vector.id} ({display(vector.path)}): {function}: expected an object of tests")
        for name, test in sorted(tests.items()):
            if not isinstance(test, dict) or not isinstance(test.get("inputs"), list) or "outputs" not in test:
                raise PlanError(f"vector {vector.id} ({display(vector.path)}): {function}.{name}: "
                                "a test needs an 'inputs' list and 'outputs'")
            yield function, name, test["inputs"], test["outputs"]
