"""A vendor-hosted endpoint (HTTPS on loopback) that answers slowly or absurdly.

The first path segment names the behaviour and the vendor it pretends to be
(``https://localhost:PORT/trickle-head`` is vendor ``trickle-head``):

trickle-head:  answers operations one byte a second, headers included.
trickle-body:  sends an operation's headers at once, then its body one byte a second.
trickle-start: answers health and describe one byte a second.
nested-json:   answers operations at once with JSON nested 100,000 levels deep.
Any other name answers everything at once and honestly.

Every answer is long enough that, trickled, it takes minutes: a client that bounds
only each read, not the whole answer, waits that long.  Standard library only; it
prints its port on the first line of its output.
"""

from __future__ import annotations

import argparse
import json
import socket
import ssl
import threading
import time

PADDING = "." * 400  # trickled, 400 s of padding alone


def read_request(conn: ssl.SSLSocket) -> tuple[str, str] | None:
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


def answer(status: str, body: bytes, pad: bool = False) -> tuple[bytes, bytes]:
    extra = f"X-Padding: {PADDING}\r\n" if pad else ""
    head = (f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"{extra}Connection: close\r\n\r\n").encode()
    return head, body


def trickle(conn: ssl.SSLSocket, data: bytes) -> None:
    for i in range(len(data)):
        conn.sendall(data[i:i + 1])
        time.sleep(1.0)


def handle(raw: socket.socket, context: ssl.SSLContext) -> None:
    try:
        with context.wrap_socket(raw, server_side=True) as conn:
            request = read_request(conn)
            if request is None:
                return
            _, path = request
            mode, _, route = path.lstrip("/").partition("/")
            route = "/" + route
            if route == "/v1/describe":
                doc = {"protocol": "aiii-adapter/1", "vendor": mode, "implementation_version": "1.0-" + mode,
                       "operations": ["metadata.read"]}
                head, body = answer("200 OK", json.dumps(doc).encode(), pad=True)
            elif route == "/v1/health":
                head, body = answer("200 OK", json.dumps({"status": "ok"}).encode(), pad=True)
            elif route.startswith("/v1/operations/") and mode == "nested-json":
                head, body = answer("200 OK", b"[" * 100_000 + b"]" * 100_000)
            elif route.startswith("/v1/operations/"):
                head, body = answer("200 OK", json.dumps({"fields": {"title": PADDING}}).encode(), pad=True)
            else:
                head, body = answer("404 Not Found", b'{"error": {"kind": "not_found", "message": "no route"}}')
            operation = route.startswith("/v1/operations/")
            if (mode == "trickle-start" and not operation) or (mode == "trickle-head" and operation):
                trickle(conn, head + body)
            elif mode == "trickle-body" and operation:
                conn.sendall(head)
                trickle(conn, body)
            else:
                conn.sendall(head + body)
    except (OSError, ValueError):
        return  # the client hung up, as it should at its deadline


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    args = parser.parse_args()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    print(server.getsockname()[1], flush=True)
    while True:
        raw, _ = server.accept()
        threading.Thread(target=handle, args=(raw, context), daemon=True).start()


if __name__ == "__main__":
    main()
