"""The harness's own reference validator for ISWC, ISRC and DOI syntax, written from the specs.

No third-party library: every rule below is the spec's rule, cited where it is applied.
The decisions the specs leave open (which presentation forms are accepted, how a DOI is
normalised) are listed in the README beside this file.  All matching is on ASCII
character classes (``[0-9]``, ``[A-Z]``) with ``re.fullmatch``, so Unicode digits and
letters, surrounding whitespace and a trailing newline never pass.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

from aiii_kit import Adapter, Asset, Unsupported

REFERENCE_VERSION = "1.0"


class Invalid(ValueError):
    """The value breaks a rule of its scheme; the message says which."""


def _common(value: str, label: str) -> None:
    """Checks every scheme shares: empty values, whitespace at either end, a display label."""
    if value == "":
        raise Invalid("empty value")
    if value != value.strip():
        raise Invalid("whitespace before or after the value")
    if value[: len(label) + 1].upper() in (f"{label} ", f"{label}:"):
        raise Invalid(f"the display label {label!r} is not part of the identifier")


# -- ISWC ---------------------------------------------------------------------------------
# ISO 15707:2001: prefix element "T", a nine-digit work identifier, one check digit.
# Presentation (ISO 15707, as the ISWC International Agency (CISAC) prints it):
# T-DDD.DDD.DDD-C; the grouping separators are optional as a whole and no other separator
# is allowed.  Accepted: exactly the presentation form or exactly the compact form.
ISWC_PRESENTATION = re.compile(r"T-([0-9]{3})\.([0-9]{3})\.([0-9]{3})-([0-9])")
ISWC_COMPACT = re.compile(r"T([0-9]{9})([0-9])")


def iswc_check_digit(digits: str) -> int:
    """ISO 15707 check digit: C = (10 - ((1 + sum(i * d_i, i = 1..9)) mod 10)) mod 10."""
    total = 1 + sum(i * int(d) for i, d in enumerate(digits, start=1))
    return (10 - total % 10) % 10


def validate_iswc(value: str) -> str:
    _common(value, "ISWC")
    match = ISWC_PRESENTATION.fullmatch(value)
    if match:
        digits, check = "".join(match.group(1, 2, 3)), match.group(4)
    else:
        match = ISWC_COMPACT.fullmatch(value)
        if not match:
            if value[:1] == "t":
                raise Invalid("the prefix element is an upper-case 'T' (ISO 15707)")
            if value[:1] != "T":
                raise Invalid("the prefix element 'T' is missing (ISO 15707)")
            raise Invalid("neither T-DDD.DDD.DDD-C nor TDDDDDDDDDC with ASCII digits (ISO 15707)")
        digits, check = match.group(1), match.group(2)
    expected = iswc_check_digit(digits)
    if int(check) != expected:
        raise Invalid(f"check digit {check} does not match the computed {expected} (ISO 15707)")
    # Normal form: the presentation form without the "ISWC" label.
    return f"T-{digits[0:3]}.{digits[3:6]}.{digits[6:9]}-{check}"


# -- ISRC ---------------------------------------------------------------------------------
# ISO 3901:2019 clause 4: 12 characters in four elements: prefix (country/agency) code,
# 2 letters A-Z; registrant code, 3 characters A-Z or 0-9; year of reference, 2 digits;
# designation code, 5 digits (also International ISRC Agency Bulletin 2015/01, Table A).
# Clause 4.5 / Annex C (visual presentation): written "ISRC CC-XXX-YY-NNNNN"; the label and
# the hyphens are not part of the 12 characters.  Accepted: the compact form and the
# hyphenated presentation form without the label.  Upper case only: the syntax is A-Z (the
# Agency's advice to read lower case as upper case is for data entry, not for validation).
# Whether the prefix code is allocated is registry knowledge and is not checked.
ISRC_COMPACT = re.compile(r"([A-Z]{2})([A-Z0-9]{3})([0-9]{2})([0-9]{5})")
ISRC_PRESENTATION = re.compile(r"([A-Z]{2})-([A-Z0-9]{3})-([0-9]{2})-([0-9]{5})")


def validate_isrc(value: str) -> str:
    _common(value, "ISRC")
    match = ISRC_COMPACT.fullmatch(value) or ISRC_PRESENTATION.fullmatch(value)
    if not match:
        if any("a" <= c <= "z" for c in value):
            raise Invalid("lower-case letters: the ISRC alphabet is A-Z and 0-9 (ISO 3901)")
        length = len(value.replace("-", ""))
        if length != 12:
            raise Invalid(f"{length} characters without hyphens, an ISRC has 12 (ISO 3901)")
        raise Invalid("not CCXXXYYNNNNN or CC-XXX-YY-NNNNN with A-Z/0-9 in the right places (ISO 3901)")
    # Normal form: the 12 characters (Bulletin 2015/01: hyphens are never part of the ISRC).
    return "".join(match.groups())


# -- DOI ----------------------------------------------------------------------------------
# ISO 26324:2022 / DOI Handbook 2.2: DOI name = prefix "/" suffix; prefix = directory
# indicator "10" "." registrant code, the registrant code optionally subdivided by "."
# (Handbook 2.2.2).  The registrant code is "a unique string"; every code issued is
# numeric and this validator requires ASCII digits.  Suffix: non-empty, "any printable
# characters from the legal graphic characters of Unicode" (Handbook 2.2.3): letters, marks,
# numbers, punctuation, symbols.  Controls, format characters (zero-width space, ...),
# unassigned and private-use code points are refused, and so is whitespace anywhere
# (Unicode counts Zs as graphic; a DOI with a space cannot be told from the text around it).
# Not accepted: "doi:" and resolver URLs (https://doi.org/...): presentation and
# resolution forms that carry a DOI name, not DOI names (a URL's suffix is percent-encoded).
DOI_PREFIX = re.compile(r"10\.[0-9]+(?:\.[0-9]+)*")
GRAPHIC = ("L", "M", "N", "P", "S")
#: Handbook 2.4: DOI names are case-insensitive for ASCII letters only; "all DOI names are
#: converted to upper case upon registration".  Normal form: ASCII a-z upper-cased.
ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def validate_doi(value: str) -> str:
    _common(value, "DOI")
    lowered = value[:16].lower()
    if lowered.startswith(("http://", "https://")):
        raise Invalid("a resolver URL, not a DOI name (ISO 26324: prefix/suffix)")
    if "/" not in value:
        raise Invalid("no '/' between prefix and suffix (ISO 26324)")
    prefix, suffix = value.split("/", 1)
    if not prefix.startswith("10."):
        raise Invalid("the directory indicator is not '10.' (ISO 26324)")
    if not DOI_PREFIX.fullmatch(prefix):
        raise Invalid("the registrant code is not ASCII digits, optionally dot-separated (DOI Handbook 2.2.2)")
    if not suffix:
        raise Invalid("the suffix is empty (ISO 26324)")
    for char in suffix:
        category = unicodedata.category(char)
        if category[0] not in GRAPHIC:
            raise Invalid(f"the suffix holds U+{ord(char):04X} ({category}), not a printable graphic character "
                          "(DOI Handbook 2.2.3)")
    return value.translate(ASCII_UPPER)


RULES: dict[str, Callable[[str], str]] = {
    "iswc": validate_iswc,
    "isrc": validate_isrc,
    "doi": validate_doi,
}


class RegistryReferenceAdapter(Adapter):
    """ISWC (ISO 15707), ISRC (ISO 3901) and DOI (ISO 26324) syntax, from the specs."""

    def implementation_version(self) -> str | None:
        return REFERENCE_VERSION

    def identifier_validate(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        scheme, value = str(params["scheme"]), str(params["value"])
        rule = RULES.get(scheme)
        if rule is None:
            raise Unsupported(f"registry-reference does not validate {scheme!r}")
        try:
            normalised = rule(value)
        except Invalid as exc:
            return {"scheme": scheme, "valid": False, "normalised": None, "reason": str(exc)}
        return {"scheme": scheme, "valid": True, "normalised": normalised, "reason": None}
