"""The adapter kit's server: serve any :class:`aiii_kit.Adapter` over the protocol.

Standard library only, like the rest of the kit's core, so a vendor's adapter is served
from any Python environment that has ``aiii-adapter-kit`` installed::

    python -m aiii_kit --entry vendors/acme/adapter.py:AcmeAdapter --vendor acme --unix /tmp/acme.sock
    python -m aiii_kit --entry adapter.py:AcmeAdapter --vendor acme --listen 0.0.0.0:8443 \\
        --tls-cert cert.pem --tls-key key.pem --token-env ACME_TOKEN

or from code: ``serve(AcmeAdapter, vendor="acme", unix_socket=path)``.

The protocol (``python -m aiii_kit.protocol`` prints its OpenAPI document), version 1:

* ``GET /v1/describe``: vendor, implementation version, operations.
* ``GET /v1/health``: ``{"status": "ok"}`` or 503.
* ``POST /v1/operations/{operation}``: ``multipart/form-data`` with a ``params`` part
  (JSON) and an ``asset`` part (the asset's bytes, its media type as the part's type).
  A producer answers with the asset's bytes as the body; a consumer with JSON.
  Errors are ``{"error": {"kind", "message"}}`` with 400 (bad request), 401 (token),
  404, 413 (too large), 422 (the adapter's clean failure), 501 (unsupported), 500.
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
import socket
import socketserver
import ssl
import sys
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiii_kit._core import Adapter, AdapterError, Asset, Unsupported, resolve_version
from aiii_kit._loader import AdapterLoadError, load_adapter
from aiii_kit.protocol import OPERATIONS, PROTOCOL

DEFAULT_MAX_REQUEST = 256 * 1024 * 1024


def implemented_operations(adapter: Adapter) -> list[str]:
    return [op for op in OPERATIONS if callable(getattr(adapter, op.replace(".", "_"), None))]


class _Handler(BaseHTTPRequestHandler):
    server: _Server  # type: ignore[assignment]
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        if self.server.verbose:
            sys.stderr.write(f"{self.server.vendor}: {format % args}\n")

    # -- replies -----------------------------------------------------------------------

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, value: Any) -> None:
        # ASCII escapes carry any text an adapter holds, lone surrogates included (the
        # harness's gate repairs and notes them, as for an in-process answer).
        try:
            body = json.dumps(value, ensure_ascii=True)
        except (TypeError, ValueError, RecursionError) as exc:
            body = json.dumps({"error": {"kind": "internal",
                                         "message": f"the adapter's answer is not JSON: {type(exc).__name__}: {exc}"[:2000]}},
                              ensure_ascii=True)
            status = 500
        self._send(status, body.encode(), "application/json")

    def _error(self, status: int, kind: str, message: str) -> None:
        self._json(status, {"error": {"kind": kind, "message": message[:4000]}})

    def _authorised(self) -> bool:
        token = self.server.token
        if token is None:
            return True
        given = self.headers.get("Authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return True
        self._error(401, "unauthorised", "a valid bearer token is required")
        return False

    # -- routes ------------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        if not self._authorised():
            return
        adapter = self.server.adapter
        if self.path == "/v1/describe":
            self._json(200, {
                "protocol": PROTOCOL,
                "vendor": self.server.vendor,
                "implementation_version": self.server.version(),
                "operations": implemented_operations(adapter),
            })
        elif self.path == "/v1/health":
            try:
                adapter.health()
            except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
                self._json(503, {"status": "unhealthy", "reason": str(exc)[:2000]})
                return
            self._json(200, {"status": "ok"})
        else:
            self._error(404, "not_found", f"no route {self.path}")

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        if not self._authorised():
            return
        prefix = "/v1/operations/"
        self.close_connection = True  # a refused request's body is never read: do not reuse the connection
        if not self.path.startswith(prefix):
            self._error(404, "not_found", f"no route {self.path}")
            return
        operation = self.path[len(prefix):]
        if operation not in OPERATIONS:
            self._error(404, "not_found", f"unknown operation {operation!r}")
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._error(411, "bad_request", "Content-Length is required")
            return
        if length > self.server.max_request:
            self._error(413, "too_large", f"request of {length} bytes exceeds {self.server.max_request}")
            self.close_connection = True
            return
        body = self.rfile.read(length)
        try:
            params, asset = parse_operation_request(self.headers.get("Content-Type", ""), body)
        except ValueError as exc:
            self._error(400, "bad_request", str(exc))
            return
        try:
            answer = self.server.adapter.call(operation, asset, params)
        except Unsupported as exc:
            self._error(501, "unsupported", str(exc))
            return
        except AdapterError as exc:
            self._error(422, "adapter_error", str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - report, keep serving
            last = traceback.format_exc(limit=3).strip().splitlines()[-1]
            self._error(500, "internal", f"{type(exc).__name__}: {last}")
            return
        if isinstance(answer, Asset):
            self._send(200, answer.data, answer.media_type)
        else:
            self._json(200, answer)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: Any, adapter: Adapter, vendor: str, token: str | None,
                 max_request: int, verbose: bool, version_rule: dict[str, Any] | None = None) -> None:
        self.adapter = adapter
        self.version_rule = version_rule or {}
        self.vendor = vendor
        self.token = token
        self.max_request = max_request
        self.verbose = verbose
        super().__init__(address, _Handler)

    def version(self) -> str | None:
        """The manifest's version rule evaluated here, else the adapter's own answer (as text)."""
        try:
            found = resolve_version(self.version_rule) or self.adapter.implementation_version()
        except Exception:  # noqa: BLE001 - an unknown version is not fatal
            try:
                found = self.adapter.implementation_version()
            except Exception:  # noqa: BLE001
                found = None
        if found is None or isinstance(found, str):
            return found
        return ".".join(map(str, found)) if isinstance(found, tuple | list) else str(found)


class _UnixServer(_Server):
    address_family = socket.AF_UNIX

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)  # no getfqdn on a path
        self.server_name, self.server_port = "localhost", 0

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, _ = self.socket.accept()
        return conn, ("unix", 0)


def _header_params(value: str) -> tuple[str, dict[str, str]]:
    """``form-data; name="asset"; filename="x.jpg"`` -> ("form-data", {"name": ..., ...})."""
    head, *rest = value.split(";")
    params = {}
    for item in rest:
        key, _, val = item.strip().partition("=")
        params[key.strip().lower()] = val.strip().strip('"')
    return head.strip().lower(), params


def parse_operation_request(content_type: str, body: bytes) -> tuple[dict[str, Any], Asset]:
    """Split a multipart/form-data body into the params JSON and the asset.

    A small parser of our own: the standard library's email parser is far too slow on
    megabytes of binary data (0.6 s for 5 MB).
    """
    kind, ctype_params = _header_params(content_type)
    boundary = ctype_params.get("boundary", "")
    if kind != "multipart/form-data" or not boundary:
        raise ValueError("expected multipart/form-data (with a boundary) holding the parts 'params' and 'asset'")
    delimiter = b"--" + boundary.encode("latin-1")
    pieces = body.split(b"\r\n" + delimiter)
    if not pieces[0].startswith(delimiter):
        raise ValueError("the multipart body does not start with its boundary")
    pieces[0] = pieces[0][len(delimiter):]
    parts: dict[str, tuple[dict[str, str], bytes]] = {}
    for piece in pieces:
        if piece.startswith(b"--"):
            break  # the closing delimiter
        head, sep, content = piece.partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("a multipart part has no header block")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip():
                headers[name.strip().lower()] = value.strip()
        _, disposition = _header_params(headers.get("content-disposition", ""))
        if disposition.get("name") in ("params", "asset"):
            parts[disposition["name"]] = ({**headers, **{f"@{k}": v for k, v in disposition.items()}}, content)
    if "params" not in parts or "asset" not in parts:
        raise ValueError("the body needs the parts 'params' and 'asset'")
    try:
        params = json.loads(parts["params"][1] or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"params is not JSON: {exc}") from None
    if not isinstance(params, dict):
        raise ValueError("params must be a JSON object")
    headers, data = parts["asset"]
    media_type = _header_params(headers.get("content-type", "application/octet-stream"))[0]
    return params, Asset(data, media_type, headers.get("@filename", ""))


def build_server(adapter: Adapter, vendor: str, *, unix_socket: str | None = None, listen: tuple[str, int] | None = None,
                 tls: tuple[str, str] | None = None, token: str | None = None,
                 max_request: int = DEFAULT_MAX_REQUEST, verbose: bool = False,
                 version_rule: dict[str, Any] | None = None) -> _Server:
    """A ready server on a unix socket or a TCP address (TLS when cert and key are given)."""
    if unix_socket:
        if os.path.exists(unix_socket):
            os.unlink(unix_socket)
        server: _Server = _UnixServer(unix_socket, adapter, vendor, token, max_request, verbose, version_rule)
        os.chmod(unix_socket, 0o666)  # the harness may run as another user than a container
        return server
    assert listen is not None
    server = _Server(listen, adapter, vendor, token, max_request, verbose, version_rule)
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    return server


def serve(adapter_class: type[Adapter], vendor: str, config: dict[str, Any] | None = None, **kwargs: Any) -> None:
    """Serve an adapter class until interrupted (see :func:`build_server` for options)."""
    adapter = adapter_class(config=config or {})
    server = build_server(adapter, vendor, **kwargs)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        adapter.close()


def _exit_with_parent(parent: int, every_s: float = 1.0) -> None:
    """A served adapter started by the harness ends when the harness does, even when the
    harness was killed before it could stop it (no orphan left computing).  The harness
    starts it as the leader of its own session and process group; the helpers the
    adapter started are in that group and end with it."""
    import signal
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every_s)
        if os.getpgrp() == os.getpid():  # never a group this server does not lead (a shell's job)
            os.killpg(os.getpid(), signal.SIGKILL)  # the helpers, and this server with them
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aiii_kit", description="Serve an adapter over the aiii adapter protocol.")
    parser.add_argument("--entry", required=True, help="file.py:Class of the adapter")
    parser.add_argument("--vendor", required=True, help="vendor id announced by /v1/describe")
    parser.add_argument("--base", default=".", help="folder the entry's file is relative to")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--unix", metavar="PATH", help="listen on a unix socket")
    where.add_argument("--listen", metavar="HOST:PORT", help="listen on TCP")
    parser.add_argument("--tls-cert", help="PEM certificate chain (TCP only)")
    parser.add_argument("--tls-key", help="PEM private key (TCP only)")
    parser.add_argument("--token-env", help="name of an environment variable holding the bearer token to require")
    parser.add_argument("--config", default="{}", help="the adapter's config as JSON")
    parser.add_argument("--version-rule", default="{}", help="the manifest's [version] table as JSON")
    parser.add_argument("--max-request", type=int, default=DEFAULT_MAX_REQUEST, help="largest request body in bytes")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request to stderr")
    parser.add_argument("--parent-pid", type=int, help="exit when this process is no longer the parent (the harness died)")
    args = parser.parse_args(argv)
    if args.parent_pid:
        _exit_with_parent(args.parent_pid)
    try:
        cls = load_adapter(args.entry, Path(args.base))
    except AdapterLoadError as exc:
        raise SystemExit(str(exc)) from exc
    listen = None
    if args.listen:
        host, _, port = args.listen.rpartition(":")
        listen = (host or "127.0.0.1", int(port))
    token = os.environ.get(args.token_env) if args.token_env else None
    if args.token_env and not token:
        raise SystemExit(f"environment variable {args.token_env} is empty")
    tls = (args.tls_cert, args.tls_key) if args.tls_cert and args.tls_key else None
    serve(cls, args.vendor, json.loads(args.config), unix_socket=args.unix, listen=listen, tls=tls, token=token,
          max_request=args.max_request, verbose=args.verbose, version_rule=json.loads(args.version_rule))
    return 0


if __name__ == "__main__":
    sys.exit(main())
