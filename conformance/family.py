"""The interface a family of checks offers the harness, and how it is checked.

A family is a package whose module-level ``FAMILY`` is a :class:`Family`: its name, its
checks and the harness transforms (``transform.<name>`` steps) only it uses.  The
built-in families are the sub-packages of ``conformance``; another distribution ships
one by naming its package (or any module with a ``FAMILY``) under the entry-point
group ``aiii.families`` (see conformance/discovery.py).  A family never imports another
family: what two share lives in a shared module of ``conformance`` (fields, c2pa,
planning, corpus, trials, channels, statistics, tamper, differential).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from runner.check import Check, Transform
from runner.errors import HarnessError


class FamilyError(HarnessError):
    """A discovered family does not match the interface; the message is one line naming it."""


@dataclass(frozen=True)
class Family:
    """What a family exports: ``FAMILY = Family(name=..., checks=[...], transforms={...})``."""

    #: The family's name, e.g. ``"metadata"``; its checks' ids start with ``name + "."``.
    name: str
    #: One instance of each check.
    checks: Sequence[Check]
    #: Harness transforms by step operation name (e.g. ``"tamper.truncate"``).
    transforms: Mapping[str, Transform] = field(default_factory=dict)
    #: What a transform's output depends on besides input and params, for the
    #: persistent step cache (None: cached within a run only).
    transform_version: Callable[[str], str | None] | None = None


def validate(family: object, origin: str) -> Family:
    """``family`` if it matches the interface, else a :class:`FamilyError` naming ``origin``."""
    if not isinstance(family, Family):
        raise FamilyError(f"family {origin}: FAMILY must be a conformance.family.Family, not {type(family).__name__}")
    if not isinstance(family.name, str) or not family.name.isidentifier():
        raise FamilyError(f"family {origin}: name must be an identifier, not {family.name!r}")
    for check in family.checks:
        if not isinstance(check, Check):
            raise FamilyError(f"family {origin}: {check!r} is not a conformance.base.Check instance")
        for attr in ("id", "title", "family", "description"):
            if not isinstance(getattr(check, attr, None), str):
                raise FamilyError(f"family {origin}: check {type(check).__name__} has no string {attr}")
        if not check.id.startswith(family.name + "."):
            raise FamilyError(f"family {origin}: check id {check.id} does not start with {family.name}.")
    for name, transform in family.transforms.items():
        if not isinstance(name, str) or not callable(transform):
            raise FamilyError(f"family {origin}: transform {name!r} is not a name and a callable")
    if family.transform_version is not None and not callable(family.transform_version):
        raise FamilyError(f"family {origin}: transform_version is not callable")
    return family
