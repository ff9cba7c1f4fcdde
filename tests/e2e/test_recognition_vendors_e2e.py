"""The content recognition reference vendors keep the protocol: ``aiii adapter check`` on
each, served from its own process as a participant's adapter would be.

The check's samples are the schemas' first examples (pHash): a vendor without pHash
refuses them cleanly, and then its junk probes are not reached."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import aiii

VENDORS = [
    pytest.param("imagehash", "4.3.2", True, id="imagehash"),
    pytest.param("python-libphash", "2.0.2.0", True, id="python-libphash"),
    pytest.param("pdqhash", "0.2.8", False, id="pdqhash"),
    pytest.param("fpcalc", "1.5.1", False, id="fpcalc", marks=pytest.mark.debian),
]


@pytest.mark.parametrize(("vendor", "version", "has_phash"), VENDORS)
def test_adapter_check_passes(home: Path, vendor: str, version: str, has_phash: bool) -> None:
    proc = aiii(home, "adapter", "check", vendor, "--timeout", "60", timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"describe: vendor {vendor}, version {version}," in proc.stdout, proc.stdout
    assert "FAIL" not in proc.stdout
    for operation in ("fingerprint.compute", "fingerprint.compare"):
        if operation not in proc.stdout.split("operations ", 1)[1].splitlines()[0]:
            continue  # fpcalc declares no comparison
        if has_phash:  # answered the sample, and refused the junk cleanly
            assert f"PASS  {operation} on junk input" in proc.stdout, proc.stdout
        else:
            assert f"PASS  {operation} on " in proc.stdout and "clean refusal" in proc.stdout, proc.stdout
