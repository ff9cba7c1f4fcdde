"""``aiii publish BUNDLE... --history PATH --site DIR``: the CLI's face over
runner/ingest.py and runner/publish.py, the same as the hub does after each upload,
without a server.

Each bundle is ingested (one line each: its state and why), then the site is written
from the history alone.  Exit 0 when every bundle was valid or a duplicate, 1 when any
was invalid or stale (the others are still ingested and published), 2 on a
configuration error (an unreadable key folder, a history that cannot be opened)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from runner.paths import display
from runner.text import printable


def declared_expectations() -> dict[str, list[dict[str, Any]]]:
    """Vendor id -> the known issues its manifest (the repository's vendors/) declares."""
    from runner.paths import ROOT
    from runner.vendors import load_vendors

    manifests = load_vendors(ROOT / "vendors")
    return {vid: [e.as_dict() for e in m.expectations] for vid, m in manifests.items() if m.expectations}


def _cmd_publish(args: argparse.Namespace) -> int:
    from runner.cli_signing import _registry
    from runner.history import History
    from runner.ingest import ingest_bundle
    from runner.publish import publish_site

    registry = _registry(args)  # a malformed key file is the configuration's error (exit 2)
    refused = 0
    with History(args.history) as history:
        for given in args.bundles:
            result = ingest_bundle(Path(given), history, registry, allow_unsigned=args.allow_unsigned)
            refused += not result.accepted
            print(printable(result.line(display(Path(given)))))
        published = publish_site(history, Path(args.site), declared=declared_expectations())
    print(printable(published.line()))
    print(printable(f"landing page: {display(Path(args.site) / 'index.html')}"))
    return 1 if refused else 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    pub = sub.add_parser(
        "publish", help="ingest bundles into the history and write the published site",
        description="Verify each bundle (signature, schema, plan) and ingest it into the history store "
                    "(valid, duplicate, invalid or stale, one line each), then write the site from the history: "
                    "the landing page, each run's scorecard, the run list with each run's changes, vendors' pages "
                    "over time, badges and the JSON API.  Exit 1 when any bundle was invalid or stale.")
    pub.add_argument("bundles", nargs="+", metavar="BUNDLE", help="a results.json, or a folder holding one")
    pub.add_argument("--history", required=True, metavar="PATH",
                     help="the history store: a SQLite file, or an SQLAlchemy URL")
    pub.add_argument("--site", required=True, metavar="DIR", help="where the published site is written")
    pub.add_argument("--keys", action="append", default=[], metavar="DIR",
                     help="another folder laid out like vendors/ (ID/keys/*.pub), repeatable")
    pub.add_argument("--hub-keys", metavar="DIR", help="the hub's public keys (default: $AIII_HUB_KEYS or keys/hub/)")
    pub.add_argument("--allow-unsigned", action="store_true", help="take bundles without a signature (marked unsigned)")
    pub.set_defaults(func=_cmd_publish)
