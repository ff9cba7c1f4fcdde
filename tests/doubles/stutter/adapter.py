"""The reference XMP reader (vendors/xmp-reference), made to misbehave on request.

- ``AIII_STUTTER_CRASHES=N``: the first N calls crash (an unexpected exception, so the
  cell is ``error``), then it reads as the reference reader does.  Calls are counted
  across runs in ``stutter-calls.txt`` under the state folder (``AIII_HOME``), one line
  per call, so a test sees how often the harness really called it.
- ``AIII_STUTTER_ANSWER=nothing``: it reads no field at all (its round trips fail), and
  says so in its version, as a new release would: the step cache keys on the version.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path
from typing import Any

from aiii_kit import Adapter, Asset

_REFERENCE = Path(__file__).resolve().parents[3] / "vendors" / "xmp-reference" / "adapter.py"
_spec = importlib.util.spec_from_file_location("_stutter_xmp_reference", _REFERENCE)
assert _spec is not None and _spec.loader is not None
_reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_reference)

_lock = threading.Lock()


def _calls_file() -> Path:
    return Path(os.environ.get("AIII_HOME", ".aiii")) / "stutter-calls.txt"


class Double(Adapter):
    def implementation_version(self) -> str:
        return "1.0-nothing" if os.environ.get("AIII_STUTTER_ANSWER") == "nothing" else "1.0"

    def metadata_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        with _lock:
            path = _calls_file()
            path.parent.mkdir(parents=True, exist_ok=True)
            calls = len(path.read_text().splitlines()) + 1 if path.exists() else 1
            with path.open("a") as fh:
                fh.write(f"call {calls}\n")
        if calls <= int(os.environ.get("AIII_STUTTER_CRASHES", "0")):
            raise RuntimeError(f"stutter: crash on call {calls}")
        if os.environ.get("AIII_STUTTER_ANSWER") == "nothing":
            return {"fields": {}}
        return _reference.XmpReferenceAdapter().metadata_read(asset, params)  # type: ignore[no-any-return]
