"""``aiii merge``: many result bundles of one plan made into one (issue 13, "Merge").

Inputs are verified bundles (:func:`load_input`: the signature checked with
runner/attest.py, an unsigned one taken only when asked, marked ``unsigned``), then
:func:`merge` combines them:

- **one plan**: every input carries the first input's ``run.plan_digest``; another is
  refused in one line naming the differing components (runner/plan_digest.py), or,
  with ``keep_stale``, kept apart: listed as a stale input, none of its cells merged;
- **completeness**: proved, not assumed: the merged cell ids hash to the plan digest's
  ``cells`` component exactly when they are the plan's cells.  When they do not, what is
  known to be missing is listed: shard numbers not given, cells a shard's manifest names
  that no input has, and how many of the plan's ``plan_cells`` are absent;
- **one cell, several inputs**: identical results (outcome, reason, measurements) are
  one cell, the duplicates dropped and counted; different results from two shards of one
  signer are refused (one line: the shards contradict each other); different results
  from different participants (signers, or runs not in one shard set) are kept side by
  side: the cell holds the first input's (inputs in the order given) and
  ``merge.conflicts`` lists every result with its source.  Nothing is overwritten;
- **holes filled**: a cell one input could not judge because a pack it imported lacked
  a step (``blocked``, "not in the pack of V": nobody computed that step there) is a
  hole, not a result: another input's result for the cell fills it (counted), and it
  conflicts with nothing.  This is how a hub's shards (X's consumer absent) and X's run
  of the hub's packs against its own consumer make one matrix.

Provenance: ``run.merged_from`` names every input (file, sha256, signer and keyid or
``unsigned``, run id, plan digest, shard), each cell's ``sources`` the inputs that had
it.  A cell's ``origin`` is carried through, each step the input's own signer vouches
for (its keyid) marked ``verified`` once that input's signature is.  Writing and
signing the result: runner/cli_merge.py.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.attest import AttestationError, sidecar, verify_bundle
from runner.errors import HarnessError
from runner.keys import Registry
from runner.model import canonical_json
from runner.paths import display
from runner.plan_digest import PlanDigest, PlanMismatch, require_same_plan

#: The most ids a one-line refusal lists.
SHOWN = 10
UNSIGNED = "unsigned"


class MergeError(HarnessError):
    """Inputs that cannot be merged; one line saying which and why."""


@dataclass
class Input:
    """One verified (or knowingly unsigned) bundle."""

    index: int
    path: Path  # its results.json
    sha256: str
    bundle: dict[str, Any]
    signer: str  # a vendor id, hub, or UNSIGNED
    keyid: str | None

    @property
    def shard(self) -> dict[str, Any] | None:
        return self.bundle.get("shard")

    def plan(self) -> PlanDigest:
        return PlanDigest.from_dict(self.bundle["run"]["plan_digest"])

    def describe(self) -> dict[str, Any]:
        """Its entry in the merged bundle's ``run.merged_from``."""
        shard = self.shard
        return {"file": self.path.name, "folder": self.path.parent.name, "sha256": self.sha256, "signer": self.signer,
                "keyid": self.keyid, "run": self.bundle["run"]["id"], "plan_digest": self.plan().sha256,
                "shard": {"i": shard["i"], "n": shard["n"]} if shard else None, "cells": len(self.bundle["cells"]),
                "stale": False}


def bundle_path(given: Path) -> Path:
    """A bundle argument: a ``results.json``, or a folder holding one."""
    return given / "results.json" if given.is_dir() else given


def load_input(index: int, given: Path, registry: Registry, allow_unsigned: bool = False) -> Input:
    """Read and check one input: its signature when it has one (refused with the
    verifier's line when it fails, :class:`AttestationError`), or, when it has none,
    refused unless ``allow_unsigned``; then its schema and its plan digest."""
    from reports.bundle import BundleError, validate_bundle  # reports/ stays out of the CLI's start-up

    path = bundle_path(given)
    if not path.is_file():
        raise MergeError(f"{display(given)}: no such bundle (a results.json, or a folder holding one)")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MergeError(f"{display(path)}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    signer, keyid = UNSIGNED, None
    if sidecar(path).exists() or sidecar(path).is_symlink():
        verified = verify_bundle(path, registry)
        signer, keyid = verified.signer, verified.keyid
        if path.read_bytes() != raw:  # what was verified is what is merged
            raise AttestationError(f"{display(path)}: changed while it was being verified")
    elif not allow_unsigned:
        raise AttestationError(f"{display(path)}: unsigned (no {sidecar(path).name} beside it); "
                               "--allow-unsigned merges it anyway")
    try:
        bundle = json.loads(raw)
    except ValueError:
        raise MergeError(f"{display(path)}: not a result bundle (not JSON)") from None
    try:
        validate_bundle(bundle)
    except BundleError as exc:
        raise MergeError(f"{display(path)}: not a valid result bundle at {exc}") from None
    if "plan_digest" not in bundle["run"]:
        raise MergeError(f"{display(path)}: no plan digest (a run stored before plan digests): it cannot be merged")
    return Input(index, path, hashlib.sha256(raw).hexdigest(), bundle, signer, keyid)


@dataclass
class Merged:
    bundle: dict[str, Any]
    inputs: list[Input]  # the ones merged (not stale)
    stale: list[Input]
    dropped: int  # identical duplicates
    conflicts: int  # cells with more than one result
    complete: bool
    filled: int = 0  # holes (a pack's missing step) filled by another input's result

    def line(self) -> str:
        done = self.bundle["merge"]["completeness"]
        state = "complete" if self.complete else f"INCOMPLETE ({done['missing_count'] or 'unknown'} missing)"
        return (f"merged {len(self.inputs)} bundles: {len(self.bundle['cells'])} cells, {state}; "
                f"{self.dropped} identical duplicates dropped, "
                + (f"{self.filled} cells a pack left blocked filled by another input, " if self.filled else "")
                + f"{self.conflicts} cells with conflicting results kept side by side"
                + (f"; {len(self.stale)} stale inputs kept apart" if self.stale else ""))


def _result(cell: dict[str, Any]) -> str:
    """What makes two copies of a cell the same result."""
    return canonical_json([cell["outcome"], cell["reason"], cell["measurements"]])


def _listed(ids: list[str]) -> str:
    more = f" and {len(ids) - SHOWN} more" if len(ids) > SHOWN else ""
    return ", ".join(ids[:SHOWN]) + more


def _split_stale(inputs: list[Input], keep_stale: bool) -> tuple[list[Input], list[Input]]:
    reference = inputs[0]
    current, stale = [reference], []
    for other in inputs[1:]:
        try:
            require_same_plan(reference.plan(), other.plan(), display(reference.path), display(other.path))
        except PlanMismatch as exc:
            if not keep_stale:
                raise PlanMismatch(f"{exc}; --keep-stale keeps the other plan's inputs apart", exc.differing) from None
            stale.append(other)
            continue
        current.append(other)
    return current, stale


def _same_run(a: Input, b: Input) -> bool:
    """Two inputs that should agree on every cell they share: shards of one signer's
    plan, or one run given twice."""
    return a.signer == b.signer and (bool(a.shard and b.shard) or a.bundle["run"]["id"] == b.bundle["run"]["id"])


def _alternative(source: Input, cell: dict[str, Any]) -> dict[str, Any]:
    alt = {"input": source.index, "signer": source.signer, "run": source.bundle["run"]["id"],
           "outcome": cell["outcome"], "reason": cell["reason"], "measurements": cell["measurements"]}
    if "origin" in cell:
        alt["origin"] = cell["origin"]
    return alt


def _hole(cell: dict[str, Any]) -> bool:
    """Blocked because a pack lacked a step: a step nobody computed (runner/packs.py)."""
    return cell["outcome"] == "blocked" and any(
        o.get("pack") and o.get("run") is None for o in (cell.get("origin") or {}).values())


def _vouched(cell: dict[str, Any], source: Input) -> dict[str, Any]:
    """The cell with the steps its input's verified signer vouches for marked verified."""
    origin = cell.get("origin")
    if not origin or source.keyid is None:
        return cell
    marked = {role: ({**o, "verified": True} if o.get("keyid") == source.keyid and o.get("verified") is None else o)
              for role, o in origin.items()}
    return {**cell, "origin": marked}


@dataclass
class _Combined:
    cells: dict[str, dict[str, Any]]  # by id: the first result kept, ``sources`` added
    conflicts: dict[str, list[dict[str, Any]]]
    duplicated: list[str]  # ids seen in more than one input
    dropped: int  # identical copies
    filled: int  # holes filled by another input's result


def _combine(inputs: list[Input]) -> _Combined:
    """The inputs' cells combined (see the module docstring)."""
    cells: dict[str, dict[str, Any]] = {}
    results: dict[str, list[tuple[str, Input, dict[str, Any]]]] = {}
    duplicated: set[str] = set()
    dropped = filled = 0
    for source in inputs:
        for cell in source.bundle["cells"]:
            cell = _vouched(cell, source)
            cid = cell["id"]
            mine = _result(cell)
            seen = results.get(cid)
            if seen is None:
                cells[cid] = {**cell, "sources": [source.index]}
                results[cid] = [(mine, source, cell)]
                continue
            duplicated.add(cid)
            cells[cid]["sources"].append(source.index)
            if _hole(cell) and not all(_hole(c) for _, _, c in seen):
                filled += 1  # a hole where a result is
                continue
            if not _hole(cell) and all(_hole(c) for _, _, c in seen):
                filled += len(seen)  # a result where only holes were
                cells[cid] = {**cell, "sources": cells[cid]["sources"]}
                results[cid] = [(mine, source, cell)]
                continue
            if any(mine == other for other, _, _ in seen):
                dropped += 1
                continue
            for _, earlier, earlier_cell in seen:
                if _same_run(earlier, source):
                    raise MergeError(
                        f"{display(earlier.path)} and {display(source.path)} (shards of one plan by {source.signer}) "
                        f"claim cell {cid} with different results: {earlier_cell['outcome']} "
                        f"({earlier_cell['reason'][:80]!r}) and {cell['outcome']} ({cell['reason'][:80]!r})")
            seen.append((mine, source, cell))
    conflicts = {cid: [_alternative(src, cell) for _, src, cell in seen] for cid, seen in results.items() if len(seen) > 1}
    return _Combined(cells, conflicts, sorted(duplicated), dropped, filled)


def _completeness(inputs: list[Input], cells: dict[str, Any], duplicated: list[str], dropped: int,
                  plan: PlanDigest) -> dict[str, Any]:
    """Whether the merged cells are the plan's, and what is known to be missing."""
    shards = [i.shard for i in inputs if i.shard]
    named = {cid for shard in shards for cid in shard["cells"]}
    seen_shards = Counter((s["i"], s["n"]) for s in shards)
    missing_shards = sorted(f"{i}/{n}" for n in {n for _, n in seen_shards} for i in range(1, n + 1)
                            if (i, n) not in seen_shards)
    missing = sorted(named - set(cells))
    plan_cells = max([s.get("plan_cells", 0) for s in shards] + [len(named | set(cells))])
    cells_sha = hashlib.sha256(canonical_json(sorted(cells)).encode()).hexdigest()
    complete = cells_sha == plan.components.get("cells")
    missing_count = max(len(missing), plan_cells - len(cells)) if not complete else 0
    return {"complete": complete, "plan_cells": plan_cells, "cells": len(cells), "missing_count": missing_count,
            "missing": missing, "missing_shards": missing_shards,
            "duplicated_shards": sorted(f"{i}/{n}" for (i, n), k in seen_shards.items() if k > 1),
            "duplicated": duplicated, "duplicates_dropped": dropped}


def _refuse_incomplete(done: dict[str, Any]) -> None:
    if not done["missing_count"]:  # whole runs name no plan but their own cells: only the digest tells
        raise MergeError(f"incomplete: the {done['cells']} merged cells are not the plan's (their ids do not hash to "
                         "its digest's cells); --allow-incomplete merges anyway")
    shards = f" (shards {', '.join(done['missing_shards'])} not given)" if done["missing_shards"] else ""
    ids = f": {_listed(done['missing'])}" if done["missing"] else ""
    raise MergeError(f"incomplete: {done['missing_count']} of {done['plan_cells']} planned cells missing{shards}{ids}; "
                     "--allow-incomplete merges anyway")


def _union(inputs: list[Input], section: str) -> list[dict[str, Any]]:
    """Vendors, checks or vectors of every input, by id, the first input's entry kept."""
    out: dict[str, dict[str, Any]] = {}
    for source in inputs:
        for item in source.bundle[section]:
            out.setdefault(item["id"], item)
    return list(out.values())


def merge(inputs: list[Input], keep_stale: bool = False, allow_incomplete: bool = False,
          options: dict[str, Any] | None = None) -> Merged:
    """The merged bundle of ``inputs`` (in the order given), or :class:`MergeError` /
    :class:`PlanMismatch` in one line.  Pure: reads and writes no file."""
    from reports.figures import figure_data

    if not inputs:
        raise MergeError("nothing to merge: give at least one bundle")
    current, stale = _split_stale(inputs, keep_stale)
    stale_ids = {i.index for i in stale}
    plan = current[0].plan()
    combined = _combine(current)
    by_id, conflicts = combined.cells, combined.conflicts
    done = _completeness(current, by_id, combined.duplicated, combined.dropped, plan)
    done["holes_filled"] = combined.filled
    if not done["complete"] and not allow_incomplete:
        _refuse_incomplete(done)
    cells = [by_id[cid] for cid in sorted(by_id)]
    first = current[0].bundle["run"]
    finished = [i.bundle["run"]["finished"] for i in current]
    statuses = {i.bundle["run"]["status"] for i in current}
    digest = hashlib.sha256(canonical_json(sorted(i.sha256 for i in inputs)).encode()).hexdigest()
    outcomes = Counter(c["outcome"] for c in cells)
    run = {
        "id": f"merge-{digest[:16]}", "profile": first["profile"], "harness_version": first["harness_version"],
        "methodology_version": first["methodology_version"], "catalogue_sha256": first["catalogue_sha256"],
        "started": min(i.bundle["run"]["started"] for i in current),
        "finished": None if None in finished else max(finished),
        "status": "complete" if statuses == {"complete"} and done["complete"] else "interrupted",
        "environment": first["environment"], "options": {"merge": options or {}},
        "plan_digest": plan.as_dict(),
        "merged_from": [{**i.describe(), "stale": i.index in stale_ids} for i in inputs],
    }
    bundle = {
        "schema_version": 1, "run": run,
        "vendors": _union(current, "vendors"), "checks": _union(current, "checks"), "vectors": _union(current, "vectors"),
        "cells": cells, "figures": figure_data(cells),
        "summary": {"outcomes": dict(outcomes), "cells": len(cells),
                    "must_failures": sum(1 for c in cells if c["level"] == "MUST" and c["outcome"] in ("fail", "error"))},
        "merge": {"completeness": done, "conflicts": conflicts, "stale": [i.index for i in stale]},
    }
    return Merged(bundle, current, stale, combined.dropped, len(conflicts), done["complete"], combined.filled)
