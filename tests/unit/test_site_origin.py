"""Origin on the site: a cell assembled from a pack and this run's own work shows its
chain on its page and a mark on the scorecard; a bundle without origins shows neither."""

from __future__ import annotations

from pathlib import Path

from report_bundle import make_bundle

from reports.bundle import validate_bundle
from reports.html import cell_page, render_site

KEYID = "3b44a43e04cdf232" + "0" * 48


def _origin(participant: str, run: str, keyid: str | None = None, pack: str | None = None) -> dict[str, object]:
    return {"participant": participant, "run": run, "placement": "inproc", "keyid": keyid,
            "verified": True if keyid else None, **({"pack": pack} if pack else {})}


def test_an_assembled_cell_shows_its_chain_and_is_marked(tmp_path: Path) -> None:
    bundle = make_bundle()
    cell = bundle["cells"][0]
    cell["origin"] = {"written": _origin("acme", "r-acme", KEYID, "pack-acme.tar"), "read": _origin("hub", "r-hub")}
    validate_bundle(bundle)
    render_site(bundle, tmp_path)
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert index.count('class="assembled" href=') == 1 and "several participants' work" in index
    page = (tmp_path / cell_page(cell["id"])).read_text(encoding="utf-8")
    assert "<h2>Origin" in page and "pack-acme.tar" in page and KEYID[:16] in page and "r-hub" in page


def test_a_bundle_without_origins_has_no_marks(tmp_path: Path) -> None:
    bundle = make_bundle()
    render_site(bundle, tmp_path)
    assert 'class="assembled"' not in (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "<h2>Origin" not in (tmp_path / cell_page(bundle["cells"][0]["id"])).read_text(encoding="utf-8")
