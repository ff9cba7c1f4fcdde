"""Start vendors in their own placements for the per-vendor benchmarks."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runner.model import VendorManifest  # noqa: E402
from runner.transports import make_transport  # noqa: E402
from runner.vendors import availability, load_manifest  # noqa: E402


def start_vendors(ids: list[str]) -> dict[str, tuple[VendorManifest, Any]]:
    """Vendor id -> (manifest, started transport); a vendor that cannot run here is left
    out with a line on stderr saying why."""
    started = {}
    for vid in ids:
        manifest = load_manifest(ROOT / "vendors" / vid / "vendor.toml")
        found = availability(manifest, manifest.placement)
        if not found.runnable:
            print(f"{vid}: not runnable here ({found.reason}); left out", file=sys.stderr)
            continue
        transport = make_transport(manifest, manifest.placement)
        transport.start()
        started[vid] = (manifest, transport)
    return started
