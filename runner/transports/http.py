"""The ``http`` placement: a vendor-hosted endpoint (federated participation).

The URL comes from the manifest; the bearer token from the environment variable the
manifest names, never from a file.  TLS verification is always on (a manifest may add
the CA that signed the vendor's certificate).  Safe operations (reads, describe,
health) are retried with exponential backoff on connection failures and 429/5xx;
producers are never retried.  Calls are capped per vendor in rate and concurrency.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from runner.adapter import OPERATIONS, Asset
from runner.model import VendorManifest
from runner.redact import register_secret
from runner.transports import Transport, TransportError
from runner.transports.client import Endpoint, ProtocolClient, RetryableError


class RateLimiter:
    """At most ``rate`` calls per second, spread evenly (a token bucket of one)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            time.sleep(start - now)


class HttpTransport(Transport):
    placement = "http"

    def __init__(self, manifest: VendorManifest) -> None:
        super().__init__(manifest)
        conf = manifest.http
        token_env = conf.get("token_env")
        token = os.environ.get(token_env) if token_env else None
        if token_env and not token:
            raise TransportError(f"vendor {manifest.id}: environment variable {token_env} (its bearer token) is not set")
        register_secret(token)  # redacted from every answer, message and record from now on
        ca_file = str(manifest.folder / conf["ca_file"]) if conf.get("ca_file") else None
        self.endpoint = Endpoint(base_url=conf["url"], token=token, ca_file=ca_file)
        self.client = ProtocolClient(manifest.id, self.endpoint)
        self.retries = int(conf.get("retries", 3))
        self.limiter = RateLimiter(float(conf.get("rate_per_s", 10)))
        self._slots = threading.BoundedSemaphore(int(conf.get("max_concurrency", 2)))
        self._version: str | None = None

    def _safely(self, what: str, fn: Any, safe: bool) -> Any:
        attempt = 0
        while True:
            self.limiter.wait()
            try:
                return fn()
            except RetryableError as exc:
                if not safe or attempt >= self.retries:
                    suffix = f" after {attempt + 1} attempts" if safe else " (not retried: not a safe operation)"
                    raise TransportError(f"{exc}{suffix}") from None
                time.sleep(min(10.0, 0.2 * 2**attempt))
                attempt += 1

    def start(self) -> None:
        self._safely("health", lambda: self.client.health(timeout=30), True)
        doc = self._safely("describe", lambda: self.client.describe(timeout=30), True)
        if doc["vendor"] != self.manifest.id:
            raise TransportError(f"vendor {self.manifest.id}: the endpoint says it is {doc['vendor']!r}")
        self._version = doc["implementation_version"]

    def implementation_version(self) -> str | None:
        return self._version

    def call(self, operation: str, asset: Asset, params: dict[str, Any], timeout_s: float) -> Asset | dict[str, Any]:
        if not self._slots.acquire(timeout=timeout_s):
            raise TransportError(f"vendor {self.manifest.id}: no free slot within {timeout_s:.0f} s")
        try:
            safe = OPERATIONS[operation] == "report"
            return self._safely(operation, lambda: self.client.call(operation, asset, params, timeout_s), safe)  # type: ignore[no-any-return]
        finally:
            self._slots.release()
