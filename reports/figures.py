"""The numbers behind the figures: robustness heatmaps, ROC curves, crosstalk.

Pure functions of a bundle's cells (no plotting here; :mod:`reports.plots` draws), so
the same numbers go into the bundle's ``figures``, the PNGs, and the text tables that
say in words what the pictures show.

- ``watermark.robustness`` cells (one per embedder and channel, the embedder's own
  detector as consumer) carry ``measurements.watermark``: the detection rate over the
  corpus after the channel, and the detection statistic on every marked (``positives``)
  and clean (``negatives``) trial.  They give one heatmap per media kind (embedder x
  channel, the TPR in each square) and one ROC figure per embedder (one curve per channel).
- ``watermark.crosstalk`` cells (embedder E, another vendor's detector D) carry
  ``measurements.crosstalk``: how often D claims E's marks as its own, per channel.
- ``recognition.robustness`` cells carry ``measurements.recognition`` of the same shape
  (the statistic is a fingerprint similarity, a "detection" a match), with ``row`` naming
  the implementation (or the pair A->B) and algorithm; they give the same two figures.
"""

from __future__ import annotations

import math
import re
from typing import Any

ROBUSTNESS_CHECK = "watermark.robustness"
#: Checks whose cells give robustness figures -> the family, which is also their
#: measurements' key and their figure ids' prefix.
ROBUSTNESS_CHECKS = {ROBUSTNESS_CHECK: "watermark", "recognition.robustness": "recognition"}
CROSSTALK_CHECK = "watermark.crosstalk"
#: The variant of a cell whose asset went through no channel.
NO_CHANNEL = "none"
#: Digits kept for rates and areas, so the bundle shows no float noise.
DIGITS = 6

_UNSAFE = re.compile(r"[^a-z0-9_-]+")


def _number(value: Any) -> float | None:
    """``value`` as a finite float, or None (JSON has no NaN; booleans are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _rate(value: Any) -> float | None:
    number = _number(value)
    return None if number is None else round(number, DIGITS)


def _interval(value: Any) -> list[float] | None:
    if not isinstance(value, list | tuple) or len(value) != 2:
        return None
    low, high = (_rate(v) for v in value)
    return None if low is None or high is None else [low, high]


def _plain(value: Any) -> int | float | None:
    """A finite statistic value, as an int when it is whole (matching bits are counts)."""
    number = _number(value)
    return int(number) if number is not None and number.is_integer() else number


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _slug(text: str) -> str:
    """A file-name-safe form of a media kind (``image``, ``audio``)."""
    return _UNSAFE.sub("-", text.lower()).strip("-") or "unknown"


def _watermark(cell: dict[str, Any]) -> dict[str, Any] | None:
    """A robustness cell's statistics (``measurements.watermark`` or ``.recognition``)."""
    key = ROBUSTNESS_CHECKS.get(cell.get("check", ""), "watermark")
    value = cell["measurements"].get(key) if isinstance(cell.get("measurements"), dict) else None
    return value if isinstance(value, dict) else None


def _row(cell: dict[str, Any]) -> str:
    """A cell's row in the figures: its statistics' ``row`` if they name one, else the producer."""
    row = (_watermark(cell) or {}).get("row")
    return row if isinstance(row, str) and row else str(cell["producer"])


def _channel(cell: dict[str, Any]) -> str:
    """The cell's channel: its statistics' (a recognition variant is "algorithm/channel"),
    else its variant."""
    named = (_watermark(cell) or {}).get("channel") if cell.get("check") != ROBUSTNESS_CHECK else None
    return named if isinstance(named, str) and named else (cell["variant"] or NO_CHANNEL)


def _ordered_channels(channels: list[str]) -> list[str]:
    """Channels in the order first seen, without repeats, ``none`` first."""
    seen = list(dict.fromkeys(channels))
    return ([NO_CHANNEL] if NO_CHANNEL in seen else []) + [c for c in seen if c != NO_CHANNEL]


def _media_kinds(cells: list[dict[str, Any]]) -> dict[str, str]:
    """Cell id -> media kind.  A cell without measurements (an error) takes the kind of
    another cell on the same corpus, else the corpus id's last word (``corpus:watermark-image``)."""
    by_vector: dict[str, str] = {}
    for cell in cells:
        mark = _watermark(cell)
        if mark is not None and isinstance(mark.get("kind"), str):
            by_vector.setdefault(cell["vector"], _slug(mark["kind"]))
    kinds = {}
    for cell in cells:
        mark = _watermark(cell)
        if mark is not None and isinstance(mark.get("kind"), str):
            kinds[cell["id"]] = _slug(mark["kind"])
        else:
            kinds[cell["id"]] = by_vector.get(cell["vector"], _slug(cell["vector"].rsplit("-", 1)[-1]))
    return kinds


def roc_curve(positives: list[Any], negatives: list[Any]) -> dict[str, Any]:
    """The ROC of a statistic where "detected" means statistic >= threshold.

    Every distinct observed value is a threshold, highest first; the curve starts at
    (0, 0) (a threshold above every value, recorded as ``None``) and ends at (1, 1) (the
    lowest value).  ``auc`` is the trapezoid area, so a tie between a marked and a clean
    trial counts half.  Non-finite values are left out; ``None`` when a side is empty.
    """
    pos = sorted((v for v in map(_number, positives) if v is not None), reverse=True)
    neg = sorted((v for v in map(_number, negatives) if v is not None), reverse=True)
    if not pos or not neg:
        return {"fpr": [], "tpr": [], "thresholds": [], "auc": None, "positives": len(pos), "negatives": len(neg)}
    fpr, tpr = [0.0], [0.0]
    thresholds: list[float | None] = [None]
    i = j = 0
    for threshold in sorted(set(pos) | set(neg), reverse=True):
        while i < len(pos) and pos[i] >= threshold:
            i += 1
        while j < len(neg) and neg[j] >= threshold:
            j += 1
        fpr.append(j / len(neg))
        tpr.append(i / len(pos))
        thresholds.append(threshold)
    auc = sum((fpr[k] - fpr[k - 1]) * (tpr[k] + tpr[k - 1]) / 2 for k in range(1, len(fpr)))
    return {
        "fpr": [round(v, DIGITS) for v in fpr],
        "tpr": [round(v, DIGITS) for v in tpr],
        "thresholds": [_plain(t) for t in thresholds],
        "auc": round(auc, DIGITS),
        "positives": len(pos),
        "negatives": len(neg),
    }


def _heatmap(kind: str, cells: list[dict[str, Any]], family: str = "watermark") -> dict[str, Any]:
    rows = sorted({_row(cell) for cell in cells})
    columns = _ordered_channels([_channel(cell) for cell in cells])
    at = {(_row(cell), _channel(cell)): cell for cell in cells}  # one cell per square

    def grid(read: Any) -> list[list[Any]]:
        return [[read(at[(r, c)]) if (r, c) in at else None for c in columns] for r in rows]

    def mark(cell: dict[str, Any], key: str) -> Any:
        return (_watermark(cell) or {}).get(key)

    return {
        "id": f"{family}-robustness-{kind}",
        "kind": "heatmap",
        "title": (f"Watermark robustness ({kind}): detection rate after each channel" if family == "watermark" else
                  f"Recognition robustness ({kind}): match rate after each channel at the calibrated threshold"),
        "media_kind": kind,
        "rows": rows,
        "columns": columns,
        "values": grid(lambda cell: _rate(mark(cell, "tpr"))),
        "ci95": grid(lambda cell: _interval(mark(cell, "tpr_ci95"))),
        "trials": grid(lambda cell: _count(mark(cell, "trials"))),
        "outcomes": grid(lambda cell: cell["outcome"]),
        "cells": grid(lambda cell: cell["id"]),
        "png": f"figures/{family}-robustness-{kind}.png",
    }


def _roc(vendor: str, cells: list[dict[str, Any]], kinds: dict[str, str], family: str = "watermark"
         ) -> dict[str, Any] | None:
    several_kinds = len({kinds[cell["id"]] for cell in cells}) > 1
    curves, points = [], []
    for cell in cells:
        mark = _watermark(cell)
        if mark is None:
            continue
        channel = _channel(cell)
        label = f"{kinds[cell['id']]}: {channel}" if several_kinds else channel
        curve = roc_curve(mark.get("positives") or [], mark.get("negatives") or [])
        if curve["auc"] is not None:
            statistic = mark.get("statistic")
            curves.append({"channel": label, "statistic": statistic if isinstance(statistic, str) else None,
                           "outcome": cell["outcome"], **curve})
        raw = mark.get("threshold")
        threshold: dict[str, Any] = raw if isinstance(raw, dict) else {}
        point = {
            "channel": label,
            "fpr": _rate(mark.get("fpr")),
            "tpr": _rate(mark.get("tpr")),
            "threshold": _plain(threshold.get("value")),
            "target_fpr": _number(threshold.get("target_fpr")),
        }
        if point["fpr"] is not None and point["tpr"] is not None:
            points.append(point)
    if not curves and not points:
        return None
    name = vendor.replace("+", "_")  # a chain of producers, in a file name
    if family != "watermark":  # rows like "pdqhash->rust-recognition pdq"
        name = _UNSAFE.sub("-", vendor.lower().replace("->", "-to-")).strip("-")
    title = (f"Watermark ROC of {vendor}: its own detector, per channel" if family == "watermark" else
             f"Recognition ROC of {vendor}: originals against channel outputs, per channel")
    return {
        "id": f"{family}-roc-{name}",
        "kind": "roc",
        "title": title,
        "vendor": vendor,
        "curves": curves,
        "operating_points": points,
        "png": f"figures/{family}-roc-{name}.png",
    }


def figure_data(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per figure: per robustness check (watermark, then recognition), a heatmap
    per media kind, then a ROC per embedder (recognition: per implementation or pair).

    Deterministic for the same cells (in the same order); empty when no cell is of a
    robustness check; never NaN.
    """
    figures: list[dict[str, Any]] = []
    for check, family in ROBUSTNESS_CHECKS.items():
        # A square needs an embedder; a cell without one (never planned so) has no place.
        robust = [cell for cell in cells if cell["check"] == check and cell["producer"]]
        if not robust:
            continue
        kinds = _media_kinds(robust)
        by_kind: dict[str, list[dict[str, Any]]] = {}
        by_vendor: dict[str, list[dict[str, Any]]] = {}
        for cell in robust:
            by_kind.setdefault(kinds[cell["id"]], []).append(cell)
            by_vendor.setdefault(_row(cell), []).append(cell)
        figures += [_heatmap(kind, by_kind[kind], family) for kind in sorted(by_kind)]
        for vendor in sorted(by_vendor):
            roc = _roc(vendor, by_vendor[vendor], kinds, family)
            if roc is not None:
                figures.append(roc)
    return figures


def roc_rows(figure: dict[str, Any]) -> list[tuple[str, dict[str, Any] | None, dict[str, Any] | None]]:
    """A ROC figure's channels with the curve and the operating point of each (None when absent)."""
    curves = {curve["channel"]: curve for curve in figure["curves"]}
    points = {point["channel"]: point for point in figure["operating_points"]}
    return [(channel, curves.get(channel), points.get(channel)) for channel in dict.fromkeys([*curves, *points])]


def crosstalk_tables(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per channel, an embedder x detector table of false detections (``k/n``)."""
    cross = [cell for cell in cells if cell["check"] == CROSSTALK_CHECK]
    tables = []
    for channel in _ordered_channels([_channel(cell) for cell in cross]):
        in_channel = [cell for cell in cross if _channel(cell) == channel]
        rows = sorted({cell["producer"] or "-" for cell in in_channel})
        columns = sorted({cell["consumer"] or "-" for cell in in_channel})
        at = {(cell["producer"] or "-", cell["consumer"] or "-"): cell for cell in in_channel}
        squares: list[list[dict[str, Any] | None]] = []
        for row in rows:
            line: list[dict[str, Any] | None] = []
            for column in columns:
                cell = at.get((row, column))
                if cell is None:
                    line.append(None)
                    continue
                data = cell["measurements"].get("crosstalk")
                data = data if isinstance(data, dict) else {}
                line.append({
                    "cell": cell["id"],
                    "outcome": cell["outcome"],
                    "trials": _count(data.get("trials")),
                    "false_detections": _count(data.get("false_detections")),
                    "rate": _rate(data.get("rate")),
                    "rate_ci95": _interval(data.get("rate_ci95")),
                })
            squares.append(line)
        tables.append({"channel": channel, "embedders": rows, "detectors": columns, "squares": squares})
    return tables
