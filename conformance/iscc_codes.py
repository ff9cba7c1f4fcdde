"""ISCC codes as the harness decodes them (ISO 24138 units, Hamming distances), the
vendors that make them, and the params of a generate step.

Shared by the identifiers family (conformance, agreement, soft bindings) and the
recognition family (content codes as one more content fingerprint)."""

from __future__ import annotations

import base64
from typing import Any

from conformance.base import PlanContext
from conformance.planning import option
from runner.model import Vector, VendorManifest

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


def generate_params(vector: Vector | str, bits: int, units: list[str] | None = None) -> dict[str, Any]:
    """The params of an ``identifier.generate`` step making the ISCC of a vector (or a
    vector id; ``units``: only these units, e.g. ``["content"]``)."""
    name = vector if isinstance(vector, str) else vector.id
    params: dict[str, Any] = {"scheme": "iscc", "bits": bits, "meta": {"name": name, "description": "aiii-interop"}}
    if units:
        params["units"] = units
    return params


__all__ = ["MAIN_TYPES", "decode_unit", "encode_unit", "generate_params", "hamming", "iscc_vendors", "unit_distance"]
