"""``aiii merge BUNDLE... --out DIR``: the CLI's face over runner/merge.py, and the
writing of its result: the cited artifacts copied (each checked against its sha256),
every report rendered, the merged bundle signed.

Every refusal comes before anything is written, and nothing is written outside ``--out``
(which may not be an input's folder, nor hold symlinks where the reports go)."""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import sys
from pathlib import Path
from typing import Any

from runner.errors import HarnessError
from runner.paths import display
from runner.text import printable

#: What ``--out`` receives; none of these may be a symlink (it would lead the write elsewhere).
_WRITTEN = ("results.json", "results.dsse.json", "junit.xml", "summary.md", "site", "artifacts")
_SUFFIX = re.compile(r"^\.[A-Za-z0-9]{1,12}$")


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def check_out(out: Path, inputs: list[Path]) -> None:
    """Refuse an ``--out`` that is an input's folder or would write through a symlink."""
    target = out.resolve()
    for given in inputs:
        folder = (given if given.is_dir() else given.parent).resolve()
        if target == folder:
            raise HarnessError(f"--out {display(out)}: is the folder of input {display(given)}; choose a new folder")
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise HarnessError(f"--out {display(out)}: not a folder")
    for name in _WRITTEN:
        if (out / name).is_symlink():
            raise HarnessError(f"--out {display(out)}: {name} is a symlink; nothing is written through one")


def _available(inputs: list[Any]) -> dict[str, Path]:
    """sha256 -> a file in an input's folder that a cell of it cites by that digest."""
    found: dict[str, Path] = {}
    for source in inputs:
        folder = source.path.parent
        for cell in source.bundle["cells"]:
            for art in cell["artifacts"].values():
                path = art.get("path")
                if path and art["sha256"] not in found:
                    file = folder / path
                    if file.is_file() and not file.is_symlink():
                        found[art["sha256"]] = file
    return found


def plan_artifacts(bundle: dict[str, Any], inputs: list[Any]) -> dict[str, tuple[Path, str] | None]:
    """sha256 -> (the input's file, its name in ``--out``) of every artifact the merged
    cells cite, each file hashed now (refused when it is not what is cited), before
    anything is written; None for one that no input's folder holds."""
    available = _available(inputs)
    planned: dict[str, tuple[Path, str] | None] = {}
    for cell in bundle["cells"]:
        for art in cell["artifacts"].values():
            sha = art["sha256"]
            if sha in planned:
                continue
            source = available.get(sha)
            if source is not None and _sha256(source) != sha:
                raise HarnessError(f"{display(source)}: is not the artifact its bundle cites (sha256 differs)")
            suffix = source.suffix if source is not None and _SUFFIX.match(source.suffix) else ".bin"
            planned[sha] = None if source is None else (source, f"artifacts/{sha}{suffix}")
    return planned


def copy_artifacts(bundle: dict[str, Any], planned: dict[str, tuple[Path, str] | None], out: Path) -> tuple[int, int]:
    """Copy the planned artifacts into ``out/artifacts`` (content-addressed:
    ``<sha256><suffix>``) and point the cells at them; a cited file no input holds is
    left unlinked (``path`` null).  Returns (files copied, citations)."""
    cited = 0
    for sha, where in planned.items():
        if where is not None:
            target = out / where[1]
            target.parent.mkdir(parents=True, exist_ok=True)
            if not (target.is_file() and _sha256(target) == sha):
                shutil.copyfile(where[0], target)
    for cell in bundle["cells"]:
        for art in cell["artifacts"].values():
            cited += 1
            where = planned[art["sha256"]]
            art["path"] = where[1] if where else None
    return sum(1 for w in planned.values() if w), cited


def _cmd_merge(args: argparse.Namespace) -> int:
    from reports import BundleError, render_all, validate_bundle
    from runner.attest import AttestationError, sign_bundle
    from runner.cli_signing import _registry, check_sign_key
    from runner.keys import load_signer
    from runner.merge import load_input, merge
    from runner.plan_digest import PlanMismatch

    given = [Path(b) for b in args.bundles]
    out = Path(args.out)
    check_out(out, given)
    check_sign_key(args.sign_key)
    registry = _registry(args)  # a malformed key file is the configuration's error (exit 2)
    options = {"allow_unsigned": args.allow_unsigned, "keep_stale": args.keep_stale,
               "allow_incomplete": args.allow_incomplete}
    try:
        inputs = [load_input(i, path, registry, args.allow_unsigned) for i, path in enumerate(given)]
        merged = merge(inputs, args.keep_stale, args.allow_incomplete, options)
        planned = plan_artifacts(merged.bundle, merged.inputs)
        validate_bundle(merged.bundle)  # before anything is written (paths are set later, to valid names)
    except BundleError as exc:
        print(printable(f"refused: the merged bundle would be invalid at {exc}"), file=sys.stderr)
        return 1
    except (AttestationError, PlanMismatch, HarnessError) as exc:
        print(printable(f"refused: {exc}"), file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    copied, cited = copy_artifacts(merged.bundle, planned, out)
    render_all(merged.bundle, out, validate=False)
    print(printable(merged.line()))
    print(printable(f"artifacts: {copied} files copied for {cited} citations; scorecard: {out / 'site' / 'index.html'}"))
    if args.sign_key:
        envelope = sign_bundle(out / "results.json", load_signer(Path(args.sign_key)), args.sign_as, validate=False)
        print(printable(f"signed as {args.sign_as}: {display(envelope)}"))
    else:
        print("not signed (no --sign-key)")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    mer = sub.add_parser(
        "merge", help="merge signed bundles of one plan into one",
        description="Verify every bundle's signature, check they share one plan digest, prove the merged cells are "
                    "the whole plan, drop identical duplicates, keep different participants' conflicting results side "
                    "by side, and write results.json, junit.xml, summary.md, site/ and the cited artifacts to --out, "
                    "signed with --sign-key.  Exit 1 and one line when refused; nothing is written then.")
    mer.add_argument("bundles", nargs="+", metavar="BUNDLE", help="a results.json, or a folder holding one")
    mer.add_argument("--out", required=True, metavar="DIR", help="where the merged reports go (not an input's folder)")
    mer.add_argument("--keys", action="append", default=[], metavar="DIR",
                     help="another folder laid out like vendors/ (ID/keys/*.pub), repeatable")
    mer.add_argument("--hub-keys", metavar="DIR", help="the hub's public keys (default: $AIII_HUB_KEYS or keys/hub/)")
    mer.add_argument("--allow-unsigned", action="store_true", help="take bundles without a signature (marked unsigned)")
    mer.add_argument("--keep-stale", action="store_true",
                     help="keep inputs of another plan apart (listed as stale) instead of refusing them")
    mer.add_argument("--allow-incomplete", action="store_true", help="merge even when planned cells are missing")
    mer.add_argument("--sign-key", metavar="PATH", help="sign the merged results.json with this private key")
    mer.add_argument("--sign-as", metavar="ID", default="hub", help="the signer id (default: hub)")
    mer.set_defaults(func=_cmd_merge)
