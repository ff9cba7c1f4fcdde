"""The result bundle: validate it against its schema, write it and read it back."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

SCHEMA_PATH = Path(__file__).with_name("schemas") / "bundle.schema.json"

#: Outcomes in the order reports list their counts: the three verdicts first.
OUTCOMES: tuple[str, ...] = ("pass", "fail", "inconclusive", "error", "unsupported", "blocked", "xfail", "xpass")
#: Outcomes in the order lists of cells show them: what needs attention first.
#: ``inconclusive`` sits after the outcomes that call for a fix and before
#: ``unsupported``: the vendor did run and nothing was refuted, but a reader should see
#: that no verdict was reached (and the profile may need more trials), whereas an
#: unsupported cell is a declared absence with nothing to act on.
SEVERITY: tuple[str, ...] = ("fail", "error", "xpass", "blocked", "xfail", "inconclusive", "unsupported", "pass")

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class BundleError(ValueError):
    """A bundle does not match the schema or is inconsistent; names the JSON path."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


_ANNOTATIONS = frozenset({"description", "title"})


def _inline_refs(node: Any, defs: dict[str, Any]) -> Any:
    """Replace local ``#/$defs/x`` references by their target where that means the same.

    Resolving references per instance is most of jsonschema's time on a 5 000-cell
    bundle; inlining halves validation.  A reference whose sibling keywords overlap the
    target's (beyond annotations) is left alone, since merging would change its meaning.
    """
    if isinstance(node, list):
        return [_inline_refs(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    inlined = {key: _inline_refs(value, defs) for key, value in node.items() if key != "$defs"}
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = _inline_refs(defs[ref.removeprefix("#/$defs/")], defs)
        siblings = set(inlined) - {"$ref"}
        if not (siblings & set(target)) - _ANNOTATIONS:
            del inlined["$ref"]
            inlined = {**target, **inlined}
    if "$defs" in node:
        inlined["$defs"] = node["$defs"]  # still reachable by references left in place
    return inlined


@cache
def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(_inline_refs(schema, schema["$defs"]))


def _non_finite(value: Any, path: str) -> Iterator[str]:
    """Yield the paths of NaN and infinite floats, which JSON cannot carry."""
    if isinstance(value, float) and not math.isfinite(value):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _non_finite(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _non_finite(item, f"{path}[{index}]")


def validate_bundle(bundle: Any) -> None:
    """Check ``bundle`` against the schema and for internal consistency.

    Raises :class:`BundleError` for the first problem found, e.g.
    ``$.cells[3].outcome: 'maybe' is not one of [...]``.
    """
    error = best_match(_validator().iter_errors(bundle))
    if error is not None:
        raise BundleError(error.json_path, error.message)
    for path in _non_finite(bundle, "$"):
        raise BundleError(path, "NaN or infinity is not JSON; record it as null or a string")
    _check_consistency(bundle)


def _unique(items: list[dict[str, Any]], section: str) -> set[str]:
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item["id"] in seen:
            raise BundleError(f"$.{section}[{index}].id", f"duplicate id {item['id']!r}")
        seen.add(item["id"])
    return seen


def _check_consistency(bundle: dict[str, Any]) -> None:
    """Cross-references the schema cannot express: ids exist, the summary's counts add up."""
    vendors = _unique(bundle["vendors"], "vendors")
    checks = _unique(bundle["checks"], "checks")
    vectors = _unique(bundle["vectors"], "vectors")
    _unique(bundle["cells"], "cells")
    for index, cell in enumerate(bundle["cells"]):
        where = f"$.cells[{index}]"
        if cell["check"] not in checks:
            raise BundleError(f"{where}.check", f"unknown check {cell['check']!r}")
        if cell["vector"] not in vectors:
            raise BundleError(f"{where}.vector", f"unknown vector {cell['vector']!r}")
        for role in ("producer", "consumer"):
            for vendor in (cell[role] or "").split("+") if cell[role] is not None else ():
                if vendor not in vendors:
                    raise BundleError(f"{where}.{role}", f"unknown vendor {vendor!r}")
        log = cell.get("attempt_log")
        if log is not None and (len(log) != cell["attempts"] or log[-1]["outcome"] != cell["outcome"]):
            raise BundleError(f"{where}.attempt_log", f"{len(log)} attempts ending {log[-1]['outcome']!r}, but the cell "
                              f"says {cell['attempts']} ending {cell['outcome']!r}")
    counts = Counter(cell["outcome"] for cell in bundle["cells"])
    summary = bundle["summary"]
    if summary["cells"] != len(bundle["cells"]):
        raise BundleError("$.summary.cells", f"{summary['cells']} but the bundle has {len(bundle['cells'])} cells")
    for outcome in OUTCOMES:
        if summary["outcomes"].get(outcome, 0) != counts[outcome]:
            raise BundleError(
                f"$.summary.outcomes.{outcome}",
                f"{summary['outcomes'].get(outcome, 0)} but {counts[outcome]} cells have it",
            )
    # must_failures is not recomputed: which outcomes count is the runner's policy.
    _check_figures(bundle.get("figures", []), {cell["id"] for cell in bundle["cells"]})
    if "shard" in bundle:
        _check_shard(bundle["shard"], bundle["cells"])
    if "merge" in bundle:
        _check_merge(bundle)


def shard_line(shard: dict[str, Any]) -> str:
    """What the reports say of a shard's bundle: ``Shard 1 of 4: 663 of 2651 planned cells``."""
    whole = f" of {shard['plan_cells']} planned" if "plan_cells" in shard else ""
    return f"Shard {shard['i']} of {shard['n']}: {len(shard['cells'])}{whole} cells"


#: The mark a scorecard matrix puts on a group holding cells whose inputs disagree.
CONFLICT_MARK = "⇄"


def merge_line(bundle: dict[str, Any]) -> str:
    """What the reports say of a merged bundle: inputs, completeness, conflicts, stale."""
    merge, inputs = bundle["merge"], bundle["run"].get("merged_from", [])
    done = merge["completeness"]
    state = ("complete: every planned cell once" if done["complete"]
             else f"INCOMPLETE: {done['missing_count']} of {done['plan_cells']} planned cells missing"
             if done["missing_count"] else "INCOMPLETE: the cells are not the plan's")
    stale = f"; {len(merge['stale'])} stale inputs (another plan) kept apart" if merge["stale"] else ""
    return (f"Merged from {len(inputs) - len(merge['stale'])} bundles, {state}; "
            f"{done['duplicates_dropped']} identical duplicates dropped; "
            + (f"{done['holes_filled']} cells a pack left blocked judged by another input; " if done.get("holes_filled") else "")
            + f"{len(merge['conflicts'])} cells with conflicting results ({CONFLICT_MARK}){stale}")


def conflicts_of(bundle: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Cell id -> its inputs' different results (empty unless the bundle is a merge)."""
    return bundle.get("merge", {}).get("conflicts", {})  # type: ignore[no-any-return]


def _check_merge(bundle: dict[str, Any]) -> None:
    """A merge's cells, conflicts and stale inputs name cells and inputs it has."""
    inputs = len(bundle["run"].get("merged_from", []))
    cells = {cell["id"] for cell in bundle["cells"]}
    for index, cell in enumerate(bundle["cells"]):
        for source in cell.get("sources", []):
            if source >= inputs:
                raise BundleError(f"$.cells[{index}].sources", f"input {source} is not in run.merged_from")
    for cid in bundle["merge"]["conflicts"]:
        if cid not in cells:
            raise BundleError("$.merge.conflicts", f"unknown cell {cid!r}")
    for source in bundle["merge"]["stale"]:
        if source >= inputs:
            raise BundleError("$.merge.stale", f"input {source} is not in run.merged_from")


def _check_shard(shard: dict[str, Any], cells: list[dict[str, Any]]) -> None:
    """A shard is one of its n, and runs only the cells its manifest names."""
    if shard["i"] > shard["n"]:
        raise BundleError("$.shard.i", f"shard {shard['i']} of {shard['n']}: i is at most n")
    named = set(shard["cells"])
    for index, cell in enumerate(cells):
        if cell["id"] not in named:
            raise BundleError(f"$.cells[{index}].id", f"cell {cell['id']!r} is not in shard {shard['i']}/{shard['n']}")


_GRIDS = ("values", "ci95", "trials", "outcomes", "cells")


def _check_figures(figures: list[dict[str, Any]], cells: set[str]) -> None:
    """Shapes the schema cannot express: grids are rows x columns naming cells of the
    bundle, a curve's lists align."""
    _unique(figures, "figures")
    for index, figure in enumerate(figures):
        where = f"$.figures[{index}]"
        if figure["kind"] == "heatmap":
            shape = (len(figure["rows"]), len(figure["columns"]))
            for key in _GRIDS:
                grid = figure[key]
                if len(grid) != shape[0] or any(len(line) != shape[1] for line in grid):
                    raise BundleError(f"{where}.{key}", f"not {shape[0]} rows x {shape[1]} columns")
            for r, line in enumerate(figure["cells"]):
                for c, cell_id in enumerate(line):
                    if cell_id is not None and cell_id not in cells:
                        raise BundleError(f"{where}.cells[{r}][{c}]", f"unknown cell {cell_id!r}")
        else:
            for number, curve in enumerate(figure["curves"]):
                if not len(curve["fpr"]) == len(curve["tpr"]) == len(curve["thresholds"]):
                    raise BundleError(f"{where}.curves[{number}]", "fpr, tpr and thresholds differ in length")


def dumps(bundle: dict[str, Any]) -> str:
    """Pretty JSON text for ``bundle``; lone surrogates stay ``\\udXXX`` escapes."""
    text = json.dumps(bundle, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)
    # Raw surrogates cannot be encoded as UTF-8; inside JSON strings an escape is exact.
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"


def write_bundle(bundle: dict[str, Any], path: Path | str, *, validate: bool = True) -> Path:
    """Validate ``bundle`` (unless the caller just did) and write it as pretty UTF-8 JSON to ``path``."""
    if validate:
        validate_bundle(bundle)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(dumps(bundle), encoding="utf-8")
    return target


def read_bundle(path: Path | str) -> dict[str, Any]:
    """Read and validate a bundle written by :func:`write_bundle`."""
    try:
        bundle = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BundleError("$", f"{path} is not JSON: {exc}") from exc
    validate_bundle(bundle)
    return bundle  # type: ignore[no-any-return]
