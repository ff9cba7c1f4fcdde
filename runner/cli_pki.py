"""``aiii pki show|export|import``: one test PKI shared by the participants of a plan.

Every signing vendor's credentials derive from the test PKI's root (runner/pki.py), and
the root's fingerprint is part of the plan digest.  Participants who exchange packs of
signed artifacts, or shards of one plan, run under one root: the hub exports it, each
participant imports it.  It is a test-only PKI: nothing it signs is trusted anywhere
else, and its file is named ``TEST-ONLY-...``, written readable by its owner only.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from runner.errors import HarnessError
from runner.paths import display, state_dir
from runner.text import printable


def _line(pki) -> str:  # type: ignore[no-untyped-def]
    return f"root {pki.fingerprint[:16]}, valid until {pki.root.not_valid_after_utc:%Y-%m-%d}"


def _cmd_pki(args: argparse.Namespace) -> int:
    from runner.pki import EXPORT_NAME, PKIError, TestPKI

    here = state_dir() / "pki"
    if args.action == "import":
        if not args.file:
            raise HarnessError("aiii pki import FILE: give the file `aiii pki export` wrote")
        try:
            pki = TestPKI.from_export(Path(args.file), display(Path(args.file)))
        except PKIError as exc:
            raise HarnessError(str(exc)) from None
        before = TestPKI.create(here).fingerprint if (here / "root-ca.cert.pem").is_file() else None
        pki.install(here)
        was = "" if before in (None, pki.fingerprint) else f" (replacing root {before[:16]})"
        print(printable(f"imported the test PKI, {_line(pki)}, into {display(here)}{was}"))
        return 0
    pki = TestPKI.create(here)
    if args.action == "show":
        print(printable(f"test PKI: {_line(pki)}: {display(here)}"))
        return 0
    target = Path(args.out) if args.out else Path(EXPORT_NAME)
    if target.is_dir():
        target = target / EXPORT_NAME
    if target.exists() or target.is_symlink():
        raise HarnessError(f"{display(target)}: already exists; remove it or give another --out")
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise HarnessError(f"{display(target)}: cannot write: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(pki.export_pem())
    print(printable(f"exported the test PKI, {_line(pki)}, to {display(target)}: test-only keys, "
                    "for the participants of this plan only (`aiii pki import FILE`)"))
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    pki = sub.add_parser(
        "pki", help="show, export or import the test PKI that signing vendors' credentials derive from",
        description="show: the test PKI's root fingerprint; export [--out FILE]: write its root certificate and key "
                    "(test-only, mode 0600) for the other participants of a plan; import FILE: use that root here "
                    "(its fingerprint is part of the plan digest, so packs and shards combine only under one root).")
    pki.add_argument("action", choices=["show", "export", "import"])
    pki.add_argument("file", nargs="?", metavar="FILE", help="import: the file `aiii pki export` wrote")
    pki.add_argument("--out", metavar="PATH", help=f"export: where to write (default: ./{'TEST-ONLY-aiii-pki.pem'})")
    pki.set_defaults(func=_cmd_pki)
