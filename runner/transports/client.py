"""The harness side of the adapter protocol: one client for unix sockets and TCP/TLS.

Every answer is bounded (size, decompressed size, deadline) and checked against the
protocol's schemas before anything else sees it; a violation raises TransportError
with the schema path.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import socket
import ssl
import sys
import time
import unicodedata
import zlib
from dataclasses import dataclass
from typing import Any

from aiii_kit import AdapterError, Asset, Unsupported
from aiii_kit.protocol import OPERATIONS

from runner.redact import redact, register_secret
from runner.schema import first_error
from runner.transports import TransportError
from runner.transports.deadline import Deadline, seconds

MAX_REPORT_BYTES = 16 * 1024 * 1024
#: An answer is decoded wherever the call stack happens to be (a retry, a restart and the
#: executor's frames all sit below it), and only then does the gate check the protocol's
#: nesting limit (64, runner/gate.py) and name where it was broken.  The decoder needs a
#: recursion limit with headroom above a call stack's depth, or an answer some hundreds
#: deep is "too deep to read" from one place and named precisely from another.  Raised
#: once, never lowered (the limit is the interpreter's, shared by every thread).
DECODE_RECURSION_LIMIT = 5000
if sys.getrecursionlimit() < DECODE_RECURSION_LIMIT:
    sys.setrecursionlimit(DECODE_RECURSION_LIMIT)
RETRYABLE_STATUS = (429, 502, 503, 504)


class RetryableError(TransportError):
    """A failure worth retrying for a safe operation: no connection, or 429/502/503/504."""
MAX_ASSET_BYTES = 512 * 1024 * 1024


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, deadline: Deadline) -> None:
        super().__init__("localhost", timeout=deadline.remaining())
        self._path = path
        self._deadline = deadline

    def connect(self) -> None:
        sock = self._deadline.adopt(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class _TcpConnection(http.client.HTTPConnection):
    """HTTP(S) over TCP with every phase (connect, TLS handshake, request, answer) under one deadline."""

    def __init__(self, host: str, deadline: Deadline, context: ssl.SSLContext | None) -> None:
        self.default_port = 80 if context is None else 443  # read by the parent's host:port parsing
        super().__init__(host, timeout=deadline.remaining())
        self._deadline = deadline
        self._context = context

    def connect(self) -> None:
        raw = socket.create_connection((self.host, self.port), self._deadline.remaining())
        with contextlib.suppress(OSError):
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._context is None:
            self.sock = self._deadline.adopt(raw)
            return
        try:
            # handshake after adopting: a handshake that trickles is cut at the deadline too
            tls = self._context.wrap_socket(raw, server_hostname=self.host, do_handshake_on_connect=False)
        except BaseException:
            raw.close()
            raise
        self.sock = self._deadline.adopt(tls)
        tls.do_handshake()


@dataclass
class Endpoint:
    """Where an adapter server listens: a unix socket path, or an http(s) base URL."""

    unix_socket: str | None = None
    base_url: str | None = None
    token: str | None = None
    ca_file: str | None = None  # extra trust for TLS; verification is always on

    def __post_init__(self) -> None:
        if self.token is not None:
            check_token(self.token, "the bearer token")
            register_secret(self.token)

    def connection(self, deadline: Deadline) -> http.client.HTTPConnection:
        """A connection whose every phase ends by ``deadline``."""
        if self.unix_socket:
            return _UnixConnection(self.unix_socket, deadline)
        assert self.base_url
        scheme, _, rest = self.base_url.partition("://")
        host = rest.split("/", 1)[0]
        context = ssl.create_default_context(cafile=self.ca_file) if scheme == "https" else None
        return _TcpConnection(host, deadline, context)

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    @property
    def prefix(self) -> str:
        if self.base_url and "://" in self.base_url:
            rest = self.base_url.split("://", 1)[1]
            path = rest.split("/", 1)[1] if "/" in rest else ""
            return "/" + path.strip("/") if path.strip("/") else ""
        return ""


def check_token(token: str, what: str) -> None:
    """Refuse a bearer token that cannot travel in a header; the message never quotes it.

    http.client's own complaint quotes the whole header, token included, and would end
    up as the vendor's published reason.
    """
    if not token:
        raise TransportError(f"{what} is empty")
    bad = sorted({f"U+{ord(c):04X}" for c in token if unicodedata.category(c) == "Cc" or ord(c) > 0x7E})
    if bad:
        raise TransportError(f"{what} holds characters outside printable ASCII ({', '.join(bad)}); the token was not used")
    if token != token.strip():
        raise TransportError(f"{what} has leading or trailing whitespace; the token was not used")


def read_token(variable: str, who: str) -> str:
    """The bearer token in environment variable ``variable``, checked and registered as a secret.

    ``who`` starts every message ("vendor ID"); the messages name the variable, never the value.
    """
    token = os.environ.get(variable)
    if not token:
        raise TransportError(f"{who}: environment variable {variable} (its bearer token) is not set")
    register_secret(token)  # before any check: no message about it may quote it
    check_token(token, f"{who}: environment variable {variable} (its bearer token)")
    return token


class DeadlineError(TransportError):
    """The whole answer (connect, headers and body) did not arrive by the call's deadline."""

    def __init__(self, message: str, phase: str = "") -> None:
        super().__init__(message)
        self.phase = phase  # what the request was doing at the deadline


def encode_request(params: dict[str, Any], asset: Asset) -> tuple[bytes, str]:
    """A multipart/form-data body with the ``params`` and ``asset`` parts."""
    boundary = "aiii-" + secrets.token_hex(16)
    name = (asset.name or "asset").replace('"', "").replace("\r", "").replace("\n", "")
    head = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"params\"\r\n"
        f"Content-Type: application/json\r\n\r\n"
    ).encode()
    params_bytes = json.dumps(params, ensure_ascii=False).encode()
    middle = (
        f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"asset\"; filename=\"{name}\"\r\n"
        f"Content-Type: {asset.media_type}\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return head + params_bytes + middle + asset.data + tail, f"multipart/form-data; boundary={boundary}"


class ProtocolClient:
    """Talks to one adapter server; raises AdapterError/Unsupported/TransportError."""

    def __init__(self, vendor: str, endpoint: Endpoint) -> None:
        self.vendor = vendor
        self.endpoint = endpoint

    def _request(self, method: str, path: str, timeout: float, body: bytes | None = None,
                 content_type: str | None = None, limit: int = MAX_REPORT_BYTES) -> tuple[int, str, bytes]:
        headers = {"Accept-Encoding": "identity", **self.endpoint.auth_headers()}
        if content_type:
            headers["Content-Type"] = content_type
        who = f"vendor {self.vendor}"
        phase = "connecting"
        with Deadline(timeout) as deadline:
            conn = self.endpoint.connection(deadline)
            try:
                conn.request(method, self.endpoint.prefix + path, body=body, headers=headers)
                phase = "waiting for the answer's headers"
                response = conn.getresponse()
                if response.status in RETRYABLE_STATUS:
                    raise RetryableError(f"{who}: {path} answered {response.status} (try again later)")
                phase = "reading the answer's body"
                data = _read_bounded(response, limit, deadline, self.vendor)
                if deadline.fired:  # the watchdog's shutdown can look like a clean end of the body
                    raise DeadlineError(f"{who}: {path}: no complete answer within the {seconds(timeout)} s deadline"
                                        f" ({phase})", phase)
                return response.status, response.getheader("Content-Type", "") or "", data
            except TransportError:
                raise
            except (OSError, http.client.HTTPException, ValueError) as exc:
                if deadline.fired or isinstance(exc, TimeoutError):
                    raise DeadlineError(f"{who}: {path}: no complete answer within the {seconds(timeout)} s deadline "
                                        f"({phase})", phase) from None
                reason = redact(f"{exc!r}")  # never the request's headers
                if isinstance(exc, ssl.SSLError):
                    raise TransportError(f"{who}: TLS failure: {redact(str(exc))}") from None
                if isinstance(exc, ConnectionRefusedError | FileNotFoundError | socket.gaierror):
                    raise RetryableError(f"{who}: cannot connect: {reason}") from None
                if isinstance(exc, ValueError):
                    raise TransportError(f"{who}: {path}: the request could not be sent: {type(exc).__name__}") from None
                raise TransportError(f"{who}: connection failed mid-request: {reason}") from None
            finally:
                conn.close()

    def _json(self, status: int, ctype: str, data: bytes, what: str) -> Any:
        if not ctype.startswith("application/json"):
            raise TransportError(f"vendor {self.vendor}: {what} answered {status} with {ctype or 'no'} content type, not JSON")
        try:
            # Undecodable bytes become lone surrogates, which the gate replaces and notes:
            # one broken string costs the vendor a note, not its whole answer.
            return json.loads(data.decode("utf-8-sig", "surrogateescape"))
        except RecursionError:
            raise TransportError(f"vendor {self.vendor}: {what} answered JSON nested too deeply to read") from None
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, and int strings past the digit limit
            raise TransportError(f"vendor {self.vendor}: {what} answered invalid JSON: {str(exc)[:200]}") from None

    def describe(self, timeout: float) -> dict[str, Any]:
        status, ctype, data = self._request("GET", "/v1/describe", timeout)
        if status != 200:
            raise TransportError(f"vendor {self.vendor}: /v1/describe answered {status}")
        doc = self._json(status, ctype, data, "/v1/describe")
        problem = first_error("aiii:protocol/v1/describe.result", doc)
        if problem:
            raise TransportError(f"vendor {self.vendor}: /v1/describe violates the protocol schema at {problem}")
        return doc  # type: ignore[no-any-return]

    def health(self, timeout: float) -> None:
        status, ctype, data = self._request("GET", "/v1/health", timeout)
        if status != 200:
            reason = ""
            if ctype.startswith("application/json"):
                with contextlib.suppress(TransportError, AttributeError):
                    reason = str(self._json(status, ctype, data or b"{}", "/v1/health").get("reason", ""))[:300]
            raise TransportError(f"vendor {self.vendor}: unhealthy ({status}) {reason}".strip())

    def call(self, operation: str, asset: Asset, params: dict[str, Any], timeout: float) -> Asset | dict[str, Any]:
        body, ctype = encode_request(params, asset)
        produces = OPERATIONS[operation] == "asset"
        limit = MAX_ASSET_BYTES if produces else MAX_REPORT_BYTES
        status, rtype, data = self._request("POST", f"/v1/operations/{operation}", timeout, body, ctype, limit)
        if status != 200:
            doc = self._json(status, rtype, data, operation)
            problem = first_error("aiii:protocol/v1/error", doc)
            if problem:
                raise TransportError(f"vendor {self.vendor}: {operation} error answer ({status}) violates the protocol schema at {problem}")
            kind, message = doc["error"]["kind"], doc["error"]["message"]
            if kind == "unsupported":
                raise Unsupported(message)
            if kind == "adapter_error":
                raise AdapterError(message)
            raise TransportError(f"vendor {self.vendor}: {operation} failed ({status} {kind}): {message}")
        if produces:
            media_type = rtype.split(";", 1)[0].strip()
            return Asset(data, media_type, asset.name)
        return self._json(status, rtype, data, operation)  # type: ignore[no-any-return]


def _read_bounded(response: http.client.HTTPResponse, limit: int, deadline: Deadline, vendor: str) -> bytes:
    """Read a body of at most ``limit`` bytes (after any gzip/deflate decoding) before the deadline."""
    encoding = (response.getheader("Content-Encoding") or "identity").lower()
    if encoding not in ("identity", "gzip", "deflate"):
        raise TransportError(f"vendor {vendor}: unsupported Content-Encoding {encoding!r}")
    declared = response.getheader("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit and encoding == "identity":
        raise TransportError(f"vendor {vendor}: answer of {declared} bytes exceeds the {limit}-byte limit")
    decoder = zlib.decompressobj(wbits=47) if encoding != "identity" else None  # 47: gzip or zlib header
    out = bytearray()
    while True:
        if deadline.fired or time.monotonic() > deadline.at:
            raise DeadlineError(f"vendor {vendor}: answer still streaming at the {seconds(deadline.timeout)} s deadline"
                                f" ({len(out)} bytes so far)", f"reading the answer's body, {len(out)} bytes so far")
        chunk = response.read(65536)
        if not chunk:
            break
        if decoder is not None:
            chunk = decoder.decompress(chunk, limit + 1 - len(out))
            if decoder.unconsumed_tail:
                raise TransportError(f"vendor {vendor}: {encoding} answer decompresses past the {limit}-byte limit (a compression bomb?)")
        out += chunk
        if len(out) > limit:
            raise TransportError(f"vendor {vendor}: answer exceeds the {limit}-byte limit")
    return bytes(out)
