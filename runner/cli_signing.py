"""``aiii keys generate`` and ``aiii bundle sign|verify``: the CLI's face over
runner/keys.py and runner/attest.py (kept apart from runner/cli.py, which only adds
these sub-commands and ``aiii run --sign-key``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from runner.paths import display
from runner.text import printable


def _out(line: str) -> None:
    print(printable(line))


def _cmd_keys(args: argparse.Namespace) -> int:
    from runner.keys import generate

    private, public, keyid = generate(Path(args.out), args.id)
    _out(f"wrote {display(private)} (private: keep it, never commit it) and {display(public)} (public)")
    _out(f"keyid {keyid}; to sign for vendor ID, put {public.name} in vendors/ID/keys/")
    return 0


def _registry(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from runner.keys import load_registry

    return load_registry([Path(d) for d in args.keys], Path(args.hub_keys) if args.hub_keys else None)


def _cmd_bundle(args: argparse.Namespace) -> int:
    from runner.attest import AttestationError, sign_bundle, verify_bundle
    from runner.errors import HarnessError

    bundle = Path(args.bundle)
    if args.action == "sign":
        from runner.keys import load_signer

        if not args.key or not args.signer:
            raise HarnessError("aiii bundle sign: --key PATH and --as ID are required")
        envelope = sign_bundle(bundle, load_signer(Path(args.key)), args.signer)
        _out(f"signed: {display(bundle)} as {args.signer} -> {display(envelope)}")
        return 0
    registry = _registry(args)  # a malformed key file is the configuration's error (exit 2), not a refusal
    try:
        verified = verify_bundle(bundle, registry, Path(args.envelope) if args.envelope else None)
    except AttestationError as exc:
        print(printable(f"refused: {exc}"), file=sys.stderr)
        return 1
    _out(verified.line())
    return 0


def sign_run_output(out_dir: Path, key: Path, signer_id: str) -> None:
    """Sign the bundle ``aiii run`` wrote (``--sign-key``), and say so in one line."""
    from runner.attest import sign_bundle
    from runner.keys import load_signer

    envelope = sign_bundle(out_dir / "results.json", load_signer(key), signer_id, validate=False)  # validated when written
    _out(f"signed as {signer_id}: {display(envelope)}")


def check_sign_key(key: str | None) -> str | None:
    """Refuse an unusable ``--sign-key`` before a run starts, not after it ends; its keyid."""
    if not key:
        return None
    from runner.keys import load_signer

    return str(load_signer(Path(key)).public_key.keyid)


def produce_pack(opts, suite, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    """``aiii run --produce V``: V's producer steps to ``<out>/pack-V.tar``, signed by V."""
    from runner.errors import HarnessError
    from runner.keys import load_signer
    from runner.pack_run import produce
    from runner.run import Run

    if not args.sign_key:
        raise HarnessError("--produce: a pack is signed: give --sign-key PATH --sign-as VENDOR (or hub, for reference vendors)")
    producers = list(dict.fromkeys(v for v in args.produce.split(",") if v))
    imported = verify_import_packs(args)  # all or nothing, before anything runs
    run = Run(opts, suite)
    try:
        packs = produce(run, suite, producers, load_signer(Path(args.sign_key)), args.sign_as, opts.participant,
                        Path(opts.out), imported)
    finally:
        run.cache.close()
    for producer, (path, steps) in zip(producers, packs, strict=True):
        _out(f"pack of {producer}: {steps} steps, plan {run.plan_digest.sha256[:16]}, signed as {args.sign_as}: "
             f"{display(path)}")
    return 0


def verify_import_packs(args: argparse.Namespace) -> list:  # type: ignore[type-arg]
    """The packs of ``--import-pack``, each verified against the keys registry (the
    plan digest is checked once the run is planned)."""
    if not args.import_pack:
        return []
    from runner.keys import load_registry
    from runner.pack_run import verify_packs
    from runner.paths import ROOT
    from runner.vendors import load_vendors

    registry = load_registry([Path(d) for d in [*args.vendor_dir, *args.pack_keys]],
                             Path(args.hub_keys) if getattr(args, "hub_keys", None) else None)
    manifests = load_vendors(ROOT / "vendors", [Path(d) for d in args.vendor_dir])
    registry.hub_vendors = frozenset(vid for vid, m in manifests.items() if m.role == "reference")
    return verify_packs([Path(p) for p in args.import_pack], registry)


def print_packs(packs: list) -> None:  # type: ignore[type-arg]
    """One line per imported pack, once the run (and its plan check) is done."""
    for pack in packs:
        _out(f"served {pack.producer} from {display(pack.path)}: {len(pack.steps)} steps, "
             f"signed by {pack.signer}/{pack.keyid[:16]}, verified")


def add_run_options(run: argparse.ArgumentParser) -> None:
    run.add_argument("--sign-key", metavar="PATH", help="sign results.json with this private key (results.dsse.json beside it)")
    run.add_argument("--sign-as", metavar="ID", default="hub", help="the vendor id the signature is for (default: hub)")
    run.add_argument("--produce", metavar="V[,W]", help="run only vendor V's producer steps of the plan and write them to "
                     "OUT/pack-V.tar, signed with --sign-key for --sign-as V, or by the hub (--sign-as hub) for "
                     "reference vendors, one pack each (no scorecard)")
    run.add_argument("--import-pack", action="append", default=[], metavar="PACK",
                     help="serve the pack's vendor from this verified pack instead of its adapter (repeatable; with "
                     "--produce, the producers' steps on that vendor's outputs are made and packed too)")
    run.add_argument("--pack-keys", action="append", default=[], metavar="DIR",
                     help="another folder laid out like vendors/ (ID/keys/*.pub) whose keys may sign packs (repeatable)")
    run.add_argument("--participant", metavar="ID",
                     help="who this run is, in each step's origin (default: the --sign-as id when signing, else local)")


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    keys = sub.add_parser("keys", help="make a signing key pair",
                          description="generate: write an Ed25519 key pair, NAME.pem (private, mode 0600) and NAME.pub "
                                      "(public, JSON; put it in vendors/<id>/keys/ to sign for vendor <id>).")
    keys.add_argument("action", choices=["generate"])
    keys.add_argument("--out", required=True, metavar="DIR", help="where the two files go")
    keys.add_argument("--id", default="signing", metavar="NAME", help="the files' name (default: signing)")
    keys.set_defaults(func=_cmd_keys)

    bun = sub.add_parser("bundle", help="sign or verify a result bundle",
                         description="sign BUNDLE --key PATH --as ID: write BUNDLE's DSSE envelope (results.dsse.json) "
                                     "signed for vendor ID (or hub); verify BUNDLE: check the envelope's signature "
                                     "against the keys registered for its signer, and the bundle, its cells, artifacts "
                                     "and logs against what was signed (exit 1 and one line when refused).")
    bun.add_argument("action", choices=["sign", "verify"])
    bun.add_argument("bundle", metavar="BUNDLE", help="a results.json")
    bun.add_argument("--key", metavar="PATH", help="sign: the private key (from `aiii keys generate`)")
    bun.add_argument("--as", dest="signer", metavar="ID", help="sign: the vendor id the signature is for, or hub")
    bun.add_argument("--keys", action="append", default=[], metavar="DIR",
                     help="verify: another folder laid out like vendors/ (ID/keys/*.pub), repeatable")
    bun.add_argument("--hub-keys", metavar="DIR", help="verify: the hub's public keys (default: $AIII_HUB_KEYS or keys/hub/)")
    bun.add_argument("--envelope", metavar="PATH", help="verify: the envelope (default: beside BUNDLE, NAME.dsse.json)")
    bun.set_defaults(func=_cmd_bundle)
