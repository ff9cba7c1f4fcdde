"""The history side of the published site: the landing page, the run list, each run's
diff and each vendor's page over time (templates in ``templates/history/``).

The pages are rendered from plain dicts that runner/publish.py gathers from the
history store; nothing here reads a store.  Jinja2 autoescapes everything, and every
untrusted string goes through the ``v`` filter (hidden characters shown as escapes, the
text's direction isolated in ``<bdi>``).  File names are run ids and vendor ids (both
constrained by the ingest and the bundle schema), never free text; links are relative.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from reports.score import METHOD
from reports.site_scores import percent_of
from reports.text import shorten, visible_html

TEMPLATES = Path(__file__).with_name("templates") / "history"


def _v(value: Any, limit: int | None = None) -> Markup:
    """Filter: untrusted one-line text, escaped, hidden characters visible, direction isolated."""
    text = "" if value is None else str(value)
    if limit is not None:
        text = shorten(text, limit)
    return Markup(f"<bdi>{visible_html(text)}</bdi>")  # visible_html has escaped it


def web_link(url: Any) -> str | None:
    """``url`` when it is safe to link to (http or https), else None."""
    return url if isinstance(url, str) and url.lower().startswith(("https://", "http://")) else None


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                      auto_reload=False, trim_blocks=True, lstrip_blocks=True)
    env.filters["v"] = _v
    env.globals.update(method=METHOD, percent_of=percent_of)
    return env


class Pages:
    """Writes the history pages into a site folder; one environment for them all."""

    def __init__(self, site: Path, run_count: int) -> None:
        self.site = site
        self.env = environment()
        self.env.globals.update(run_count=run_count)
        self.written: list[str] = []

    def write(self, relative: str, template: str, **context: Any) -> Path:
        """Render ``template`` to ``site/relative``; ``root`` leads back to the site's top."""
        root = "../" * relative.count("/")
        html = self.env.get_template(template).render(root=root, **context)
        target = self.site / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
        self.written.append(relative)
        return target
