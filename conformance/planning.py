"""Small planning helpers shared by families: a vendor's capability options and JSON
vectors."""

from __future__ import annotations

import json
from typing import Any

from runner.errors import PlanError
from runner.model import Vector, VendorManifest
from runner.paths import display


def option(vendor: VendorManifest, operation: str, key: str, default: Any = None) -> Any:
    """An option of a vendor's capability for an operation (``default`` if it has none)."""
    cap = vendor.capability(operation)
    return cap.options.get(key, default) if cap else default


def read_json(vector: Vector) -> Any:
    """A JSON vector's content; a file that is not JSON stops the plan, naming it."""
    try:
        return json.loads(vector.path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PlanError(f"vector {vector.id} ({display(vector.path)}): not readable as JSON: {exc}") from None
