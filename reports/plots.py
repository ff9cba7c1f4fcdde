"""Draw the watermark figures of :mod:`reports.figures` as PNG files with matplotlib.

The Agg canvas is chosen here, per figure, rather than through ``pyplot``: no display is
needed or touched, and no global backend state changes for whoever imported us.  Sizes
and resolution are fixed, fonts are matplotlib's bundled DejaVu Sans, and the PNG carries
no "Software" text, so the same numbers give byte-identical files on the same versions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

#: Inches at DPI: the heatmap is 960 x 540 pixels, the ROC 840 x 600.
DPI = 120
HEATMAP_SIZE = (8.0, 4.5)  # the smallest heatmap; a larger grid gets room per square
ROC_SIZE = (9.0, 5.0)  # the plot, and the legend beside it


def heatmap_size(rows: int, columns: int) -> tuple[float, float]:
    """Inches for a grid: about 0.6 in per channel column and 0.7 in per vendor row, so the
    numbers in each square stay legible."""
    return max(HEATMAP_SIZE[0], 2.8 + 0.6 * columns), max(HEATMAP_SIZE[1], 2.6 + 0.7 * rows) if rows > 3 else HEATMAP_SIZE[1]
#: The log axis of a ROC starts here; a false-positive rate of 0 is drawn at it.
FPR_FLOOR = 1e-4
COLORMAP = "viridis"
#: Squares with no rate (error, unsupported, blocked) and squares with no cell.
NO_RATE = "#b8bfc6"
NO_CELL = "#ffffff"
_RC: dict[Any, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "svg.hashsalt": "aiii-interop",  # for anyone saving SVG: stable ids
    "hatch.color": "#ffffff",
    "hatch.linewidth": 1.2,
}
_PNG_METADATA: dict[str, str | None] = {"Software": None}
_STYLES = ("-", "--", "-.", ":")


def _save(figure: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=DPI, format="png", metadata=_PNG_METADATA)
    return path


def _text_colour(rgba: Any) -> str:
    red, green, blue = to_rgb(rgba)
    return "#000000" if 0.299 * red + 0.587 * green + 0.114 * blue > 0.5 else "#ffffff"


def draw_heatmap(data: dict[str, Any], path: Path) -> Path:
    """Embedder x channel squares coloured by detection rate 0..1, each with its numbers."""
    rows, columns = data["rows"], data["columns"]
    values = np.array([[np.nan if v is None else v for v in line] for line in data["values"]], dtype=float)
    values = values.reshape(len(rows), len(columns))
    with mpl.rc_context(_RC):
        figure = Figure(figsize=heatmap_size(len(rows), len(columns)), dpi=DPI, layout="constrained")
        axes = figure.add_subplot()
        cmap = mpl.colormaps[COLORMAP].with_extremes(bad=NO_RATE)
        image = axes.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=0.0, vmax=1.0, aspect="auto")
        colorbar = figure.colorbar(image, ax=axes)
        recognition = data["id"].startswith("recognition-")
        colorbar.set_label("match rate (TPR)" if recognition else "detection rate (TPR)")
        axes.set_xticks(range(len(columns)), labels=columns, rotation=30, ha="right")
        axes.set_yticks(range(len(rows)), labels=rows)
        axes.set_xlabel("channel")
        axes.set_ylabel("fingerprinter (A->B: A's originals, B's channel outputs)" if recognition
                        else "embedder (and its own detector)")
        axes.set_title(data["title"])
        for r in range(len(rows)):
            for c in range(len(columns)):
                outcome = data["outcomes"][r][c]
                if outcome is None:
                    axes.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor=NO_CELL, edgecolor="none"))
                    axes.text(c, r, "—", ha="center", va="center", color="#57606a")
                    continue
                value, trials = data["values"][r][c], data["trials"][r][c]
                if value is None:
                    axes.text(c, r, outcome, ha="center", va="center", color="#24292f")
                    continue
                text = f"{value:.2f}\nn={trials if trials is not None else '?'}"
                if outcome == "inconclusive":
                    text = f"{value:.2f} ?\nn={trials if trials is not None else '?'}"
                    axes.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, hatch="//", edgecolor="#ffffff",
                                             linewidth=0))
                elif outcome == "fail":
                    axes.add_patch(Rectangle((c - 0.46, r - 0.46), 0.92, 0.92, fill=False, edgecolor="#cf222e",
                                             linewidth=2.5))
                colour = _text_colour(image.cmap(image.norm(value)))
                axes.text(c, r, text, ha="center", va="center", color=colour, fontsize=8,
                          bbox={"boxstyle": "round,pad=0.15", "facecolor": "#00000055" if colour == "#ffffff"
                                else "#ffffff66", "edgecolor": "none"} if outcome == "inconclusive" else None)
        legend = [
            Patch(facecolor="#6e7781", hatch="//", edgecolor="#ffffff", label="inconclusive (insufficient evidence) ?"),
            Patch(facecolor="none", edgecolor="#cf222e", linewidth=2, label="fail"),
            Patch(facecolor=NO_RATE, label="no rate: error, unsupported, blocked"),
        ]
        figure.legend(handles=legend, loc="outside lower center", ncols=3, frameon=False, fontsize=8)
        return _save(figure, path)


def draw_roc(data: dict[str, Any], path: Path) -> Path:
    """One ROC curve per channel on a log FPR axis, operating points, the target FPR."""
    with mpl.rc_context(_RC):
        figure = Figure(figsize=ROC_SIZE, dpi=DPI, layout="constrained")
        axes = figure.add_subplot()
        palette = mpl.colormaps["tab10"]
        channels = list(dict.fromkeys([c["channel"] for c in data["curves"]] +
                                      [p["channel"] for p in data["operating_points"]]))
        colour = {channel: palette(index % 10) for index, channel in enumerate(channels)}
        # Styles differ too, so curves that coincide (two perfect channels) stay visible.
        style = {channel: _STYLES[index % len(_STYLES)] for index, channel in enumerate(channels)}
        for curve in data["curves"]:
            fpr = np.clip(np.array(curve["fpr"], dtype=float), FPR_FLOOR, 1.0)
            # Steps, not straight lines: at any FPR the curve shows the TPR that one threshold
            # reaches without exceeding that FPR (a straight line on a log axis would flatter).
            axes.step(fpr, curve["tpr"], where="post", color=colour[curve["channel"]],
                      linestyle=style[curve["channel"]], linewidth=1.6, clip_on=False,
                      marker="." if len(curve["fpr"]) <= 40 else None, markersize=4,
                      label=f"{curve['channel']} (AUC {curve['auc']:.3f})")
        for point in data["operating_points"]:
            axes.plot(max(point["fpr"], FPR_FLOOR), point["tpr"], marker="o", markersize=8, linestyle="none",
                      markeredgecolor="#24292f", color=colour[point["channel"]], clip_on=False, zorder=5)
        targets = sorted({p["target_fpr"] for p in data["operating_points"] if p["target_fpr"]})
        for target in targets:
            axes.axvline(max(target, FPR_FLOOR), color="#cf222e", linestyle="--", linewidth=1,
                         label=f"target FPR {target:g}")
        diagonal = np.logspace(np.log10(FPR_FLOOR), 0, 50)
        axes.plot(diagonal, diagonal, color="#8c959f", linestyle=":", linewidth=1, label="chance")
        if data["operating_points"]:
            axes.plot([], [], marker="o", linestyle="none", color="#ffffff", markeredgecolor="#24292f",
                      label="operating point (cell's threshold)")
        axes.set_xscale("log")
        axes.set_xlim(FPR_FLOOR, 1.0)
        axes.set_ylim(0.0, 1.02)
        axes.set_xlabel(f"false-positive rate (log; 0 drawn at {FPR_FLOOR:g})")
        axes.set_ylabel("true-positive rate")
        axes.set_title(data["title"])
        axes.grid(True, which="major", color="#d0d7de", linewidth=0.6)
        axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7, frameon=False)
        return _save(figure, path)


def draw(data: dict[str, Any], path: Path) -> Path:
    """Draw one entry of ``figure_data`` into ``path``."""
    return draw_heatmap(data, path) if data["kind"] == "heatmap" else draw_roc(data, path)
