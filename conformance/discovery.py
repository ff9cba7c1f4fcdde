"""Finds the families and hands the run one :class:`runner.check.Suite`.

Built-in families are the sub-packages of ``conformance`` (each exports ``FAMILY``);
other distributions add theirs under the entry-point group ``aiii.families``, each
entry naming a module (or package) with a ``FAMILY`` attribute, or the ``Family``
itself (``module:FAMILY``).  A family that does not match the interface
(conformance/family.py), or whose check ids or transform names clash with another's,
stops the run with one line naming it.  The channels (conformance/channels.py) and the
literal-bytes transform are the harness's own: every family may use them.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator, Mapping
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

from aiii_kit import Asset

import conformance
from conformance.channels import CHANNELS, ChannelError, cache_version, declared
from conformance.family import Family, FamilyError, validate
from runner.check import Check, Suite, Transform
from runner.errors import PlanError

GROUP = "aiii.families"


def _literal(asset: Asset, params: dict[str, Any]) -> Asset:
    """Bytes given in the params (hex), as an asset: the conformance data's stream inputs."""
    return Asset(bytes.fromhex(params["hex"]), "application/octet-stream")


#: Transforms every family may use, besides its own.
SHARED_TRANSFORMS: dict[str, Transform] = {**CHANNELS, "harness.bytes": _literal}


def _family_of(obj: Any, origin: str) -> Family:
    found = getattr(obj, "FAMILY", None) if isinstance(obj, ModuleType) else obj
    if isinstance(obj, ModuleType) and found is None:
        raise FamilyError(f"family {origin}: module {obj.__name__} has no FAMILY")
    return validate(found, origin)


def builtin() -> Iterator[Family]:
    """The families shipped in ``conformance/``: every sub-package, in name order."""
    for info in sorted(pkgutil.iter_modules(conformance.__path__), key=lambda i: i.name):
        if info.ispkg:
            name = f"conformance.{info.name}"
            yield _family_of(importlib.import_module(name), name)


def installed() -> Iterator[Family]:
    """Families other distributions declare under the ``aiii.families`` entry points."""
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        origin = f"{ep.name} ({ep.value}, entry point {GROUP})"
        try:
            obj = ep.load()
        except Exception as exc:  # noqa: BLE001 - a broken plug-in is named, in one line
            raise FamilyError(f"family {origin}: cannot be imported: {type(exc).__name__}: {exc}") from None
        yield _family_of(obj, origin)


def _channels(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    try:
        return declared(raw)
    except ChannelError as exc:
        raise PlanError(str(exc)) from None


def discover() -> Suite:
    """Every family's checks and transforms, with the shared ones, as one suite."""
    checks: dict[str, Check] = {}
    transforms: dict[str, Transform] = dict(SHARED_TRANSFORMS)
    versions: dict[str, Any] = {name: cache_version for name in CHANNELS}
    owner: dict[str, str] = {}
    for family in [*builtin(), *installed()]:
        for check in family.checks:
            if check.id in checks:
                raise FamilyError(f"family {family.name}: check {check.id} is already given by family {owner[check.id]}")
            checks[check.id], owner[check.id] = check, family.name
        for name, fn in family.transforms.items():
            if name in transforms:
                raise FamilyError(f"family {family.name}: transform {name} is already defined")
            transforms[name] = fn
            if family.transform_version is not None:
                versions[name] = family.transform_version

    def transform_version(name: str) -> str | None:
        """What a transform's output depends on besides input and params, for the
        persistent step cache: the channels' library versions and code; the others stay
        cached within a run only."""
        fn = versions.get(name)
        return fn(name) if fn is not None else None

    return Suite(checks=checks, transforms=transforms, transform_version=transform_version, channels=_channels)
