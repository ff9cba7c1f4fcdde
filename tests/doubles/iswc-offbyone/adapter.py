"""ISWC validation with an off-by-one check digit: the weights run 0..8 instead of 1..9.

Everything else is the reference rule (vendors/registry-reference): the presentation form
T-DDD.DDD.DDD-C or the compact form TDDDDDDDDDC, ASCII digits, upper-case T, nothing around
it.  With weights i - 1 the weighted sum drops by the digit sum, so this double accepts the
same ISWCs as the reference exactly when the nine digits sum to a multiple of 10
(T-302.010.400-7 passes, T-034.524.680-1 fails).
"""

import re
from typing import Any

from aiii_kit import Adapter, Asset, Unsupported

PRESENTATION = re.compile(r"T-([0-9]{3})\.([0-9]{3})\.([0-9]{3})-([0-9])")
COMPACT = re.compile(r"T([0-9]{9})([0-9])")


def wrong_check_digit(digits: str) -> int:
    """The reference's (10 - ((1 + sum(i * d_i)) mod 10)) mod 10 with i counted from 0 (the bug)."""
    total = 1 + sum(i * int(d) for i, d in enumerate(digits))
    return (10 - total % 10) % 10


class Double(Adapter):
    def implementation_version(self) -> str | None:
        return "0.0.1"

    def identifier_validate(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        scheme, value = str(params["scheme"]), str(params["value"])
        if scheme != "iswc":
            raise Unsupported(f"iswc-offbyone does not validate {scheme!r}")
        match = PRESENTATION.fullmatch(value)
        if match:
            digits, check = "".join(match.group(1, 2, 3)), match.group(4)
        else:
            match = COMPACT.fullmatch(value)
            if not match:
                return {"scheme": scheme, "valid": False, "normalised": None, "reason": "not an ISWC"}
            digits, check = match.group(1), match.group(2)
        if int(check) != wrong_check_digit(digits):
            return {"scheme": scheme, "valid": False, "normalised": None, "reason": "check digit mismatch"}
        return {"scheme": scheme, "valid": True, "normalised": f"T-{digits[0:3]}.{digits[3:6]}.{digits[6:9]}-{check}",
                "reason": None}
