"""The planner: profile x vendors x vectors -> cells, each a small chain of shared steps."""

from __future__ import annotations

import fnmatch

from runner.check import Fixtures, PlanContext, Suite
from runner.errors import PlanError
from runner.model import Cell, Profile, VectorSelector, VendorManifest, sharing_json
from runner.paths import display
from runner.vectors import Catalogue, CatalogueError


def plan(
    profile: Profile,
    vendors: dict[str, VendorManifest],
    catalogue: Catalogue,
    fixtures: Fixtures,
    suite: Suite,
    restrict_vectors: bool = True,
    notes: list[str] | None = None,
) -> list[Cell]:
    """Every cell of the profile, planned by the suite's checks.  ``restrict_vectors=False``
    ignores the profile's vector selectors except media types (used for a user's own
    media folder); there the checks that read the catalogue's own data keep their whole
    selector, and those that then select nothing are skipped, said in one line appended to
    ``notes``."""
    cells: list[Cell] = []
    skipped: dict[str, list[str]] = {}  # what catalogue data -> the checks reading it
    try:
        channels = suite.channels(profile.channels)
    except PlanError as exc:
        raise PlanError(f"{display(profile.path)}: {exc}") from None
    with sharing_json():  # equal params and contexts of the plan's cells: one string each
        for config in profile.checks:
            check = suite.checks[config.id]
            # a check reading the catalogue's own data keeps its whole selector on a user's folder: it
            # reads the files the user tagged for it, and none of the user's media
            keep_selector = restrict_vectors or bool(check.catalogue_data)
            sel = config.vectors if keep_selector else VectorSelector(media_types=config.vectors.media_types)
            # ``vendors`` are the run's (its --vendors, else the profile's list): a check's own globs narrow them
            chosen_vendors = {k: v for k, v in vendors.items() if any(fnmatch.fnmatchcase(k, p) for p in config.vendors)}
            try:
                chosen_vectors = catalogue.select(
                    tags_any=sel.tags_any, tags_all=sel.tags_all, tags_none=sel.tags_none, media_types=sel.media_types,
                    ids=sel.ids, limit_per_media_type=sel.limit_per_media_type)
            except CatalogueError as exc:
                if keep_selector and not restrict_vectors:  # ids of the catalogue's own data: not in a user's folder
                    chosen_vectors = []
                else:
                    raise PlanError(f"{display(profile.path)}: check {config.id}: vectors.ids: {exc}") from None
            if not restrict_vectors and check.catalogue_data and not chosen_vectors:
                skipped.setdefault(check.catalogue_data, []).append(config.id)
                continue
            ctx = PlanContext(config, chosen_vectors, chosen_vendors, fixtures, channels, catalogue.corpus)
            try:
                cells.extend(check.plan(ctx))
            except PlanError as exc:
                raise PlanError(f"{display(profile.path)}: check {config.id}: {exc}") from None
    if skipped and notes is not None:
        n = sum(map(len, skipped.values()))
        notes.append(f"{n} check{'s' if n > 1 else ''} of profile {profile.name} read{'' if n > 1 else 's'} the catalogue's own"
                     f" data, not your files, and {'are' if n > 1 else 'is'} skipped: "
                     + "; ".join(f"{', '.join(ids)} ({what})" for what, ids in skipped.items()))
    seen: set[str] = set()
    for cell in cells:
        cell_id = cell.id
        if cell_id in seen:
            raise PlanError(f"profile {profile.name}: two cells share the id {cell_id}")
        seen.add(cell_id)
    return cells
