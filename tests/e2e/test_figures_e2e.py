"""Watermark figures: ROC and heatmap numbers, the bundle's ``figures``, the PNGs and the
pages and tables that show the same numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from watermark_cells import bundle_with, watermark_cells

from reports import validate_bundle
from reports.figures import figure_data
from runner.model import Cell, CellResult, Level, Outcome
from runner.run import build_bundle
from runner.store import ResultsStore

# --- ROC numbers -------------------------------------------------------------------


# --- heatmap and figure data ----------------------------------------------------------


# --- the bundle ------------------------------------------------------------------------


def _result(cell: dict[str, Any], level: Level = Level.SHOULD) -> CellResult:
    model = Cell(check=cell["check"], level=level, vector=cell["vector"], producer=cell["producer"], consumer=cell["consumer"], variant=cell["variant"])
    return CellResult(model, Outcome(cell["outcome"]), cell["reason"], cell["measurements"], {}, None, 1.5,
                      cell["finished"])


def test_build_bundle_from_the_store_carries_the_figures(tmp_path: Path) -> None:
    cells = watermark_cells()
    store = ResultsStore(tmp_path / "s.sqlite")
    try:
        store.create_run("r1", "watermark", {}, "2026-11-22T03:00:00Z")
        shell = bundle_with(cells, None)
        store.set_info("r1", {key: shell[key] for key in ("vendors", "checks", "vectors")}
                       | {"catalogue_sha256": shell["run"]["catalogue_sha256"]})
        for cell in cells:  # the inconclusive one at MUST: still no MUST failure
            store.record("r1", _result(cell, Level.MUST if cell["outcome"] == "inconclusive" else Level.SHOULD))
        store.finish_run("r1", "2026-11-22T03:10:00Z", "complete")
        bundle = build_bundle(store, "r1")
        empty = tmp_path / "empty.sqlite"
        other = ResultsStore(empty)
        other.create_run("r2", "p", {}, "2026-11-22T03:00:00Z")
        assert build_bundle(other, "r2")["figures"] == []
        other.close()
    finally:
        store.close()
    validate_bundle(bundle)
    assert bundle["figures"] == figure_data(bundle["cells"])
    assert [f["id"] for f in bundle["figures"]][:2] == ["watermark-robustness-audio", "watermark-robustness-image"]
    assert bundle["summary"]["outcomes"]["inconclusive"] == 1 and bundle["summary"]["must_failures"] == 0


# --- rendering -------------------------------------------------------------------------
