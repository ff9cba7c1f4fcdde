"""Badges: a shields.io endpoint JSON and a static SVG per vendor and family.

The JSON follows shields.io's endpoint schema (``schemaVersion`` 1, ``label``,
``message``, ``color``), so ``https://img.shields.io/endpoint?url=...`` draws it; the SVG
is drawn here, flat, for readers with no network.  Labels come from vendor ids and
family names (both constrained to ``[a-z0-9._-]``), messages from numbers; both are
XML-escaped anyway.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reports.site_scores import percent_of

#: (lowest score, shields colour name, hex) from best to worst.
COLOURS = ((0.95, "brightgreen", "#4c1"), (0.80, "green", "#97ca00"), (0.60, "yellow", "#dfb317"),
           (0.40, "orange", "#fe7d37"), (0.0, "red", "#e05d44"))
NO_SCORE = ("lightgrey", "#9f9f9f")


def colour(score: float | None) -> tuple[str, str]:
    """The shields colour name and its hex for a score in [0, 1] (None: nothing judged)."""
    if score is None:
        return NO_SCORE
    return next((name, hexa) for low, name, hexa in COLOURS if score >= low)


def message(score: dict[str, Any], as_of: str | None = None) -> str:
    """``92% (120/130)``, or ``no judged cells``; ``as_of`` adds "as of DATE" for a
    badge whose vendor is not in the latest run any more."""
    if score.get("score") is None:
        text = "no judged cells"
    else:
        text = f"{percent_of(score['working'], score['judged'])} ({score['working']}/{score['judged']})"
    return f"{text}, as of {as_of}" if as_of else text


def endpoint(label: str, score: dict[str, Any], as_of: str | None = None) -> dict[str, Any]:
    """The shields.io endpoint JSON of one badge."""
    return {"schemaVersion": 1, "label": label, "message": message(score, as_of), "color": colour(score.get("score"))[0]}


def _width(text: str) -> int:
    """Roughly the width of ``text`` in 11 px Verdana (what shields measures)."""
    narrow = sum(ch in "ijlt.,:;!|()/ '" for ch in text)
    return int(7 * (len(text) - narrow) + 3.5 * narrow) + 10


def svg(label: str, text: str, hexa: str) -> str:
    """A flat badge: ``label`` on grey, ``text`` on ``hexa``."""
    left, right = _width(label), _width(text)
    total = left + right
    label_x, text_x = left / 2, left + right / 2
    safe_label, safe_text = escape(label), escape(text)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" '
        f'aria-label="{escape(label, {chr(34): "&quot;"})}: {escape(text, {chr(34): "&quot;"})}">'
        f"<title>{safe_label}: {safe_text}</title>"
        f'<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
        f'<stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{left}" height="20" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{hexa}"/>'
        f'<rect width="{total}" height="20" fill="url(#s)"/></g>'
        f'<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{label_x}" y="15" fill="#010101" fill-opacity=".3">{safe_label}</text>'
        f'<text x="{label_x}" y="14">{safe_label}</text>'
        f'<text x="{text_x}" y="15" fill="#010101" fill-opacity=".3">{safe_text}</text>'
        f'<text x="{text_x}" y="14">{safe_text}</text></g></svg>\n'
    )


def write_badge(base: Path, label: str, score: dict[str, Any], as_of: str | None = None) -> dict[str, Any]:
    """Write ``base.json`` (shields endpoint) and ``base.svg``; return the JSON.  Files are
    only rewritten when their content changes, and never deleted here."""
    doc = endpoint(label, score, as_of)
    base.parent.mkdir(parents=True, exist_ok=True)
    _write_if_changed(base.with_suffix(".json"), json.dumps(doc, indent=1, sort_keys=True) + "\n")
    _write_if_changed(base.with_suffix(".svg"), svg(label, doc["message"], colour(score.get("score"))[1]))
    return doc


def _write_if_changed(path: Path, text: str) -> None:
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except OSError:
        pass
    path.write_text(text, encoding="utf-8")
