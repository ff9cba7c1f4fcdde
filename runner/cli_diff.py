"""``aiii diff A B``: the CLI's face over runner/diff.py.

A and B are each a ``results.json`` (or a folder holding one) or a run id in the results
store (``--store``, default the state folder's).  The Markdown goes to stdout, or with
``--json`` the JSON form; ``--out-md``/``--out-json`` also write them to files.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from runner.errors import HarnessError
from runner.paths import display


def load_side(spec: str, store_path: str | None) -> dict[str, Any]:
    """The bundle ``spec`` names: a results.json, a folder holding one, or a stored run id."""
    from reports.bundle import BundleError, read_bundle

    path = Path(spec)
    if path.is_dir():
        path = path / "results.json"
    if path.is_file():
        try:
            return read_bundle(path)
        except BundleError as exc:
            raise HarnessError(f"{display(path)}: not a result bundle: {str(exc).splitlines()[0]}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise HarnessError(f"{display(path)}: cannot read: {exc}") from None
    from runner.render import build_bundle
    from runner.run import default_store
    from runner.store import ResultsStore

    store = ResultsStore(Path(store_path) if store_path else default_store())
    if spec not in {r["id"] for r in store.runs()}:
        raise HarnessError(f"{spec}: neither a results.json, a folder holding one, nor a run in {display(store.path)}")
    return build_bundle(store, spec)


def _cmd_diff(args: argparse.Namespace) -> int:
    from runner.diff import diff_bundles, diff_markdown
    from runner.text import printable

    result = diff_bundles(load_side(args.a, args.store), load_side(args.b, args.store))
    text = diff_markdown(result)
    doc = json.dumps(result, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if args.out_md:
        Path(args.out_md).write_text(text, encoding="utf-8")
    if args.out_json:
        Path(args.out_json).write_text(doc, encoding="utf-8")
    sys.stdout.write(doc if args.json else "\n".join(printable(line) for line in text.splitlines()) + "\n")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("diff", help="what changed between two runs: regressions, fixes, new and removed cells",
                       description="Compare run A with run B cell by cell, by vendor and by check: new and removed "
                                   "cells, regressions (pass to fail or error), fixes, other outcome changes and "
                                   "changed reasons. A and B: a results.json, a folder holding one, or a run id.")
    p.add_argument("a", metavar="A", help="the earlier run")
    p.add_argument("b", metavar="B", help="the later run")
    p.add_argument("--store", metavar="PATH", help="the results store run ids are looked up in")
    p.add_argument("--json", action="store_true", help="print the JSON form instead of Markdown")
    p.add_argument("--out-md", metavar="FILE", help="also write the Markdown here")
    p.add_argument("--out-json", metavar="FILE", help="also write the JSON here")
    p.set_defaults(func=_cmd_diff)
