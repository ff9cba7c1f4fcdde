"""Fixtures the end-to-end tests share."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import TESTS, make_tls


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    """The hostile TLS endpoint on loopback: (folder holding its CA, port)."""
    tmp = tmp_path_factory.mktemp("hostile-tls")
    make_tls(tmp)
    proc = subprocess.Popen([sys.executable, str(TESTS / "doubles_http" / "hostile_tls_server.py"),
                             "--cert", str(tmp / "cert.pem"), "--key", str(tmp / "key.pem")],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield tmp, port
    finally:
        proc.terminate()
        proc.wait(timeout=10)
