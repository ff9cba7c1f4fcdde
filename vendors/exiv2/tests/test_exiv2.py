"""exiv2 (pyexiv2, libexiv2) alone: the version a run records.

Its place in the metadata matrix is in tests/test_vendors_metadata.py, whose fixtures and
helpers this module shares.
"""

from __future__ import annotations

import re

from test_vendors_metadata import (  # noqa: F401 - fixtures and helpers of the family's matrix module
    MANIFESTS,
    reported_version,
    transports,
)

from runner.transports.inproc import InprocTransport


def test_exiv2_version_is_libexiv2_0_28(transports: dict[str, InprocTransport]) -> None:  # noqa: F811
    version = reported_version(transports["exiv2"])
    assert version is not None and re.fullmatch(r"0\.28\.\d+", version)
    assert transports["exiv2"].implementation_version() == version
    assert "libexiv2 0.28" in MANIFESTS["exiv2"].description
