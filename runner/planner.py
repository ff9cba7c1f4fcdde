"""The planner: profile x vendors x vectors -> cells, each a small chain of shared steps."""

from __future__ import annotations

import fnmatch
from collections import Counter
from collections.abc import Iterable

from conformance.base import Fixtures, PlanContext
from conformance.registry import CHECKS
from runner.errors import PlanError
from runner.model import Cell, Profile, VectorSelector, VendorManifest
from runner.vectors import Vector


def select_vectors(vectors: Iterable[Vector], sel: VectorSelector) -> list[Vector]:
    """Vectors a selector picks, in catalogue order (limit applies per media type)."""
    out: list[Vector] = []
    per_type: Counter[str] = Counter()
    for v in vectors:
        tags = set(v.tags)
        if sel.tags_any and not tags & set(sel.tags_any):
            continue
        if sel.tags_all and not set(sel.tags_all) <= tags:
            continue
        if sel.tags_none and tags & set(sel.tags_none):
            continue
        if sel.media_types and v.media_type not in sel.media_types:
            continue
        if sel.ids and not any(fnmatch.fnmatchcase(v.id, p) for p in sel.ids):
            continue
        if sel.limit_per_media_type is not None and per_type[v.media_type] >= sel.limit_per_media_type:
            continue
        per_type[v.media_type] += 1
        out.append(v)
    return out


def plan(
    profile: Profile,
    vendors: dict[str, VendorManifest],
    vectors: list[Vector],
    fixtures: Fixtures,
    restrict_vectors: bool = True,
) -> list[Cell]:
    """Every cell of the profile.  ``restrict_vectors=False`` ignores the profile's vector
    selectors except media types (used for a user's own media folder)."""
    cells: list[Cell] = []
    for config in profile.checks:
        check = CHECKS[config.id]
        sel = config.vectors if restrict_vectors else VectorSelector(media_types=config.vectors.media_types)
        chosen_vendors = {
            k: v for k, v in vendors.items()
            if any(fnmatch.fnmatchcase(k, p) for p in config.vendors) and any(fnmatch.fnmatchcase(k, p) for p in profile.vendors)
        }
        ctx = PlanContext(config, select_vectors(vectors, sel), chosen_vendors, fixtures)
        cells.extend(check.plan(ctx))
    seen: set[str] = set()
    for cell in cells:
        if cell.id in seen:
            raise PlanError(f"profile {profile.name}: two cells share the id {cell.id}")
        seen.add(cell.id)
    return cells
