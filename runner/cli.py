"""``aiii``: the command line, a thin face over the runner's functions."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from runner import __version__
from runner.errors import HarnessError
from runner.paths import ROOT, state_dir
from runner.text import printable

#: Signals that end a run the way Ctrl-C does: the adapters are stopped, the run is kept
#: (resumable) and the exit status says which signal it was.
ENDING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


#: ``aiii run``'s exit status, as its --help and the README say it.
EXIT_STATUS = """exit status:
  0  the run completed; its findings (failing cells) are the results
  1  a gate that was asked for failed: --fail-on LEVEL, --baseline, or a profile's fail_on
  2  a harness or configuration error (a bad profile, baseline, option or vendor folder)"""


def _out(line: str) -> None:
    """Print one line whose parts may come from vendors or files: controls escaped."""
    print(printable(line))


def _cmd_run(args: argparse.Namespace) -> int:
    from conformance.discovery import discover  # the thin entry finds the families
    from runner.cli_signing import check_sign_key, print_packs, produce_pack, sign_run_output, verify_import_packs
    from runner.gates import describe
    from runner.run import RunOptions, execute_run, print_summary
    from runner.shards import parse_shard

    for option, value, least in (("--retries", args.retries, 0), ("--jobs", args.jobs, 1), ("--workers", args.workers, 1)):
        if value < least:
            raise HarnessError(f"{option} {value}: must be {least} or more")
    if not args.timeout > 0:
        raise HarnessError(f"--timeout {args.timeout:g}: a deadline is a number of seconds above 0")
    if (args.executor == "dask") != bool(args.scheduler):
        raise HarnessError("--executor dask and --scheduler ADDRESS go together")
    if args.executor != "local" and (args.produce or args.import_pack):
        raise HarnessError(f"--executor {args.executor} runs a whole plan: --produce and --import-pack need --executor local")
    if args.produce and (args.baseline or args.retries):
        raise HarnessError("--produce writes a pack, not a run's cells: --baseline and --retries do not apply")
    baseline = _baseline(args.baseline, args.store)  # read before anything runs: a bad one is exit 2
    flaky = _flaky(args.history)
    opts = RunOptions(
        profile=args.profile,
        vectors_dir=str(Path(args.vectors).resolve()) if args.vectors else None,
        vendors=[v for v in args.vendors.split(",") if v] if args.vendors else None,
        jobs=args.jobs,
        out=str(Path(args.out).resolve()),
        store=str(Path(args.store).resolve()) if args.store else None,
        timeout_s=args.timeout,
        fail_on=args.fail_on,
        extra_vendor_dirs=[str(Path(d).resolve()) for d in args.vendor_dir],
        placement=args.placement,
        shard=str(parse_shard(args.shard)) if args.shard is not None else None,  # refused here, before any work
        participant=args.participant or (args.sign_as if args.sign_key else "local"),
        signer_keyid=check_sign_key(args.sign_key),
        import_packs=[str(Path(p).resolve()) for p in args.import_pack],
        retries=args.retries,
        flaky=flaky,
        executor=args.executor,
        scheduler=args.scheduler,
        workers=args.workers,
    )
    if args.produce:
        return produce_pack(opts, discover(), args)
    packs = verify_import_packs(args)  # all or nothing, before anything runs
    summary = execute_run(opts, discover(), resume=args.resume, progress=not args.quiet, packs=packs)
    print_packs(packs)
    if args.sign_key:
        sign_run_output(summary.out_dir, Path(args.sign_key), args.sign_as)
    against = None
    if baseline is not None:
        from runner.cli_diff import load_side
        from runner.gates import baseline_gate

        against = baseline_gate(baseline, load_side(summary.run_id, opts.store), flaky)
    print_summary(summary, gate_lines=describe(summary.level_gate, against))  # last: headline, gates, scorecard
    return 1 if summary.level_gate.failed or (against is not None and against.failed) else 0


def _flaky(history: str | None) -> list[str]:
    """The cells ``--history`` calls flaky (runner/history.py), kept out of the gates."""
    if history is None:
        return []
    from runner.history import History, flaky_cells

    if "://" not in history and not Path(history).is_file():
        raise HarnessError(f"--history {history}: no such history store (`aiii publish` or the hub makes one)")
    with History(history) as store:
        return sorted(flaky_cells(store))


def _baseline(spec: str | None, store: str | None) -> dict[str, Any] | None:
    """The bundle ``--baseline`` names, or a configuration error naming it."""
    if spec is None:
        return None
    from runner.cli_diff import load_side

    try:
        return load_side(spec, str(Path(store).resolve()) if store else None)
    except HarnessError as exc:
        raise HarnessError(f"--baseline {exc}") from None


def _cmd_plan(args: argparse.Namespace) -> int:
    from conformance.discovery import discover
    from runner.cli_plan import run_plan

    return run_plan(args, discover())


def _cmd_report(args: argparse.Namespace) -> int:
    from runner.run import default_store, render_run
    from runner.store import ResultsStore

    store = ResultsStore(Path(args.store) if args.store else default_store())
    run_id = args.run or (store.runs()[-1]["id"] if store.runs() else None)
    if run_id is None:
        raise HarnessError(f"{store.path}: no runs yet")
    out = render_run(store, run_id, Path(args.out))
    _out(f"run {run_id}: scorecard {out / 'site' / 'index.html'}")
    return 0


def _cmd_runs(args: argparse.Namespace) -> int:
    from runner.run import default_store
    from runner.store import ResultsStore

    store = ResultsStore(Path(args.store) if args.store else default_store())
    for r in store.runs():
        _out(f"{r['id']}  {r['profile']:<12} {r['status']:<11} {r['cells']:>6} cells  started {r['started']}")
    return 0


def _cmd_vendors(args: argparse.Namespace) -> int:
    from runner.run import start_vendors
    from runner.vendors import availability, load_vendors, rule_version, select_vendors

    vendors = load_vendors(ROOT / "vendors", [Path(d) for d in args.vendor_dir])
    if args.vendors:
        vendors = select_vendors(vendors, [v for v in args.vendors.split(",") if v])
    if args.action == "list":
        for vid, m in sorted(vendors.items()):
            avail = availability(m)
            try:
                version = rule_version(m) if avail.runnable else None
            except Exception:  # noqa: BLE001 - listing never fails on one vendor
                version = None
            ops = ", ".join(sorted(m.operations()))
            state = "ok" if avail.runnable else f"cannot run: {avail.reason}"
            _out(f"{vid:<16} {version or '?':<12} {m.placement:<7} {ops}  [{state}]")
        return 0
    # check: start each vendor for real and report its version and health
    _, info = start_vendors(vendors, timeout_s=60.0)
    bad = 0
    for vid, entry in sorted(info.items()):
        if entry["runnable"]:
            _out(f"{vid:<16} {entry['version']:<12} ok")
        else:
            bad += 1
            _out(f"{vid:<16} {'-':<12} cannot run here: {entry['reason']}")
    return 1 if bad else 0


def _cmd_vectors(args: argparse.Namespace) -> int:
    from runner.vector_import import import_directory
    from runner.vectors import load_catalogue, verify_catalogue

    directory = Path(args.dir) if getattr(args, "dir", None) else ROOT / "test_vectors"
    if args.action == "list":
        cat = load_catalogue(directory, state_dir() / "cache")
        for v in cat.vectors:
            src = f" (from {v.source})" if v.source else ""
            _out(f"{v.id:<40} {v.media_type:<12} {','.join(v.tags):<32} {v.sha256[:12]}{src}")
        _out(f"{len(cat.vectors)} vectors, catalogue {cat.sha256[:16]}")
        return 0
    if args.action == "verify":
        problems = verify_catalogue(directory)
        for p in problems:
            _out(p)
        if not problems:
            cat = load_catalogue(directory, state_dir() / "cache")
            _out(f"ok: {len(cat.vectors)} vectors verified (derived ones regenerated or checked in cache)")
        return 1 if problems else 0
    notes: list[str] = []
    written = import_directory(Path(args.dir), notes=notes)
    for note in notes:
        _out(f"note: {note}")
    _out(f"wrote {written}")
    _out(f"run a profile on it with: aiii run --vectors {args.dir}")
    return 0


def _cmd_adapter(args: argparse.Namespace) -> int:
    if args.action == "openapi":  # the protocol's OpenAPI document, made from the kit's schemas
        import json

        from aiii_kit.protocol import openapi

        print(json.dumps(openapi(), indent=2))
        return 0
    from runner.protocol_check import check_target

    if not args.target:
        raise HarnessError("aiii adapter check: TARGET is required (a vendor id, a unix socket path or an http(s) URL)")
    probes = check_target(args.target, token_env=args.token_env, ca_file=args.ca_file,
                          vendor_dirs=[Path(d) for d in args.vendor_dir], placement=args.placement, timeout=args.timeout)
    for probe in probes:
        _out(f"{'PASS' if probe.ok else 'FAIL'}  {probe.name}: {probe.detail}")
    failed = sum(not p.ok for p in probes)
    print(f"{len(probes) - failed} passed, {failed} failed")
    return 1 if failed else 0


def _cmd_profiles(args: argparse.Namespace) -> int:
    from conformance.discovery import discover
    from runner.profiles import list_profiles, load_profile

    known = set(discover().checks)
    for name, description in list_profiles(ROOT / "profiles"):
        profile = load_profile(ROOT / "profiles", name, known)
        checks = ", ".join(f"{c.id} ({c.level.value})" for c in profile.checks)
        _out(f"{name}: {description}")
        _out(f"    {checks}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from runner.cli_diff import add_parser as add_diff_parser
    from runner.cli_hub import add_parsers as add_hub_parsers
    from runner.cli_merge import add_parser as add_merge_parser
    from runner.cli_pki import add_parser as add_pki_parser
    from runner.cli_plan import add_parser as add_plan_parser
    from runner.cli_publish import add_parser as add_publish_parser
    from runner.cli_signing import add_parsers, add_run_options
    from runner.transports import movable_placements, served_placements

    parser = argparse.ArgumentParser(prog="aiii", description="Interoperability test harness for AI-era IP infrastructure.")
    parser.add_argument("--version", action="version", version=f"aiii-interop {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run a profile and write the scorecard", formatter_class=argparse.RawDescriptionHelpFormatter,
                         description="Run a profile's checks over the vendors and vectors, store every cell, and write results.json, junit.xml, summary.md and site/.",
                         epilog=EXIT_STATUS)
    run.add_argument("--profile", default="default", help="profile name in profiles/ or a path to a .toml (default: default)")
    run.add_argument("--vectors", metavar="DIR", help="a folder with its own catalogue.toml (see `aiii vectors import`)")
    run.add_argument("--vendors", metavar="A,B", help="comma-separated vendor ids or globs (default: the default vendors)")
    run.add_argument("--vendor-dir", action="append", default=[], metavar="DIR", help="another folder of vendor manifests (repeatable)")
    run.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="cells run at once (default: the number of cores)")
    run.add_argument("--out", default="out", metavar="DIR", help="where the reports go (default: out)")
    run.add_argument("--store", metavar="PATH", help=f"SQLite results store (default: {state_dir() / 'results.sqlite'})")
    run.add_argument("--timeout", type=float, default=60.0, metavar="S", help="deadline of each adapter call in seconds (default 60)")
    run.add_argument("--fail-on", choices=["MUST", "SHOULD", "MAY", "never"], help="exit 1 when a cell at this level or stricter fails or errs (default: the profile's fail_on, else never)")
    run.add_argument("--history", metavar="PATH|URL", help="a history store (aiii publish, the hub): the cells it "
                     "calls flaky are kept out of --fail-on and --baseline, and listed")
    run.add_argument("--baseline", metavar="FILE|RUN_ID", help="exit 1 when a MUST cell regressed against this run (a results.json, a folder holding one, or a run id in the store) or a new MUST cell fails or errs")
    run.add_argument("--retries", type=int, default=0, metavar="N", help="run a cell whose outcome is error up to N more times, keeping every attempt (default 0)")
    run.add_argument("--placement", choices=movable_placements(), help="run every in-process vendor in this placement instead (e.g. docker: all containerised, with process vendors that serve themselves and ship a Dockerfile)")
    run.add_argument("--shard", metavar="I/N", help="run only shard I of N (1-based): a deterministic split of the plan that keeps cells sharing producer calls together")
    run.add_argument("--executor", choices=("local", "dask", "dask-local"), default="local", help="where cells run: this process's threads (default), an existing Dask cluster (--scheduler), or a local one (--workers)")
    run.add_argument("--scheduler", metavar="ADDRESS", help="the Dask scheduler of --executor dask, e.g. tcp://10.0.0.5:8786")
    run.add_argument("--workers", type=int, default=2, metavar="N", help="worker processes of --executor dask-local (default 2)")
    run.add_argument("--resume", metavar="RUN_ID", help="finish an interrupted run; its options are reused")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    add_run_options(run)
    run.set_defaults(func=_cmd_run)

    rep = sub.add_parser("report", help="re-render the reports of a stored run", description="Re-render results.json, junit.xml, summary.md and site/ from the results store.")
    rep.add_argument("--run", metavar="RUN_ID", help="the run (default: the latest)")
    rep.add_argument("--store", metavar="PATH", help="SQLite results store")
    rep.add_argument("--out", default="out", metavar="DIR", help="where the reports go (default: out)")
    rep.set_defaults(func=_cmd_report)

    runs = sub.add_parser("runs", help="list the runs in the results store", description="List stored runs with their status and cell counts.")
    runs.add_argument("--store", metavar="PATH", help="SQLite results store")
    runs.set_defaults(func=_cmd_runs)

    ven = sub.add_parser("vendors", help="list or check vendors", description="list: every vendor, its version and operations; check: start each vendor and say whether it can run here.")
    ven.add_argument("action", choices=["list", "check"])
    ven.add_argument("--vendor-dir", action="append", default=[], metavar="DIR", help="another folder of vendor manifests")
    ven.add_argument("--vendors", metavar="A,B", help="only these vendor ids or globs (default: every vendor)")
    ven.set_defaults(func=_cmd_vendors)

    vec = sub.add_parser("vectors", help="list, verify or import test vectors", description="list: the catalogue with derived vectors; verify: check every file's sha256; import DIR: write a catalogue for a folder of your own media.")
    vec.add_argument("action", choices=["list", "verify", "import"])
    vec.add_argument("dir", nargs="?", help="catalogue folder (default test_vectors/); required for import")
    vec.set_defaults(func=_cmd_vectors)

    ada = sub.add_parser("adapter", help="check an adapter server against the protocol",
                         description="check TARGET: probe an adapter server (a vendor id, a unix socket path or an http(s) URL) for schema-valid answers, the right error codes for bad requests and the size limit; openapi: print the protocol's OpenAPI document, made from its schemas.")
    ada.add_argument("action", choices=["check", "openapi"])
    ada.add_argument("target", nargs="?", help="vendor id, unix socket path, or http(s) URL")
    ada.add_argument("--placement", choices=served_placements(), default="process", help="where to start a vendor given by id (default process)")
    ada.add_argument("--token-env", metavar="NAME", help="environment variable holding the bearer token")
    ada.add_argument("--ca-file", metavar="PEM", help="extra CA certificates to trust for https")
    ada.add_argument("--vendor-dir", action="append", default=[], metavar="DIR", help="another folder of vendor manifests")
    ada.add_argument("--timeout", type=float, default=60.0, metavar="S", help="deadline of each probe")
    ada.set_defaults(func=_cmd_adapter)

    prof = sub.add_parser("profiles", help="list profiles", description="List the profiles and the checks each runs.")
    prof.add_argument("action", choices=["list"])
    prof.set_defaults(func=_cmd_profiles)
    add_plan_parser(sub, _cmd_plan)
    add_parsers(sub)
    add_merge_parser(sub)
    add_diff_parser(sub)
    add_publish_parser(sub)
    add_hub_parsers(sub)
    add_pki_parser(sub)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised in the main thread like Ctrl-C's KeyboardInterrupt, so
    every ``finally`` on the way out runs: transports closed, adapters' processes ended."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _ignore(signum: int, frame: FrameType | None) -> None:
    """A second signal must not cut the clean-up short (a handler, not SIG_IGN: a child
    started meanwhile must not inherit an ignored SIGTERM)."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    for sig in ENDING_SIGNALS:
        signal.signal(sig, _ignore)
    raise Terminated(signum)


@contextmanager
def _ending_signals_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP behave like SIGINT while the command runs."""
    try:
        previous = {sig: signal.signal(sig, _raise_terminated) for sig in ENDING_SIGNALS}
    except ValueError:  # not the main thread (main() called from a test's thread): leave them
        yield
        return
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "vectors" and args.action == "import" and not args.dir:
        parser.error("vectors import needs DIR")
    try:
        with _ending_signals_interrupt():
            return int(args.func(args))
    except HarnessError as exc:
        print(f"aiii: error: {printable(exc)}", file=sys.stderr)
        return 2
    except Terminated as exc:
        print(f"aiii: stopped by {exc}; resume with `aiii run --resume RUN_ID` (see `aiii runs`)", file=sys.stderr)
        return 128 + exc.signum
    except KeyboardInterrupt:
        print("aiii: interrupted; resume with `aiii run --resume RUN_ID` (see `aiii runs`)", file=sys.stderr)
        return 130
    except Exception:  # a harness bug: status 2 like any harness error, never 1, which means a gate failed
        traceback.print_exc()
        print("aiii: internal error (a bug in the harness; the traceback above says where)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
