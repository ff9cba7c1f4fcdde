"""A big plan stays small (issue 15): the round trip's memoised plan is the plain one, cell
for cell; shared steps and contexts are one object, and so is every equal params or context
JSON of a plan; cells still pickle; the plan digest hashes a long list of cell ids a chunk at
a time to the same value."""

from __future__ import annotations

import dataclasses
import os
import pickle
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from aiii_kit.metadata import METADATA_FIELDS

from conformance.fields import FieldRoundTrip, RoundTripContext, declared_fields, normalisations
from runner.check import PlanContext
from runner.model import Cell, Level, Step, VendorManifest, canonical_json, planned, sharing_json, vendor_step
from runner.plan_digest import _CHUNK, _sha256
from runner.run import Run, RunOptions


def _plain_plan(check: FieldRoundTrip, ctx: PlanContext) -> Iterator[Cell]:
    """The round trip's plan as it read before it shared steps and contexts: the reference."""
    sets = check.chosen_sets(ctx)
    writers, readers = ctx.with_op("metadata.write"), ctx.with_op("metadata.read")
    for vector in ctx.vectors:
        mt = vector.media_type
        for w in writers:
            for r in readers:
                can_w, can_r = bool(w.capability("metadata.write", mt)), bool(r.capability("metadata.read", mt))
                if not (can_w or can_r):
                    continue
                for name, chosen in sets.items():
                    cell = check.cell(ctx, vector=vector.id, producer=w.id, consumer=r.id, variant=name)
                    if not (can_w and can_r):
                        side = f"{w.id} does not write" if not can_w else f"{r.id} does not read"
                        yield planned(cell, f"{side} metadata in {mt}")
                        continue
                    fields = declared_fields(w, "metadata.write", mt) & declared_fields(r, "metadata.read", mt)
                    values = {f: v for f, v in chosen.items() if f in fields}
                    written = vendor_step(w.id, "metadata.write", vector.id, {"fields": values})
                    read = vendor_step(r.id, "metadata.read", written, {})
                    context = RoundTripContext(
                        expected=values,
                        passes=sorted(set(normalisations(w, "metadata.write", mt)) | set(normalisations(r, "metadata.read", mt))),
                        undeclared=sorted(set(METADATA_FIELDS) - fields),
                    )
                    yield planned(cell, steps={"written": written, "read": read}, context=context)


@pytest.fixture(scope="module")
def metadata_run(home: Path) -> Iterator[Run]:
    """The metadata profile planned with every vendor of the repository (none started)."""
    from conformance.discovery import discover

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIII_HOME", str(home))
        yield Run(RunOptions(profile="metadata", vendors=["*"], out=os.devnull), discover())


def _with_narrow_vendors(run: Run) -> dict[str, VendorManifest]:
    """The run's vendors and two that declare fewer fields and their own normalisations, so
    the cells of one writer and vector differ by reader in what is written and expected."""
    base = run.manifests["exiv2"]

    def narrow(vid: str, fields: list[str], passes: list[str]) -> VendorManifest:
        caps = tuple(dataclasses.replace(c, options={**c.options, "fields": fields, "normalisation": passes})
                     for c in base.capabilities)
        return dataclasses.replace(base, id=vid, capabilities=caps)

    return {**run.manifests, "narrow-a": narrow("narrow-a", ["creator", "title"], ["strip", "nfc"]),
            "narrow-b": narrow("narrow-b", ["creator", "title", "description"], ["nfc", "strip"])}


def _contexts(run: Run) -> Iterable[tuple[FieldRoundTrip, PlanContext]]:
    vendors = _with_narrow_vendors(run)
    for config in run.profile.checks:
        check = run.suite.checks[config.id]
        if isinstance(check, FieldRoundTrip):
            sel = config.vectors
            vectors = run.catalogue.select(tags_any=sel.tags_any, tags_all=sel.tags_all, tags_none=sel.tags_none,
                                           media_types=sel.media_types, ids=sel.ids,
                                           limit_per_media_type=sel.limit_per_media_type)
            yield check, PlanContext(config, vectors, vendors, run.fixtures)


def test_the_shared_round_trip_plan_is_the_plain_one_cell_for_cell(metadata_run: Run) -> None:
    checked = 0
    for check, ctx in _contexts(metadata_run):
        got, want = list(check.plan(ctx)), list(_plain_plan(check, ctx))
        assert [c.id for c in got] == [c.id for c in want]
        assert got == want  # every field: steps, params, context, preset
        kinds = {(c.preset is None, c.context_json == "{}") for c in got}
        assert (True, False) in kinds and (False, True) in kinds, "both runnable and unsupported cells compared"
        checked += len(got)
    assert checked > 500


def test_cells_share_a_writer_s_step_and_every_value_s_params_and_context(metadata_run: Run) -> None:
    check, ctx = next(iter(_contexts(metadata_run)))
    cells = [c for c in check.plan(ctx) if c.preset is None]
    by_write: dict[Step, set[int]] = {}
    by_params: dict[str, set[int]] = {}
    by_context: dict[str, set[int]] = {}
    for c in cells:
        by_write.setdefault(c.steps["written"], set()).add(id(c.steps["written"]))
        by_params.setdefault(c.steps["written"].params_json, set()).add(id(c.steps["written"].params_json))
        by_context.setdefault(c.context_json, set()).add(id(c.context_json))
        assert c.steps["read"].source is c.steps["written"]
    for shared in (by_write, by_params, by_context):
        assert all(len(ids) == 1 for ids in shared.values())
    assert len(by_params) < len(by_write) < len(cells) and len(by_context) < len(cells)


def test_equal_params_and_contexts_of_a_plan_are_one_string(home: Path) -> None:
    """Checks that make a step's params or a context anew for each cell (the provenance
    family's trust anchor in every read) still hold each equal JSON once."""
    from conformance.discovery import discover

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIII_HOME", str(home))
        cells = Run(RunOptions(profile="provenance", vendors=["*"], out=os.devnull), discover()).cells
    held: dict[str, set[int]] = {}
    for cell in cells:
        held.setdefault(cell.context_json, set()).add(id(cell.context_json))
        for step in cell.steps.values():
            while isinstance(step, Step):
                held.setdefault(step.params_json, set()).add(id(step.params_json))
                step = step.source
    assert len(held) > 20 and all(len(ids) == 1 for ids in held.values())
    a, b = ({"anchor": "-----BEGIN CERTIFICATE-----" + "x" * 40},) * 2
    with sharing_json():
        assert vendor_step("v", "provenance.read", "x", a).params_json is vendor_step("w", "r", "y", dict(b)).params_json


def test_cells_and_their_shared_steps_pickle() -> None:
    written = vendor_step("a", "metadata.write", "v1", {"fields": {"title": "T" * 1000}})
    cells = [Cell(check="metadata.roundtrip", level=Level.MUST, vector="v1", producer="a", consumer=r, variant="long",
                  steps={"written": written, "read": vendor_step(r, "metadata.read", written)}, context_json='{"x":1}')
             for r in ("b", "c")]
    again = pickle.loads(pickle.dumps(cells))
    assert again == cells and [c.id for c in again] == [c.id for c in cells]
    assert again[0].steps["written"] is again[1].steps["written"]  # one object, pickled once
    assert vendor_step("b", "metadata.read", written).params_json == "{}" == vendor_step("b", "x", "v", {}).params_json


@pytest.mark.parametrize("n", [0, 1, _CHUNK - 1, _CHUNK, _CHUNK + 1, 2 * _CHUNK + 3])
def test_a_long_list_is_hashed_in_chunks_to_the_one_shot_digest(n: int) -> None:
    import hashlib

    ids = [f"metadata.roundtrip/v{i}/ü-{i % 7}/\"b\"/ascii" for i in range(n)]
    assert _sha256(ids) == hashlib.sha256(canonical_json(ids).encode()).hexdigest()
