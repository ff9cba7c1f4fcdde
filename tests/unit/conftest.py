"""Fixtures of the unit tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from report_bundle import _sha, make_bundle

from reports import render_all


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path, dict[str, Path]]:
    """The report bundle of tests/report_bundle.py rendered once per module: (bundle, out folder, paths)."""
    bundle = make_bundle()
    out = tmp_path_factory.mktemp("out")
    (out / "artifacts").mkdir()
    (out / "artifacts" / (_sha("a") + ".jpg")).write_bytes(b"\xff\xd8")
    return bundle, out, render_all(bundle, out)
