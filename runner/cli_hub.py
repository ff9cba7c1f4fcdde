"""``aiii hub serve``, ``aiii hub token`` and ``aiii submit``: the hub's CLI.

``aiii hub serve`` runs runner/hub_server.py's application with uvicorn on a socket it
binds first (``--listen HOST:PORT``; port 0 picks a free one), and prints one line with
its address once it listens.  ``aiii hub token ID --tokens FILE`` issues a participant's
upload token (printed once).  ``aiii submit URL FILE`` uploads a bundle (its envelope
found beside it) or a pack, with the token from ``$AIII_HUB_TOKEN`` (or ``--token-env``),
and prints the upload's state; exit 0 when it is valid or a duplicate, 1 when it is
invalid or stale, 2 when the hub cannot be reached.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

from runner.errors import HarnessError
from runner.paths import display, state_dir
from runner.text import printable


def _listen(spec: str) -> socket.socket:
    host, sep, port = spec.rpartition(":")
    if not sep or not port.isdigit():
        raise HarnessError(f"--listen {spec!r}: give HOST:PORT (port 0: any free port)")
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), int(port)))
    except OSError as exc:
        sock.close()
        raise HarnessError(f"--listen {spec}: cannot bind: {exc.strerror}") from None
    sock.listen(128)
    return sock


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from runner.hub_server import HubConfig, create_app

    config = HubConfig(site=Path(args.site).resolve(), history=args.history, tokens=Path(args.tokens),
                       state=Path(args.state) if args.state else state_dir() / "hub",
                       vendor_dirs=[Path(d).resolve() for d in args.keys],
                       hub_keys=Path(args.hub_keys) if args.hub_keys else None,
                       max_upload=int(args.max_upload_mib * 1024 * 1024), allow_unsigned=args.allow_unsigned)
    if not config.tokens.is_file():
        raise HarnessError(f"{display(config.tokens)}: no tokens file: make one with `aiii hub token ID --tokens FILE`")
    app = create_app(config)
    sock = _listen(args.listen)
    host, port = sock.getsockname()[:2]
    print(printable(f"hub serving http://{host}:{port}/ (site {display(config.site)}, history {args.history})"), flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0


def _cmd_token(args: argparse.Namespace) -> int:
    from runner.hub_tokens import issue

    token = issue(Path(args.tokens), args.participant)
    print(token)
    print(printable(f"upload token of {args.participant} written (as its sha256) to {display(Path(args.tokens))}; "
                    "it is shown only now"), file=sys.stderr)
    return 0


def _cmd_hub(args: argparse.Namespace) -> int:
    return _cmd_serve(args) if args.action == "serve" else _cmd_token(args)


def _cmd_submit(args: argparse.Namespace) -> int:
    import requests

    path = Path(args.file)
    if path.is_dir():
        path = path / "results.json"
    if not path.is_file():
        raise HarnessError(f"{display(path)}: no such file")
    token = os.environ.get(args.token_env)
    if not token:
        raise HarnessError(f"${args.token_env}: no upload token set (`aiii hub token` gives one)")
    is_pack = path.suffix == ".tar"
    files: dict[str, tuple[str, bytes, str]]
    if is_pack:
        files = {"pack": (path.name, path.read_bytes(), "application/x-tar")}
    else:
        envelope = Path(args.envelope) if args.envelope else path.with_name(path.stem + ".dsse.json")
        files = {"bundle": (path.name, path.read_bytes(), "application/json")}
        if envelope.is_file():
            files["envelope"] = (envelope.name, envelope.read_bytes(), "application/json")
    url = args.url.rstrip("/") + ("/api/v1/packs" if is_pack else "/api/v1/uploads")
    try:
        answer = requests.post(url, files=files, headers={"Authorization": f"Bearer {token}"}, timeout=args.timeout)
    except requests.RequestException as exc:
        print(printable(f"aiii submit: {url}: cannot reach the hub: {exc.__class__.__name__}"), file=sys.stderr)
        return 2
    try:
        record = answer.json()
        state, reason = record["state"], record.get("reason")
    except (ValueError, KeyError, TypeError):
        print(printable(f"aiii submit: {url}: HTTP {answer.status_code}, not a hub's answer"), file=sys.stderr)
        return 2
    line = f"{state}: {display(path)}" + (f": {reason}" if reason else "") + f" (upload {record.get('id')})"
    print(printable(line), file=sys.stdout if state in ("valid", "duplicate") else sys.stderr)
    return 0 if state in ("valid", "duplicate") else 1


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    hub = sub.add_parser("hub", help="serve the hub, or issue a participant's upload token",
                         description="serve: the hub's HTTP service (uploads of signed bundles and packs, the "
                                     "published site and its API); token ID: issue participant ID's upload token.")
    hub.add_argument("action", choices=["serve", "token"])
    hub.add_argument("participant", nargs="?", metavar="ID", help="token: the participant (a vendor id, or hub)")
    hub.add_argument("--tokens", required=True, metavar="FILE", help="the participants' upload tokens (JSON, sha256 only)")
    hub.add_argument("--site", default="site", metavar="DIR", help="serve: the published site (default: site)")
    hub.add_argument("--history", default="history.sqlite", metavar="PATH|URL",
                     help="serve: the history store, a SQLite path or an SQLAlchemy URL (default: history.sqlite)")
    hub.add_argument("--listen", default="127.0.0.1:8080", metavar="HOST:PORT", help="serve: where (port 0: any free)")
    hub.add_argument("--state", metavar="DIR", help="serve: the hub's upload log (default: the state folder's hub/)")
    hub.add_argument("--keys", action="append", default=[], metavar="DIR",
                     help="serve: a folder laid out like vendors/ (ID/vendor.toml, ID/keys/*.pub), repeatable")
    hub.add_argument("--hub-keys", metavar="DIR", help="serve: the hub's public keys (default: $AIII_HUB_KEYS or keys/hub/)")
    hub.add_argument("--max-upload-mib", type=float, default=256.0, metavar="MIB", help="serve: upload limit (default 256)")
    hub.add_argument("--allow-unsigned", action="store_true", help="serve: take bundles without an envelope")
    hub.set_defaults(func=_cmd_hub_checked)

    sub_ = sub.add_parser("submit", help="upload a signed bundle or a pack to a hub",
                          description="Upload FILE (a results.json, its folder, or a pack .tar) to the hub at URL with "
                                      "the token in $AIII_HUB_TOKEN; the bundle's envelope is taken from beside it.")
    sub_.add_argument("url", metavar="URL")
    sub_.add_argument("file", metavar="FILE")
    sub_.add_argument("--envelope", metavar="PATH", help="the bundle's DSSE envelope (default: NAME.dsse.json beside it)")
    sub_.add_argument("--token-env", default="AIII_HUB_TOKEN", metavar="NAME", help="the variable holding the token")
    sub_.add_argument("--timeout", type=float, default=600.0, metavar="S", help="seconds to wait for the hub's answer")
    sub_.set_defaults(func=_cmd_submit)


def _cmd_hub_checked(args: argparse.Namespace) -> int:
    if args.action == "token" and not args.participant:
        raise HarnessError("aiii hub token ID --tokens FILE: give the participant's id")
    return _cmd_hub(args)
