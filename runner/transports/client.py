"""The harness side of the adapter protocol: one client for unix sockets and TCP/TLS.

Every answer is bounded (size, decompressed size, deadline) and checked against the
protocol's schemas before anything else sees it; a violation raises TransportError
with the schema path.
"""

from __future__ import annotations

import http.client
import json
import secrets
import socket
import ssl
import time
import zlib
from dataclasses import dataclass
from typing import Any

from runner.adapter import OPERATIONS, AdapterError, Asset, Unsupported
from runner.schema import first_error
from runner.transports import TransportError

MAX_REPORT_BYTES = 16 * 1024 * 1024
RETRYABLE_STATUS = (429, 502, 503, 504)


class RetryableError(TransportError):
    """A failure worth retrying for a safe operation: no connection, or 429/502/503/504."""
MAX_ASSET_BYTES = 512 * 1024 * 1024


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


@dataclass
class Endpoint:
    """Where an adapter server listens: a unix socket path, or an http(s) base URL."""

    unix_socket: str | None = None
    base_url: str | None = None
    token: str | None = None
    ca_file: str | None = None  # extra trust for TLS; verification is always on

    def connection(self, timeout: float) -> http.client.HTTPConnection:
        if self.unix_socket:
            return _UnixConnection(self.unix_socket, timeout)
        assert self.base_url
        scheme, _, rest = self.base_url.partition("://")
        host = rest.split("/", 1)[0]
        if scheme == "https":
            context = ssl.create_default_context(cafile=self.ca_file)
            return http.client.HTTPSConnection(host, timeout=timeout, context=context)
        return http.client.HTTPConnection(host, timeout=timeout)

    @property
    def prefix(self) -> str:
        if self.base_url and "://" in self.base_url:
            rest = self.base_url.split("://", 1)[1]
            path = rest.split("/", 1)[1] if "/" in rest else ""
            return "/" + path.strip("/") if path.strip("/") else ""
        return ""


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
        deadline = time.monotonic() + timeout
        conn = self.endpoint.connection(timeout)
        headers = {"Accept-Encoding": "identity"}
        if content_type:
            headers["Content-Type"] = content_type
        if self.endpoint.token:
            headers["Authorization"] = f"Bearer {self.endpoint.token}"
        try:
            conn.request(method, self.endpoint.prefix + path, body=body, headers=headers)
            response = conn.getresponse()
            if response.status in RETRYABLE_STATUS:
                raise RetryableError(f"vendor {self.vendor}: {path} answered {response.status} (try again later)")
            data = _read_bounded(response, limit, deadline, self.vendor)
            return response.status, response.getheader("Content-Type", "") or "", data
        except TimeoutError:
            raise TransportError(f"vendor {self.vendor}: no answer within {timeout:.0f} s") from None
        except ssl.SSLError as exc:
            raise TransportError(f"vendor {self.vendor}: TLS failure: {exc}") from None
        except (ConnectionRefusedError, FileNotFoundError, socket.gaierror) as exc:
            raise RetryableError(f"vendor {self.vendor}: cannot connect: {exc!r}") from None
        except (ConnectionError, http.client.HTTPException, OSError) as exc:
            raise TransportError(f"vendor {self.vendor}: connection failed mid-request: {exc!r}") from None
        finally:
            conn.close()

    def _json(self, status: int, ctype: str, data: bytes, what: str) -> Any:
        if not ctype.startswith("application/json"):
            raise TransportError(f"vendor {self.vendor}: {what} answered {status} with {ctype or 'no'} content type, not JSON")
        try:
            return json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise TransportError(f"vendor {self.vendor}: {what} answered invalid JSON: {exc}") from None
        except RecursionError:  # thousands of nested arrays: the decoder gives up, the vendor broke the protocol
            raise TransportError(f"vendor {self.vendor}: {what} answered JSON nested too deep to decode") from None

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
                reason = str(json.loads(data or b"{}").get("reason", ""))
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


def _read_bounded(response: http.client.HTTPResponse, limit: int, deadline: float, vendor: str) -> bytes:
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
        if time.monotonic() > deadline:
            raise TransportError(f"vendor {vendor}: answer still streaming at the deadline ({len(out)} bytes so far)")
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
