"""The http placement's retries: which operations are tried again, and how often."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.model import VendorManifest
from runner.transports import TransportError
from runner.transports.client import RetryableError
from runner.transports.http import HttpTransport


def _transport(tmp: Path) -> HttpTransport:
    manifest = VendorManifest(id="flaky", name="f", organisation="o", placement="http", folder=tmp, version_rule={"adapter": True},
                              capabilities=(), http={"url": "https://localhost:1", "retries": 2, "rate_per_s": 1000})
    return HttpTransport(manifest)


def test_safe_operations_are_retried_and_unsafe_ones_are_not(tmp_path: Path) -> None:
    transport = _transport(tmp_path)
    attempts: list[int] = []

    def flaky(left: float) -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise RetryableError("vendor flaky: /v1/operations/metadata.read answered 503 (try again later)")
        return "answer"

    assert transport._safely("metadata.read", flaky, True, 30) == "answer" and len(attempts) == 3
    attempts.clear()
    with pytest.raises(TransportError, match="not retried: not a safe operation"):
        transport._safely("provenance.sign", flaky, False, 30)
    assert len(attempts) == 1
    attempts.clear()

    def down(left: float) -> str:
        attempts.append(1)
        raise RetryableError("vendor flaky: cannot connect")

    with pytest.raises(TransportError, match="after 3 attempts"):
        transport._safely("metadata.read", down, True, 30)
