"""The planner: profile x vendors x vectors -> cells, each a small chain of shared steps."""

from __future__ import annotations

import fnmatch

from runner.check import Fixtures, PlanContext, Suite
from runner.errors import PlanError
from runner.model import Cell, Profile, VectorSelector, VendorManifest
from runner.paths import display
from runner.vectors import Catalogue, CatalogueError


def plan(
    profile: Profile,
    vendors: dict[str, VendorManifest],
    catalogue: Catalogue,
    fixtures: Fixtures,
    suite: Suite,
    restrict_vectors: bool = True,
) -> list[Cell]:
    """Every cell of the profile, planned by the suite's checks.  ``restrict_vectors=False``
    ignores the profile's vector selectors except media types (used for a user's own
    media folder)."""
    cells: list[Cell] = []
    try:
        channels = suite.channels(profile.channels)
    except PlanError as exc:
        raise PlanError(f"{display(profile.path)}: {exc}") from None
    for config in profile.checks:
        check = suite.checks[config.id]
        sel = config.vectors if restrict_vectors else VectorSelector(media_types=config.vectors.media_types)
        # ``vendors`` are the run's (its --vendors, else the profile's list): a check's own globs narrow them
        chosen_vendors = {k: v for k, v in vendors.items() if any(fnmatch.fnmatchcase(k, p) for p in config.vendors)}
        try:
            chosen_vectors = catalogue.select(
                tags_any=sel.tags_any, tags_all=sel.tags_all, tags_none=sel.tags_none, media_types=sel.media_types,
                ids=sel.ids, limit_per_media_type=sel.limit_per_media_type)
        except CatalogueError as exc:
            raise PlanError(f"{display(profile.path)}: check {config.id}: vectors.ids: {exc}") from None
        ctx = PlanContext(config, chosen_vectors, chosen_vendors, fixtures, channels, catalogue.corpus)
        try:
            cells.extend(check.plan(ctx))
        except PlanError as exc:
            raise PlanError(f"{display(profile.path)}: check {config.id}: {exc}") from None
    seen: set[str] = set()
    for cell in cells:
        if cell.id in seen:
            raise PlanError(f"profile {profile.name}: two cells share the id {cell.id}")
        seen.add(cell.id)
    return cells
