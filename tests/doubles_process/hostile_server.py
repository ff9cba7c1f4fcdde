"""A protocol server that is not the adapter kit: honest describe/health, hostile operations.

--mode endless: answers an operation with a chunked body that never ends.
--mode bomb:    answers with a small gzip body that inflates to 2 GiB of zeros.
--mode slow-start: answers health and describe one byte a second (minutes for each).
Standard library only; a real program speaking the real protocol, as a vendor's own
server in another language would.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import threading
import time
import zlib


def gzip_bomb(size: int = 2 * 1024**3) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip container
    block = bytes(1024 * 1024)
    out = [compressor.compress(block) for _ in range(size // len(block))]
    out.append(compressor.flush())
    return b"".join(out)


def handle(conn: socket.socket, mode: str, vendor: str, bomb: bytes) -> None:
    with conn:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        request_line = head.split(b"\r\n", 1)[0].decode()
        method, path, _ = request_line.split(" ", 2)
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value.strip())
        while len(rest) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return
            rest += chunk
        if method == "GET" and path in ("/v1/describe", "/v1/health"):
            doc = ({"protocol": "aiii-adapter/1", "vendor": vendor, "implementation_version": f"1.0-{mode}",
                    "operations": ["metadata.read"]} if path == "/v1/describe" else {"status": "ok"})
            body = json.dumps(doc).encode()
            whole = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
            if mode != "slow-start":
                conn.sendall(whole)
                return
            whole = whole.replace(b"\r\n\r\n", b"\r\nX-Padding: " + b"." * 400 + b"\r\n\r\n", 1)
            with contextlib.suppress(OSError):  # until the harness hangs up
                for i in range(len(whole)):
                    conn.sendall(whole[i:i + 1])
                    time.sleep(1.0)
            return
        try:
            if mode == "endless":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
                chunk = b"[" * 65536
                frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
                while True:
                    conn.sendall(frame)
            else:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
                             b"Content-Length: " + str(len(bomb)).encode() + b"\r\nConnection: close\r\n\r\n" + bomb)
        except OSError:
            return  # the harness hung up, as it should


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["endless", "bomb", "slow-start"], required=True)
    parser.add_argument("--unix", required=True)
    parser.add_argument("--vendor", required=True)
    args = parser.parse_args()
    bomb = gzip_bomb() if args.mode == "bomb" else b""
    if os.path.exists(args.unix):
        os.unlink(args.unix)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(args.unix)
    server.listen(8)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=handle, args=(conn, args.mode, args.vendor, bomb), daemon=True).start()


if __name__ == "__main__":
    main()
