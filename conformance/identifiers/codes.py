"""ISCC codes as the harness decodes them (ISO 24138 units, distances), the ISCC
vendors, and the conformance data's tests."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

from conformance.base import PlanContext
from conformance.planning import option, read_json
from runner.errors import PlanError
from runner.model import (
    Vector,
    VendorManifest,
)
from runner.paths import display

# -- ISCC codes, decoded by the harness itself ------------------------------------------
# ISO 24138 header: MainType, SubType, Version, Length as variable-length nibbles; the
# units compared here use values below 8, so each is one 4-bit nibble (two header bytes).

MAIN_TYPES = {0: "meta", 1: "semantic", 2: "content", 3: "data", 4: "instance", 5: "iscc"}


def decode_unit(code: str) -> tuple[str, int, bytes]:
    """(unit name, subtype, body) of a canonical single-unit ISCC; ValueError otherwise."""
    body32 = code.removeprefix("ISCC:")
    raw = base64.b32decode(body32 + "=" * (-len(body32) % 8))
    if len(raw) < 3:
        raise ValueError(f"{code}: too short")
    main, sub, ver, length = raw[0] >> 4, raw[0] & 15, raw[1] >> 4, raw[1] & 15
    if main >= 8 or sub >= 8 or ver >= 8 or length >= 8 or main not in MAIN_TYPES or main == 5:
        raise ValueError(f"{code}: not a single ISCC-UNIT with a short header")
    body = raw[2:]
    if len(body) * 8 != (length + 1) * 32:
        raise ValueError(f"{code}: body of {len(body) * 8} bits, header says {(length + 1) * 32}")
    return MAIN_TYPES[main], sub, body


def encode_unit(main: int, sub: int, body: bytes) -> str:
    """The canonical string of a version-0 ISCC-UNIT (the inverse of :func:`decode_unit`)."""
    length = len(body) * 8 // 32 - 1
    raw = bytes([(main << 4) | sub, length]) + body
    return "ISCC:" + base64.b32encode(raw).decode().rstrip("=")


def hamming(a: bytes, b: bytes) -> int:
    return sum(bin(x ^ y).count("1") for x, y in zip(a, b, strict=True))


def unit_distance(a: str, b: str) -> tuple[str, int]:
    """(unit, Hamming distance in bits) of two codes of the same unit type and length."""
    ua, sa, ba = decode_unit(a)
    ub, sb, bb = decode_unit(b)
    if (ua, sa, len(ba)) != (ub, sb, len(bb)):
        raise ValueError(f"{a} and {b} are not comparable (unit, subtype or length differ)")
    return ua, hamming(ba, bb)


def iscc_vendors(ctx: PlanContext) -> list[VendorManifest]:
    """The selected vendors that generate ISCCs."""
    return [v for v in ctx.with_op("identifier.generate") if "iscc" in option(v, "identifier.generate", "schemes", ["iscc"])]


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
