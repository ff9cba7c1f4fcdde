"""Renderers for a run's result bundle: JSON, JUnit XML, Markdown summary, HTML site.

Everything here takes the bundle as a plain dict (see ``schemas/bundle.schema.json``)
and never imports the runner's transports or the checks' internals.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reports.bundle import BundleError, read_bundle, validate_bundle, write_bundle
from reports.html import render_site
from reports.junit import write_junit
from reports.markdown import write_summary

__all__ = [
    "BundleError",
    "read_bundle",
    "render_all",
    "render_site",
    "validate_bundle",
    "write_bundle",
    "write_junit",
    "write_summary",
]


def render_all(bundle: dict[str, Any], out_dir: Path, *, validate: bool = True,
               nav: list[tuple[str, str]] | None = None, figure_cache: Path | None = None) -> dict[str, Path]:
    """Validate ``bundle`` once (unless the caller just did) and write every report under ``out_dir``.

    Returns the written paths: ``results``, ``junit``, ``summary`` and ``site``
    (the site's index page; its other pages sit beside it).  ``figure_cache``: see
    :func:`render_site`.
    """
    out_dir = Path(out_dir)
    write_bundle(bundle, out_dir / "results.json", validate=validate)
    return {
        "results": out_dir / "results.json",
        "junit": write_junit(bundle, out_dir / "junit.xml", validate=False),
        "summary": write_summary(bundle, out_dir / "summary.md", validate=False),
        "site": render_site(bundle, out_dir / "site", validate=False, nav=nav, figure_cache=figure_cache),
    }
