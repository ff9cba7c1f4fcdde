"""The plan digest: one sha256 over everything that gives a run's cells their meaning.

Six components, each hashed on its own so that a mismatch can say what differs:

- ``profile``: each check's id, level, params, vector selector and vendor globs, and the
  profile's decoding limits (not its name, description or ``fail_on``: they change no
  cell);
- ``vectors``: the id and sha256 of every vector a cell cites (corpora included, whose
  hash is that of their member list);
- ``methodology``: :data:`runner.METHODOLOGY_VERSION`;
- ``channels``: every distribution channel the profile can name (the built-in ones and
  its own), each as its kind and steps (transform and params), with the versions of
  the libraries behind each transform;
- ``cells``: the sorted ids of every planned cell;
- ``pki``: the fingerprint of the test PKI's root (runner/pki.py), from which every
  signing vendor's credentials are derived: a step that signs means the same thing only
  under the same root (participants share it with ``aiii pki export``/``import``).

The digest is computed from the whole plan, before any part of it is run, so every
shard and every placement of one plan gets the same digest.  Results combine only
under one digest (:func:`require_same_plan`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from runner import METHODOLOGY_VERSION
from runner.check import Suite
from runner.errors import HarnessError
from runner.model import Cell, Profile, Vector, canonical_json

#: The components, in the order a mismatch names them.
COMPONENTS: tuple[str, ...] = ("profile", "vectors", "methodology", "channels", "cells", "pki")
#: Bumped when what goes into a component, or how it is hashed, changes.
DIGEST_FORMAT = "aiii-plan-digest-v2"


class PlanMismatch(HarnessError):
    """Two plans differ: results made under them do not combine."""

    def __init__(self, message: str, differing: tuple[str, ...]) -> None:
        super().__init__(message)
        self.differing = differing


@dataclass(frozen=True)
class PlanDigest:
    """The plan digest and the digest of each of its components."""

    sha256: str
    components: Mapping[str, str]

    def as_dict(self) -> dict[str, Any]:
        """The form kept in the store and in the bundle's ``run.plan_digest``."""
        return {"sha256": self.sha256, "components": dict(self.components)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PlanDigest:
        return cls(str(data["sha256"]), {k: str(v) for k, v in data["components"].items()})


#: Items of a list encoded at a time by :func:`_sha256` (a plan's cell ids are a million).
_CHUNK = 10_000


def _sha256(value: Any) -> str:
    """The sha256 of ``value``'s canonical JSON; a list is encoded a chunk at a time (the same
    bytes, hashed as they come), so a million cell ids never become one JSON text."""
    if not isinstance(value, list):
        return hashlib.sha256(canonical_json(value).encode()).hexdigest()
    h = hashlib.sha256(b"[")
    for start in range(0, len(value), _CHUNK):
        h.update(b"," if start else b"")
        h.update(canonical_json(value[start:start + _CHUNK])[1:-1].encode())
    h.update(b"]")
    return h.hexdigest()


def profile_component(profile: Profile) -> dict[str, Any]:
    """What of a profile changes what its cells mean."""
    return {
        "checks": [{"id": c.id, "level": c.level.value, "params": dict(c.params), "vectors": asdict(c.vectors),
                    "vendors": list(c.vendors)} for c in profile.checks],
        "limits": asdict(profile.limits),
    }


def vectors_component(cells: Iterable[Cell], vectors: Mapping[str, Vector]) -> dict[str, str]:
    """Vector id -> sha256 of every vector a cell cites."""
    return {vid: vectors[vid].sha256 for vid in sorted({c.vector for c in cells})}


def _libraries(version: str | None) -> Any:
    """The library versions in a transform's cache version (``{"libraries": ...,
    "code": ...}`` for the channels); the code hash is left out: a channel's meaning
    changes with its library or its definition, and a change of meaning in the
    harness's code is what the methodology version says."""
    if version is None:
        return None
    try:
        parsed = json.loads(version)
    except ValueError:
        return version
    return parsed.get("libraries", parsed) if isinstance(parsed, dict) else parsed


def channels_component(profile: Profile, suite: Suite) -> dict[str, Any]:
    """Every channel the profile can name: kind, steps, and each transform's libraries.

    The suite's channels are ``conformance.channels.NamedChannel`` objects, read here by
    their ``kind`` and ``steps`` (runner/ never imports conformance/).
    """
    out: dict[str, Any] = {}
    for name, channel in sorted(suite.channels(profile.channels).items()):
        steps = [(str(transform), dict(params)) for transform, params in getattr(channel, "steps", ())]
        out[name] = {
            "kind": getattr(channel, "kind", None),
            "steps": [[transform, params] for transform, params in steps],
            "libraries": {t: _libraries(suite.transform_version(t)) for t in sorted({t for t, _ in steps})},
        }
    return out


def digest_of(components: Mapping[str, Any]) -> PlanDigest:
    """The plan digest of already gathered components (every name of :data:`COMPONENTS`)."""
    parts = {name: _sha256(components[name]) for name in COMPONENTS}
    return PlanDigest(_sha256({"format": DIGEST_FORMAT, "components": parts}), parts)


def plan_digest(profile: Profile, cells: Iterable[Cell], vectors: Mapping[str, Vector], suite: Suite,
                pki: str, methodology: str = METHODOLOGY_VERSION) -> PlanDigest:
    """The digest of a whole plan: the profile, the vectors its cells cite, the
    methodology version, the channels, the cell ids and the test PKI's root fingerprint."""
    cells = list(cells)
    return digest_of({
        "profile": profile_component(profile),
        "vectors": vectors_component(cells, vectors),
        "methodology": methodology,
        "channels": channels_component(profile, suite),
        "cells": sorted(c.id for c in cells),
        "pki": pki,
    })


def differences(a: PlanDigest, b: PlanDigest) -> tuple[str, ...]:
    """The components in which two plans differ, in :data:`COMPONENTS` order."""
    return tuple(name for name in COMPONENTS if a.components.get(name) != b.components.get(name))


def require_same_plan(a: PlanDigest, b: PlanDigest, what_a: str = "a", what_b: str = "b") -> None:
    """Raise :class:`PlanMismatch`, one line naming what differs, unless both are one plan."""
    if a.sha256 == b.sha256:
        return
    differing = differences(a, b) or ("format",)
    raise PlanMismatch(f"{what_a} and {what_b} were run under different plans: {', '.join(differing)} differ "
                       f"(plan digest {a.sha256[:12]} vs {b.sha256[:12]})", differing)
