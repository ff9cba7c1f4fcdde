"""A report bundle for the report tests: hostile strings, every outcome, an expectation, an
artifact; shared by tests/unit/test_reports.py and tests/unit/test_site.py."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path
from typing import Any

from reports.html import cell_page

SCRIPT = "<script>alert(1)</script>"
RLO = "\u202e"
LONG = "A" * 10_000 + "END-OF-LONG"
RETENTION = "Uploaded files are deleted within 24 hours; nothing is used for training."
INCONCLUSIVE_REASON = "detection rate 9/10, 95% CI [0.555, 0.997]: 10 trials cannot show >= 0.9"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _vendor(vid: str, name: str, **extra: Any) -> dict[str, Any]:
    vendor = {
        "id": vid,
        "name": name,
        "organisation": f"{name} Ltd",
        "version": "1.0.0",
        "transport": "inproc",
        "role": "participant",
        "runnable": True,
        "reason": None,
        "capabilities": [
            {"operation": "metadata.write", "media_types": ["image/jpeg"], "options": {}},
            {"operation": "metadata.read", "media_types": ["image/jpeg", "image/png"], "options": {"xmp": True}},
        ],
        "retention": None,
        "homepage": None,
    }
    vendor.update(extra)
    return vendor


def _cell(
    check: str, vector: str, producer: str | None, consumer: str | None, outcome: str, reason: str, **extra: Any
) -> dict[str, Any]:
    variant = extra.pop("variant", None)
    cell = {
        "id": "/".join([check, vector, producer or "-", consumer or "-", variant or "-"]),
        "check": check,
        "level": "MUST" if check == "metadata.roundtrip" else "SHOULD",
        "producer": producer,
        "consumer": consumer,
        "vector": vector,
        "channel": None,
        "variant": variant,
        "outcome": outcome,
        "reason": reason,
        "measurements": {},
        "artifacts": {},
        "expectation": None,
        "duration_s": 0.25,
        "finished": "2026-11-03T10:05:00Z",
    }
    cell.update(extra)
    return cell


def summarise(cells: list[dict[str, Any]]) -> dict[str, Any]:
    """The summary section the runner writes for ``cells``."""
    counts = Counter(cell["outcome"] for cell in cells)
    return {
        "outcomes": dict(counts),
        "must_failures": sum(1 for c in cells if c["level"] == "MUST" and c["outcome"] in ("fail", "error")),
        "cells": len(cells),
    }


def make_bundle() -> dict[str, Any]:
    """Four vendors (two hostile), three checks, every outcome, hostile strings throughout."""
    vendors = [
        _vendor("ref-exiv2", "Exiv2 reference", homepage="https://exiv2.org/"),
        _vendor(
            "acme",
            f"{SCRIPT} Acme {RLO}gnp.exe 🧪 👩‍🔬",
            organisation="'; DROP TABLE vendors; --",
            retention=f"{RETENTION} {SCRIPT}",
            homepage="javascript:alert(1)",
        ),
        _vendor("zw.vendor", "Zero\u200bWidth | `tick` *bold*", version=None),
        _vendor("offline", "Offline Inc", runnable=False, reason=f"image pull failed\x00 {LONG}"),
    ]
    checks = [
        {
            "id": "metadata.roundtrip",
            "title": "Written XMP reads back",
            "family": "metadata",
            "level": "MUST",
            "description": "A value written by the producer is read back unchanged by the consumer.",
        },
        {
            "id": "provenance.validate",
            "title": "Manifest validates",
            "family": "provenance",
            "level": "SHOULD",
            "description": "The consumer validates the producer's C2PA manifest.",
        },
        {
            "id": "metadata.read-vector",
            "title": "Reads catalogue metadata",
            "family": "metadata",
            "level": "SHOULD",
            "description": "No producer: the consumer reads the vector as shipped.",
        },
    ]
    vectors = [
        {
            "id": "jpeg-basic",
            "media_type": "image/jpeg",
            "sha256": _sha("j"),
            "licence": "CC0-1.0",
            "tags": ["photo"],
            "source": None,
        },
        {
            "id": "png-alpha",
            "media_type": "image/png",
            "sha256": _sha("p"),
            "licence": "CC-BY-4.0",
            "tags": [],
            "source": "https://example.org/png",
        },
    ]
    rt, pv, rv = (check["id"] for check in checks)
    expectation = {
        "check": "provenance.validate/*/acme/*",
        "reason": f"known bug {SCRIPT}",
        "link": "https://tracker.example/acme/42",
        "expires": "2027-01-31",
    }
    cells = [
        _cell(
            rt,
            "jpeg-basic",
            "ref-exiv2",
            "ref-exiv2",
            "pass",
            "all 7 fields read back",
            measurements={"fields": 7, "creator": "Jane 🧪"},
            artifacts={"produced": {"sha256": _sha("a"), "media_type": "image/jpeg", "path": "artifacts/" + _sha("a") + ".jpg"}},
        ),
        _cell(
            rt,
            "jpeg-basic",
            "ref-exiv2",
            "acme",
            "fail",
            f"creator differs: {SCRIPT}",
            measurements={
                "creator": {"expected": "Jane", "read": f"{SCRIPT}'; DROP TABLE x; --{RLO}"},
                "lone": "\ud800",
                "nul": "a\x00b",
            },
        ),
        _cell(rt, "png-alpha", "ref-exiv2", "acme", "fail", "title differs\nsecond line | pipe `code`"),
        _cell(
            rt,
            "jpeg-basic",
            "acme",
            "ref-exiv2",
            "error",
            f"adapter crashed: {LONG}",
            artifacts={"produced": {"sha256": _sha("b"), "media_type": "image/jpeg", "path": None}},
        ),
        _cell(rt, "jpeg-basic", "zw.vendor", "ref-exiv2", "pass", "ok"),
        _cell(rt, "jpeg-basic", "offline", "ref-exiv2", "blocked", "producer could not run"),
        _cell(pv, "jpeg-basic", "ref-exiv2", "acme", "xfail", "manifest rejected", expectation=expectation),
        _cell(pv, "png-alpha", "ref-exiv2", "acme", "xpass", "manifest validated", expectation=expectation),
        _cell(pv, "jpeg-basic", "ref-exiv2", "zw.vendor", "unsupported", "provenance.read not declared"),
        _cell(rv, "jpeg-basic", None, "acme", "pass", "read", variant="q|75"),
        _cell(rv, "png-alpha", None, "zw.vendor", "fail", f"emoji 🧪 lost {RLO}", variant=None),
        _cell(rt, "png-alpha", "zw.vendor", "ref-exiv2", "inconclusive", INCONCLUSIVE_REASON),
    ]
    return {
        "schema_version": 1,
        "run": {
            "id": "run-2026-11-03",
            "profile": "core",
            "harness_version": "0.1.0",
            "methodology_version": "2026.11-1",
            "catalogue_sha256": _sha("catalogue"),
            "started": "2026-11-03T10:00:00Z",
            "finished": "2026-11-03T10:06:00Z",
            "status": "complete",
            "environment": {
                "python": "3.11.9",
                "platform": "Linux",
                "machine": "x86_64",
                "cpu_count": 8,
                "libraries": {"c2pa-python": "0.38.1"},
            },
            "options": {"jobs": 4, "vendors": None, "vectors": "test_vectors/"},
        },
        "vendors": vendors,
        "checks": checks,
        "vectors": vectors,
        "cells": cells,
        "summary": summarise(cells),
    }


def _written(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if p.suffix in {".html", ".md", ".xml"}]


def cell_detail(site: Path, cell_id: str) -> str:
    """The HTML of one cell's detail (its ``<article>``) on the site rendered into ``site``."""
    name, _, anchor = cell_page(cell_id).partition("#")
    text = (site / name).read_text(encoding="utf-8")
    start = text.index(f'<article class="cell" id="{anchor}">')
    return text[start:text.index("</article>", start)]
