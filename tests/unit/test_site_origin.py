"""Origin on the site: a cell assembled from a pack and this run's own work shows its
chain on its page and a mark on the scorecard; a bundle without origins shows neither."""

from __future__ import annotations

from pathlib import Path

from report_bundle import cell_detail, make_bundle

from reports.bundle import validate_bundle
from reports.html import check_page, render_site

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
    assert "several participants' work" in (tmp_path / "index.html").read_text(encoding="utf-8")
    matrix = (tmp_path / check_page(cell["check"])).read_text(encoding="utf-8")
    assert matrix.count('class="assembled" href=') == 1
    detail = cell_detail(tmp_path, cell["id"])
    assert "Origin: " in detail and "pack-acme.tar" in detail and KEYID[:16] in detail and "r-hub" in detail
    assert 'class="assembled"' in detail


def test_a_bundle_without_origins_has_no_marks(tmp_path: Path) -> None:
    bundle = make_bundle()
    render_site(bundle, tmp_path)
    for page in tmp_path.rglob("*.html"):
        assert 'class="assembled"' not in page.read_text(encoding="utf-8")
    assert "Origin: " not in cell_detail(tmp_path, bundle["cells"][0]["id"])
