"""Synthetic vendors for sizing the hosted nightly: fifty (or any number of) real adapters.

:func:`make_vendors` writes ``n`` vendor folders (``syn-<family>-NN``), spread over the
families in proportion to today's vendors in ``vendors/`` (largest remainder).  Within a
family each imitates one real vendor in turn: the same capabilities (operations, media
types, options) and ``max_concurrency``, so the planner gives it the cells the real one
gets; its adapter is :mod:`adapter` beside this file (copied in), served in the ``process``
placement by the kit's server over a unix socket, with the harness's interpreter.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path
from typing import Any

ADAPTER = Path(__file__).with_name("adapter.py")
FAMILY_OF = {"metadata": "metadata", "watermark": "watermark", "provenance": "provenance",
             "identifier": "identifiers", "optout": "optout", "fingerprint": "recognition"}


def real_vendors(vendors_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """Today's vendor manifests by family (the family of their first capability)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(vendors_dir.glob("*/vendor.toml")):
        manifest = tomllib.loads(path.read_text())
        family = FAMILY_OF[manifest["capabilities"][0]["operation"].split(".")[0]]
        out.setdefault(family, []).append(manifest)
    return out


def shares(counts: dict[str, int], n: int) -> dict[str, int]:
    """``n`` split in proportion to ``counts`` (largest remainder; ties by name)."""
    total = sum(counts.values())
    exact = {k: n * c / total for k, c in counts.items()}
    got = {k: int(v) for k, v in exact.items()}
    for k in sorted(exact, key=lambda k: (got[k] - exact[k], k))[: n - sum(got.values())]:
        got[k] += 1
    return got


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)  # strings (JSON escapes are TOML's), integers, floats


def _manifest(vid: str, real: dict[str, Any], placement: str) -> str:
    embed = next((c.get("options", {}) for c in real["capabilities"] if c["operation"] == "watermark.embed"), {})
    config = {"payload_bits": int(embed.get("payload_bits", 0)), "keyed": bool(embed.get("keyed", True))}
    lines = [f'id = "{vid}"', f'name = "Synthetic {vid} (imitates {real["id"]})"', 'organisation = "benchmarks/nightly.py"',
             f'placement = "{placement}"', 'role = "test-double"', "default = false",
             f'description = "A fast synthetic vendor with the capabilities of {real["id"]}."', "",
             "[adapter]", 'entry = "adapter.py:Synthetic"',
             f"max_concurrency = {int(real.get('adapter', {}).get('max_concurrency', 1))}", "timeout_s = 60", "",
             "[adapter.config]", *(f"{k} = {_toml(v)}" for k, v in config.items()), "",
             "[version]", "adapter = true"]
    for cap in real["capabilities"]:
        lines += ["", "[[capabilities]]", *(f"{k} = {_toml(v)}" for k, v in cap.items())]
    return "\n".join(lines) + "\n"


def make_vendors(folder: Path, n: int, vendors_dir: Path, placement: str = "process") -> dict[str, str]:
    """Write ``n`` synthetic vendors into ``folder``; their ids and whom each imitates."""
    by_family = real_vendors(vendors_dir)
    made: dict[str, str] = {}
    for family, count in sorted(shares({f: len(v) for f, v in by_family.items()}, n).items()):
        for k in range(count):
            real = by_family[family][k % len(by_family[family])]
            vid = f"syn-{family}-{k:02d}"
            (folder / vid).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ADAPTER, folder / vid / "adapter.py")
            (folder / vid / "vendor.toml").write_text(_manifest(vid, real, placement))
            made[vid] = real["id"]
    return made
