"""A protocol server that is not the adapter kit: honest describe/health, programmed bytes.

It says on the wire what the kit's server never would: a raw ``NaN``, invalid UTF-8,
``\\ud800`` escapes in an error message, absurd nesting, a body cut short, a slow answer.
Standard library only, a real program as a vendor's own server in another language is.

    raw_server.py --unix PATH --vendor ID (--mode MODE | --program FILE)
    raw_server.py --listen HOST:PORT --tls-cert C --tls-key K (--mode MODE | --programs DIR)

On TCP one server hosts many vendors: the first path segment names the vendor
(``https://localhost:PORT/<vendor>`` is its base URL) and ``DIR/<vendor>.json`` its
program, read at every request (so a test can change it between calls).  A program:

    {"status": 200, "content_type": "application/json", "body_b64": "...",
     "delay_s": 0, "cut": null, "trickle": null, "version": "1.0"}

``cut``: send only that many bytes of the body (its full length declared), then close;
``trickle``: ``[chunk_bytes, pause_s]``, the body sent in pieces with pauses between;
``delay_s``: wait before the status line; ``describe_b64``, ``health_status`` and
``health_b64``: what describe and health say instead.  A mode is a named program
(see MODES and STARTUP).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import ssl
import threading
import time
from pathlib import Path
from typing import Any

DEPTH = 100_000
MODES: dict[str, tuple[int, bytes]] = {
    "nan": (200, b'{"fields": {"title": NaN}}'),
    "infinity": (200, b'{"fields": {"title": "x"}, "notes": [-Infinity]}'),
    "bad-utf8": (200, b'{"fields": {"title": "caf\xff\xfe \xc3"}}'),
    "surrogate-field": (200, b'{"fields": {"title": "caf\\ud800e"}}'),
    "surrogate-error": (422, b'{"error": {"kind": "adapter_error", "message": "cannot read caf\\ud800 \\udfff here"}}'),
    "surrogate-internal": (500, b'{"error": {"kind": "internal", "message": "crashed at \\udcff\\n\\u001b[31mred"}}'),
    "deep": (200, b'{"fields": {"title": ' + b"[" * DEPTH + b"]" * DEPTH + b"}}"),
    "deep-980": (200, b'{"fields": {"title": ' + b"[" * 980 + b'"leaf"' + b"]" * 980 + b"}}"),
    "huge-error": (422, json.dumps({"error": {"kind": "adapter_error", "message": "no " + "y" * 3_000_000}}).encode()),
}

#: hostile start-up: what describe or health say instead ({vendor} is the vendor's id)
STARTUP: dict[str, dict[str, Any]] = {
    "version-surrogate": {"describe": b'{"protocol": "aiii-adapter/1", "vendor": "{vendor}", "implementation_version":'
                                      b' "1.0-\\ud800\\u001b[31m\\nrc", "operations": ["metadata.read"]}'},
    "describe-nan": {"describe": b'{"protocol": "aiii-adapter/1", "vendor": "{vendor}", "implementation_version": NaN,'
                                 b' "operations": ["metadata.read"]}'},
    "health-garbage": {"health": (500, b"[1, 2")},  # 503 would be retried, never read
    "health-list": {"health": (500, b"[]")},
}
for _mode in STARTUP:
    MODES[_mode] = (200, b'{"fields": {}}')


def program_of(args: argparse.Namespace, vendor: str) -> dict[str, Any]:
    path = Path(args.program) if args.program else (Path(args.programs) / f"{vendor}.json" if args.programs else None)
    if path is not None and path.exists():
        return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    return mode_program(args.mode or "nan")


def mode_program(mode: str) -> dict[str, Any]:
    """A named mode as a program."""
    status, body = MODES[mode]
    program: dict[str, Any] = {"status": status, "body_b64": base64.b64encode(body).decode(), "version": f"1.0-{mode}"}
    startup = STARTUP.get(mode, {})
    if "describe" in startup:
        program["describe_b64"] = base64.b64encode(startup["describe"]).decode()
    if "health" in startup:
        program["health_status"] = startup["health"][0]
        program["health_b64"] = base64.b64encode(startup["health"][1]).decode()
    return program


def read_request(conn: socket.socket) -> tuple[str, str] | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    method, path, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        rest += chunk
    return method, path


def handle(conn: socket.socket, args: argparse.Namespace) -> None:
    with conn:
        try:
            request = read_request(conn)
            if request is None:
                return
            method, path = request
            vendor = args.vendor
            if not vendor:  # TCP: /<vendor>/v1/...
                vendor, _, rest = path.lstrip("/").partition("/")
                path = "/" + rest
            program = program_of(args, vendor)
            if method == "GET" and path in ("/v1/describe", "/v1/health"):
                doc = ({"protocol": "aiii-adapter/1", "vendor": vendor, "implementation_version": program.get("version", "1.0"),
                        "operations": ["metadata.read"]} if path == "/v1/describe" else {"status": "ok"})
                body, status = json.dumps(doc).encode(), 200
                if path == "/v1/describe" and "describe_b64" in program:
                    body = base64.b64decode(program["describe_b64"]).replace(b"{vendor}", vendor.encode())
                if path == "/v1/health" and "health_b64" in program:
                    body, status = base64.b64decode(program["health_b64"]), int(program.get("health_status", 200))
                conn.sendall(f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                             "Connection: close\r\n\r\n".encode() + body)
                return
            body = base64.b64decode(program.get("body_b64", ""))
            time.sleep(float(program.get("delay_s", 0)))
            status = int(program.get("status", 200))
            ctype = str(program.get("content_type", "application/json"))
            conn.sendall(f"HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                         "Connection: close\r\n\r\n".encode("latin-1"))
            if program.get("cut") is not None:
                conn.sendall(body[: int(program["cut"])])
                return  # closed mid-body
            trickle = program.get("trickle")
            if trickle:
                size, pause = int(trickle[0]), float(trickle[1])
                for at in range(0, len(body), max(1, size)):
                    conn.sendall(body[at:at + max(1, size)])
                    time.sleep(pause)
                return
            conn.sendall(body)
        except (OSError, ValueError):
            return  # the harness hung up, or a request we do not understand


def main() -> None:
    parser = argparse.ArgumentParser()
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--unix")
    where.add_argument("--listen")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--vendor")
    parser.add_argument("--mode", choices=sorted(MODES))
    parser.add_argument("--program", help="the program file (unix socket: one vendor)")
    parser.add_argument("--programs", help="a folder of <vendor>.json programs (TCP: many vendors)")
    args = parser.parse_args()
    if args.unix:
        if os.path.exists(args.unix):
            os.unlink(args.unix)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(args.unix)
    else:
        host, _, port = args.listen.rpartition(":")
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((host or "127.0.0.1", int(port)))
    server.listen(16)
    context = None
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve_one, args=(conn, context, args), daemon=True).start()


def serve_one(conn: socket.socket, context: ssl.SSLContext | None, args: argparse.Namespace) -> None:
    if context is not None:
        try:
            conn.settimeout(10)
            conn = context.wrap_socket(conn, server_side=True)
            conn.settimeout(None)
        except (OSError, ssl.SSLError):
            conn.close()
            return
    handle(conn, args)


if __name__ == "__main__":
    main()
