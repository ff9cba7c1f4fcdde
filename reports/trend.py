"""Trend plots as inline SVG: a vendor's score in one family across runs.

Drawn here rather than with matplotlib (reports/plots.py draws the watermark figures as
PNG files): a trend is a polyline and a few labels, inline SVG needs no file per plot,
scales with the page, and carries a tooltip per point.  Every text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 640, 180
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 28


@dataclass(frozen=True)
class Point:
    """One run's score (None: nothing judged, drawn as a gap)."""

    label: str  # the run id and date, for the tooltip
    score: float | None
    detail: str  # "120/130 judged, 4 not judged"
    plan_changed: bool = False  # this run's plan digest differs from the point before


def _x(index: int, count: int) -> float:
    span = WIDTH - LEFT - RIGHT
    return LEFT + (span / 2 if count == 1 else span * index / (count - 1))


def _y(score: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - score)


def trend_svg(points: Sequence[Point], title: str) -> str:
    """An SVG line of ``points`` (oldest first) on a 0-100 % axis; gaps where a run judged
    nothing; dashed verticals where the plan changed."""
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="trend" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(title, {chr(34): "&quot;"})}">',
             f"<title>{escape(title)}</title>"]
    for pct in (0, 25, 50, 75, 100):
        y = _y(pct / 100)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d0d7de" stroke-width="1"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#57606a">{pct}%</text>')
    count = len(points)
    for i, point in enumerate(points):
        if point.plan_changed:
            x = _x(i, count)
            parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" stroke="#8250df" '
                         f'stroke-dasharray="4 3"><title>plan changed at {escape(point.label)}</title></line>')
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, point in enumerate(points):
        if point.score is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        segment.append(f"{_x(i, count):.1f},{_y(point.score):.1f}")
    if segment:
        segments.append(segment)
    for seg in segments:
        parts.append(f'<polyline fill="none" stroke="#0969da" stroke-width="2" points="{" ".join(seg)}"/>')
    for i, point in enumerate(points):
        if point.score is not None:
            tip = escape(f"{point.label}: {point.score * 100:.1f}% ({point.detail})")
            parts.append(f'<circle cx="{_x(i, count):.1f}" cy="{_y(point.score):.1f}" r="3.5" fill="#0969da">'
                         f"<title>{tip}</title></circle>")
    if points:
        parts.append(f'<text x="{LEFT}" y="{HEIGHT - 8}" font-size="11" fill="#57606a">{escape(points[0].label)}</text>')
        if count > 1:
            parts.append(f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 8}" text-anchor="end" font-size="11" '
                         f'fill="#57606a">{escape(points[-1].label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
