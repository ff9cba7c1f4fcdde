"""Watermark figures: ROC and heatmap numbers, the bundle's ``figures``, the PNGs and the
pages and tables that show the same numbers."""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from watermark_cells import bundle_with, crosstalk, robustness, robustness_error, watermark_cells

from reports import BundleError, read_bundle, render_all, validate_bundle
from reports.figures import crosstalk_tables, figure_data, roc_curve
from reports.plots import DPI, ROC_SIZE, heatmap_size


def _by_id(figures: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {figure["id"]: figure for figure in figures}


# --- ROC numbers -------------------------------------------------------------------


def test_roc_points_and_area_of_a_hand_computed_case() -> None:
    # Thresholds 3, 2, 1: TPR 1/3, 3/3, 3/3 and FPR 0, 1/2, 2/2.  Of the 6 (marked,
    # clean) pairs the marked one is higher in 4 and tied in 2: AUC = (4 + 2/2) / 6.
    curve = roc_curve([3, 2, 2], [2, 1])
    assert curve["fpr"] == [0.0, 0.0, 0.5, 1.0]
    assert curve["tpr"] == [0.0, 0.333333, 1.0, 1.0]
    assert curve["thresholds"] == [None, 3, 2, 1]
    assert curve["auc"] == pytest.approx(5 / 6, abs=1e-6)
    assert (curve["positives"], curve["negatives"]) == (3, 2)


@pytest.mark.parametrize(
    ("positives", "negatives", "auc"),
    [
        ([32, 31, 30], [17, 15, 19], 1.0),  # separated
        ([15, 16], [30, 31], 0.0),  # inverted
        ([5, 5], [5], 0.5),  # all tied: the diagonal
        ([0.9, 0.4], [0.5, 0.1], 0.75),  # scores: 3 of 4 pairs ordered
    ],
)
def test_roc_area_matches_the_pairwise_count(positives: list[float], negatives: list[float], auc: float) -> None:
    curve = roc_curve(positives, negatives)
    assert curve["auc"] == pytest.approx(auc)
    assert (curve["fpr"][0], curve["tpr"][0]) == (0.0, 0.0) and (curve["fpr"][-1], curve["tpr"][-1]) == (1.0, 1.0)
    assert curve["fpr"] == sorted(curve["fpr"]) and curve["tpr"] == sorted(curve["tpr"])


def test_roc_drops_values_json_cannot_carry_and_needs_both_sides() -> None:
    curve = roc_curve([30, float("nan"), None, True, 28], [16, float("inf")])
    assert (curve["positives"], curve["negatives"]) == (2, 1) and curve["auc"] == 1.0
    assert roc_curve([30, 31], [])["auc"] is None
    json.dumps(curve, allow_nan=False)


# --- heatmap and figure data ----------------------------------------------------------


def test_heatmap_lays_out_vendors_by_channel_with_none_first() -> None:
    cells = [
        robustness("zeta", "jpeg-q50", "pass", seed=1),
        robustness("alpha", "resize-0.5", "inconclusive", trials=6, tpr=0.833, tpr_ci95=[0.436, 0.97], seed=2),
        robustness("zeta", "none", "pass", seed=3),
        robustness_error("alpha", "jpeg-q50"),
    ]
    heatmap = figure_data(cells)[0]
    assert heatmap["id"] == "watermark-robustness-image" and heatmap["kind"] == "heatmap"
    assert heatmap["png"] == "figures/watermark-robustness-image.png"
    assert heatmap["rows"] == ["alpha", "zeta"]
    assert heatmap["columns"] == ["none", "jpeg-q50", "resize-0.5"]
    zeta_jpeg = cells[0]["measurements"]["watermark"]
    assert heatmap["values"] == [[None, None, 0.833], [1.0, zeta_jpeg["tpr"], None]]
    assert heatmap["trials"] == [[None, None, 6], [48, 48, None]]
    assert heatmap["outcomes"] == [[None, "error", "inconclusive"], ["pass", "pass", None]]
    assert heatmap["ci95"][0][2] == [0.436, 0.97]
    assert heatmap["cells"][1][0] == cells[2]["id"]


def test_figures_per_media_kind_and_per_embedder() -> None:
    figures = figure_data(watermark_cells())
    assert [f["id"] for f in figures] == [
        "watermark-robustness-audio",
        "watermark-robustness-image",
        "watermark-roc-acme-mark",
        "watermark-roc-blind-watermark",
        "watermark-roc-voicesign",
    ]
    audio = _by_id(figures)["watermark-robustness-audio"]
    # The unsupported cell measured nothing; its kind comes from the other cells of its corpus.
    assert audio["columns"] == ["none", "mp3-128k", "resample-16k"] and audio["outcomes"][0][2] == "unsupported"
    roc = _by_id(figures)["watermark-roc-blind-watermark"]
    assert [c["channel"] for c in roc["curves"]] == ["none", "jpeg-q50", "resize-0.5"]
    assert [c["statistic"] for c in roc["curves"]] == ["matching bits"] * 3
    resize = next(c for c in watermark_cells() if c["variant"] == "resize-0.5" and c["producer"] == "blind-watermark")
    mark = resize["measurements"]["watermark"]
    assert roc["curves"][2]["auc"] == roc_curve(mark["positives"], mark["negatives"])["auc"] < 1.0
    assert roc["operating_points"][2] == {"channel": "resize-0.5", "fpr": mark["fpr"], "tpr": mark["tpr"],
                                          "threshold": 26, "target_fpr": 0.001}
    # An embedder whose only cell errored has no ROC figure, but keeps its heatmap row.
    (only,) = figure_data([robustness_error("gamma", "none")])
    assert only["kind"] == "heatmap" and only["values"] == [[None]] and only["outcomes"] == [["error"]]


def test_cells_without_an_embedder_have_no_square() -> None:
    orphan = robustness("x", "none", "pass")
    orphan.update(producer=None, id="watermark.robustness/corpus:watermark-image/-/x/none")
    assert figure_data([orphan]) == []
    chained = robustness("a+b", "none", "pass")
    (_, roc) = figure_data([chained])
    assert roc["id"] == "watermark-roc-a_b" and roc["png"] == "figures/watermark-roc-a_b.png"


def test_figure_data_is_deterministic_json_and_empty_without_watermark_cells() -> None:
    cells = watermark_cells()
    cells[0]["measurements"]["watermark"]["tpr"] = float("nan")
    first = json.dumps(figure_data(cells), allow_nan=False, sort_keys=True)
    assert first == json.dumps(figure_data(copy.deepcopy(cells)), allow_nan=False, sort_keys=True)
    assert figure_data(cells)[1]["values"][1][0] is None  # blind-watermark / none: NaN became null
    assert figure_data([c for c in cells if c["check"] != "watermark.robustness"]) == []
    assert figure_data([]) == []


def test_crosstalk_table_per_channel() -> None:
    tables = crosstalk_tables(watermark_cells())
    assert [t["channel"] for t in tables] == ["none", "jpeg-q50"]
    none = tables[0]
    assert none["embedders"] == ["acme-mark", "blind-watermark"] == none["detectors"]
    assert none["squares"][0][0] is None  # a detector is never asked about its own marks here
    assert none["squares"][0][1]["false_detections"] == 2 and none["squares"][0][1]["outcome"] == "fail"


# --- the bundle ------------------------------------------------------------------------


def test_bundle_with_figures_validates_and_round_trips(tmp_path: Path) -> None:
    cells = watermark_cells()
    bundle = bundle_with(cells, figure_data(cells))
    validate_bundle(bundle)
    from reports.bundle import write_bundle

    assert read_bundle(write_bundle(bundle, tmp_path / "results.json")) == bundle
    validate_bundle(bundle_with([], []))
    validate_bundle(bundle_with(cells, None))  # bundles from before figures


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda f: f[1]["values"][0].append(0.5), "$.figures[1].values"),
        (lambda f: f[1]["values"][0].__setitem__(0, 1.5), "$.figures[1].values[0][0]"),
        (lambda f: f[1].update(extra=1), "$.figures[1]"),
        (lambda f: f[1].update(png="../index.png"), "$.figures[1].png"),
        (lambda f: f[1]["cells"][0].__setitem__(0, "watermark.robustness/ghost"), "$.figures[1].cells[0][0]"),
        (lambda f: f[2]["curves"][0]["tpr"].append(1.0), "$.figures[2].curves[0]"),
        (lambda f: f[2]["curves"][0].update(auc=float("nan")), "$.figures[2].curves[0].auc"),
        (lambda f: f[3].update(id=f[2]["id"]), "$.figures[3].id"),
    ],
)
def test_bad_figures_are_rejected_with_their_path(mutate: Any, path: str) -> None:
    cells = watermark_cells()
    figures = figure_data(cells)
    mutate(figures)
    with pytest.raises(BundleError) as caught:
        validate_bundle(bundle_with(cells, figures))
    assert caught.value.path.startswith(path), caught.value


# --- rendering -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path, dict[str, Path]]:
    cells = watermark_cells()
    bundle = bundle_with(cells, figure_data(cells))
    out = tmp_path_factory.mktemp("wm")
    return bundle, out, render_all(bundle, out)


def test_every_figure_is_a_png_of_the_configured_size(rendered: tuple[dict[str, Any], Path, dict[str, Path]]) -> None:
    bundle, out, _ = rendered
    assert sorted(p.name for p in (out / "site" / "figures").iterdir()) == sorted(
        f"{f['id']}.png" for f in bundle["figures"]
    )
    for figure in bundle["figures"]:
        with Image.open(out / "site" / figure["png"]) as image:
            assert image.format == "PNG"
            size = heatmap_size(len(figure["rows"]), len(figure["columns"])) if figure["kind"] == "heatmap" else ROC_SIZE
            assert image.size == (round(size[0] * DPI), round(size[1] * DPI))
            assert "Software" not in image.info
            colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
            assert colours is not None and len(colours) > 50  # drawn, not blank


def test_pngs_are_reproducible(rendered: tuple[dict[str, Any], Path, dict[str, Path]], tmp_path: Path) -> None:
    bundle, out, _ = rendered
    render_all(bundle, tmp_path)
    for figure in bundle["figures"]:
        assert (tmp_path / "site" / figure["png"]).read_bytes() == (out / "site" / figure["png"]).read_bytes()


def test_a_figure_cache_keeps_drawings_by_their_data(rendered: tuple[dict[str, Any], Path, dict[str, Path]],
                                                      tmp_path: Path) -> None:
    bundle, out, _ = rendered
    cache = tmp_path / "figures"
    render_all(bundle, tmp_path / "first", figure_cache=cache)
    kept = sorted(cache.iterdir())
    assert len(kept) == len(bundle["figures"]) and all(p.suffix == ".png" for p in kept)
    for figure in bundle["figures"]:  # drawn once, the same bytes as without a cache
        assert (tmp_path / "first" / "site" / figure["png"]).read_bytes() == (out / "site" / figure["png"]).read_bytes()
    kept[0].write_bytes(b"kept")  # a re-render copies what it kept instead of drawing again
    render_all(bundle, tmp_path / "again", figure_cache=cache)
    assert b"kept" in [(tmp_path / "again" / "site" / f["png"]).read_bytes() for f in bundle["figures"]]
    changed = copy.deepcopy(bundle)  # other data: another key, drawn anew
    changed["figures"][0]["title"] += " (changed)"
    render_all(changed, tmp_path / "changed", figure_cache=cache)
    assert len(list(cache.iterdir())) == len(kept) + 1


def test_heatmap_marks_inconclusive_and_greys_errors(rendered: tuple[dict[str, Any], Path, dict[str, Path]]) -> None:
    bundle, out, _ = rendered
    heatmap = _by_id(bundle["figures"])["watermark-robustness-image"]
    with Image.open(out / "site" / heatmap["png"]) as image:
        pixels = image.convert("RGB")
        # The plot area's squares, found from the grid: sample the middle of each square's
        # left-upper quarter (clear of the annotation text).
        width, height = pixels.size
        left, right, top, bottom = _plot_box(pixels)
        columns, rows = len(heatmap["columns"]), len(heatmap["rows"])

        def quarter(r: int, c: int) -> set[tuple[int, int, int]]:
            x0 = left + (right - left) * c // columns
            y0 = top + (bottom - top) * r // rows
            box = (x0 + 4, y0 + 4, x0 + (right - left) // columns // 3, y0 + (bottom - top) // rows // 3)
            return {pixels.getpixel((x, y)) for x in range(box[0], box[2]) for y in range(box[1], box[3])}

        inconclusive = quarter(0, 1)  # acme-mark / jpeg-q50
        error = quarter(0, 2)  # acme-mark / resize-0.5
        passed = quarter(1, 0)
    assert (255, 255, 255) in inconclusive and len(inconclusive) > 2  # white hatching over the colour
    assert error == {(0xB8, 0xBF, 0xC6)}  # flat grey
    assert len(passed) == 1 and (255, 255, 255) not in passed  # flat colour, no hatching


def _plot_box(image: Image.Image) -> tuple[int, int, int, int]:
    """The heatmap's axes box: the black frame lines matplotlib draws around it (the
    longest dark rows; the first two long dark columns, before the colour bar's)."""
    width, height = image.size

    def dark(x: int, y: int) -> bool:
        return sum(image.getpixel((x, y))) < 60

    rows = [y for y in range(height) if sum(dark(x, y) for x in range(width)) > width // 2]
    columns = [x for x in range(width) if sum(dark(x, y) for y in range(height)) > height // 2]
    left = columns[0]
    right = next(x for x in columns if x > left + 10)
    return left + 1, right, rows[0] + 1, rows[-1]


def test_site_shows_the_figures_with_their_numbers(rendered: tuple[dict[str, Any], Path, dict[str, Path]]) -> None:
    bundle, out, paths = rendered
    index = paths["site"].read_text(encoding="utf-8")
    assert '<section id="watermarks">' in index and "<h2>Watermarks</h2>" in index
    for figure in bundle["figures"]:
        assert f'<img src="{figure["png"]}" alt="' in index
        assert (out / "site" / figure["png"]).is_file()
    assert index.count("<figcaption>") == len(bundle["figures"])
    # The only things the page loads are its own figures, by relative path.
    sources = re.findall(r'(?:src|srcset|data|poster)="([^"]*)"', index)
    assert sorted(sources) == sorted(f["png"] for f in bundle["figures"])
    # The numbers are text too: the inconclusive square, the failed one, an AUC, crosstalk.
    acme_jpeg = next(c for c in bundle["cells"] if c["producer"] == "acme-mark" and c["variant"] == "jpeg-q50")
    mark = acme_jpeg["measurements"]["watermark"]
    lo, hi = mark["tpr_ci95"]
    assert f"TPR {mark['tpr']:.3f} [{lo:.3f}, {hi:.3f}] n=8" in index
    assert "? inconclusive</a>" in index and "✗ fail</a>" in index
    roc = _by_id(bundle["figures"])["watermark-roc-blind-watermark"]
    assert f"<td>{roc['curves'][2]['auc']:.3f}</td>" in index
    assert "2/48" in index and "channel <bdi>jpeg-q50</bdi>" in index


def test_summary_lists_the_watermark_numbers(rendered: tuple[dict[str, Any], Path, dict[str, Path]]) -> None:
    bundle, _, paths = rendered
    summary = paths["summary"].read_text(encoding="utf-8")
    assert "## Watermarks" in summary
    assert "| embedder \\\\ channel | none | jpeg-q50 | resize-0.5 |" in summary
    assert "| acme-mark | ✓ 1.000 [0.926, 1.000] n=48 | ? 0.875" in summary and "| ⚠ error |" in summary
    for figure in bundle["figures"]:
        assert f"`site/{figure['png']}`" in summary
    assert "| acme-mark |  | ✗ 2/48 |" in summary


def test_junit_of_a_watermark_run_is_not_failed_by_inconclusive(
    rendered: tuple[dict[str, Any], Path, dict[str, Path]],
) -> None:
    _, _, paths = rendered
    root = ET.parse(paths["junit"]).getroot()
    # One failed heatmap square and one failed crosstalk pair; the inconclusive one is skipped.
    assert root.get("failures") == "2" and root.get("errors") == "1"
    skipped = [s for s in root.iter("skipped") if s.get("type") == "inconclusive"]
    assert len(skipped) == 1 and skipped[0].get("message", "").startswith("insufficient evidence: detected")


def test_no_watermark_cells_no_figures_and_stale_ones_go(tmp_path: Path) -> None:
    cells = watermark_cells()
    render_all(bundle_with(cells, figure_data(cells)), tmp_path)
    assert len(list((tmp_path / "site" / "figures").glob("*.png"))) == 5
    plain = [robustness_error("x", "none", "unsupported")]
    plain[0].update(check="metadata.roundtrip", id="metadata.roundtrip/v/x/x/none")
    paths = render_all(bundle_with(plain, figure_data(plain)), tmp_path)
    assert list((tmp_path / "site" / "figures").glob("*.png")) == []
    assert "Watermarks" not in paths["site"].read_text(encoding="utf-8")
    assert "Watermarks" not in paths["summary"].read_text(encoding="utf-8")


def test_crosstalk_alone_gives_tables_but_no_figures(tmp_path: Path) -> None:
    cells = [crosstalk("a", "b", "none", 0), crosstalk("b", "a", "none", 3, outcome="fail")]
    bundle = bundle_with(cells, figure_data(cells))
    assert bundle["figures"] == []
    paths = render_all(bundle, tmp_path)
    index = paths["site"].read_text(encoding="utf-8")
    assert "Crosstalk" in index and "3/48" in index and "<img" not in index
    assert not (tmp_path / "site" / "figures").exists()
