"""The ``http`` placement: a vendor-hosted endpoint (federated participation).

The URL comes from the manifest; the bearer token from the environment variable the
manifest names, never from a file.  TLS verification is always on (a manifest may add
the CA that signed the vendor's certificate).  Safe operations (reads, describe,
health) are retried with exponential backoff on connection failures and 429/5xx;
producers are never retried.  A call's deadline covers all its attempts and pauses;
start-up (health, describe) has one of its own.  Calls are capped per vendor in rate
and concurrency.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiii_kit import Asset
from aiii_kit.protocol import OPERATIONS

from runner.model import VendorManifest
from runner.transports import Transport, TransportError
from runner.transports.client import DeadlineError, Endpoint, ProtocolClient, RetryableError, read_token
from runner.transports.deadline import seconds

STARTUP_TIMEOUT_S = 60.0


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
    hosts_adapter = False  # the vendor hosts it: [http] url
    reaches_loopback = False  # it runs on the vendor's machine

    def __init__(self, manifest: VendorManifest, log_dir: Path | None = None) -> None:
        super().__init__(manifest, log_dir)
        conf = manifest.http
        token_env = conf.get("token_env")
        token = read_token(token_env, f"vendor {manifest.id}") if token_env else None
        ca_file = str(manifest.folder / conf["ca_file"]) if conf.get("ca_file") else None
        self.endpoint = Endpoint(base_url=conf["url"], token=token, ca_file=ca_file)
        self.client = ProtocolClient(manifest.id, self.endpoint)
        self.retries = int(conf.get("retries", 3))
        self.startup_timeout_s = float(conf.get("startup_timeout_s", STARTUP_TIMEOUT_S))
        self.limiter = RateLimiter(float(conf.get("rate_per_s", 10)))
        self._slots = threading.BoundedSemaphore(int(conf.get("max_concurrency", 2)))
        self._version: str | None = None

    def _safely(self, what: str, fn: Callable[[float], Any], safe: bool, timeout_s: float,
                deadline: float | None = None) -> Any:
        """``fn(seconds left)``, retried while safe; every attempt and wait within one deadline."""
        deadline = deadline if deadline is not None else time.monotonic() + timeout_s
        attempt = 0
        while True:
            self.limiter.wait()
            left = deadline - time.monotonic()
            tried = f"{attempt} attempts, " if attempt else ""
            if left <= 0:
                raise DeadlineError(f"vendor {self.manifest.id}: {what}: no answer within the {seconds(timeout_s)} s"
                                    f" deadline ({tried}waiting for a turn)", "waiting for a turn")
            try:
                return fn(left)
            except DeadlineError as exc:  # said in the call's own terms, not the attempt's remainder
                raise DeadlineError(f"vendor {self.manifest.id}: {what}: no complete answer within the "
                                    f"{seconds(timeout_s)} s deadline ({tried}{exc.phase})", exc.phase) from None
            except RetryableError as exc:
                pause = min(10.0, 0.2 * 2**attempt)
                if not safe or attempt >= self.retries or time.monotonic() + pause >= deadline:
                    suffix = f" after {attempt + 1} attempts" if safe else " (not retried: not a safe operation)"
                    raise TransportError(f"{exc}{suffix}") from None
                time.sleep(pause)
                attempt += 1

    def start(self) -> None:
        """Health, then describe, both within the start-up time (``[http] startup_timeout_s``)."""
        limit = self.startup_timeout_s
        deadline = time.monotonic() + limit
        self._safely("health", lambda left: self.client.health(timeout=left), True, limit, deadline)
        doc = self._safely("describe", lambda left: self.client.describe(timeout=left), True, limit, deadline)
        if doc["vendor"] != self.manifest.id:
            raise TransportError(f"vendor {self.manifest.id}: the endpoint says it is {doc['vendor']!r}")
        self._version = doc["implementation_version"]

    def implementation_version(self) -> str | None:
        return self._version

    def adapter_cpu_s(self) -> float | None:
        return None  # spent on the vendor's machine

    def call(self, operation: str, asset: Asset, params: dict[str, Any], timeout_s: float) -> Asset | dict[str, Any]:
        deadline = time.monotonic() + timeout_s  # the wait for a slot, every attempt and backoff included
        if not self.account.acquire(self._slots, timeout_s):
            raise TransportError(f"vendor {self.manifest.id}: no free slot within {timeout_s:.0f} s")
        try:
            safe = OPERATIONS[operation] == "report"
            return self._safely(operation, lambda left: self.client.call(operation, asset, params, left),  # type: ignore[no-any-return]
                                safe, timeout_s, deadline)
        finally:
            self._slots.release()
