"""Where the harness finds its data folders and keeps its caches."""

from __future__ import annotations

import os
from pathlib import Path

#: The repository root: the folder holding vendors/, profiles/ and test_vectors/.
ROOT = Path(os.environ.get("AIII_ROOT", Path(__file__).resolve().parent.parent))


def state_dir() -> Path:
    """Caches and the default results store (``AIII_HOME`` overrides ``ROOT/.aiii``)."""
    return Path(os.environ.get("AIII_HOME", ROOT / ".aiii"))


def display(path: Path) -> str:
    """A path relative to the repository root when possible, for messages."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)
