"""The http placement: a real TLS endpoint on loopback, a bearer token, retries."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import ROOT, TESTS, make_tls

SECRET = "s3cr3t-" + os.urandom(8).hex()
RETENTION = "Uploaded assets are deleted within 24 hours and never used for training."


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    """A TLS adapter server on loopback serving the real ExifTool adapter, token required."""
    tmp = tmp_path_factory.mktemp("remote")
    make_tls(tmp)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REMOTE_SERVER_TOKEN": SECRET}
    server = subprocess.Popen(
        [sys.executable, "-m", "aiii_kit", "--entry", "vendors/exiftool/adapter.py:ExifToolAdapter",
         "--base", str(ROOT), "--vendor", "remote-exiftool", "--listen", f"127.0.0.1:{port}",
         "--tls-cert", str(tmp / "cert.pem"), "--tls-key", str(tmp / "key.pem"), "--token-env", "REMOTE_SERVER_TOKEN",
         "--config", '{"stock_data_mining": true}'],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    try:
        yield tmp, port
    finally:
        server.terminate()
        server.wait(timeout=10)


def write_vendor(folder: Path, port: int, ca: Path | None) -> Path:
    vendor = folder / "remote-exiftool"
    vendor.mkdir(parents=True, exist_ok=True)
    caps = (ROOT / "vendors" / "exiftool" / "vendor.toml").read_text().split("[[capabilities]]", 1)[1]
    ca_line = ""
    if ca is not None:
        (vendor / "ca.pem").write_bytes(ca.read_bytes())
        ca_line = 'ca_file = "ca.pem"\n'
    (vendor / "vendor.toml").write_text(
        'id = "remote-exiftool"\nname = "ExifTool, vendor-hosted"\norganisation = "A remote participant"\n'
        'placement = "http"\ndefault = false\n\n[http]\n'
        f'url = "https://localhost:{port}"\ntoken_env = "REMOTE_EXIFTOOL_TOKEN"\n{ca_line}'
        f'retention = "{RETENTION}"\nrate_per_s = 50\nmax_concurrency = 2\n\n'
        "[version]\nadapter = true\n\n[[capabilities]]" + caps)
    return folder


def run(tmp: Path, vendor_dir: Path, token: str | None) -> tuple[subprocess.CompletedProcess[str], Path]:
    env = {k: v for k, v in os.environ.items() if k != "REMOTE_EXIFTOOL_TOKEN"}
    env.update(AIII_HOME=str(tmp / "home"), PYTHONPATH=str(ROOT))
    if token is not None:
        env["REMOTE_EXIFTOOL_TOKEN"] = token
    out = tmp / "out"
    proc = subprocess.run([sys.executable, "-m", "runner.cli", "run", "--profile", str(TESTS / "profiles" / "remote.toml"),
                           "--vendor-dir", str(vendor_dir), "--out", str(out), "--store", str(tmp / "s.sqlite"), "-q"],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    return proc, out


def test_remote_endpoint_joins_the_matrix_and_the_token_stays_secret(endpoint: tuple[Path, int], tmp_path: Path) -> None:
    certs, port = endpoint
    proc, out = run(tmp_path, write_vendor(tmp_path / "vendors", port, certs / "ca.pem"), SECRET)
    assert proc.returncode == 0, proc.stderr
    import json

    bundle = json.loads((out / "results.json").read_text())
    remote = next(v for v in bundle["vendors"] if v["id"] == "remote-exiftool")
    assert remote["runnable"] and remote["transport"] == "http" and remote["version"] == "13.10"
    by_pair = {(c["producer"], c["consumer"], c["variant"]): c for c in bundle["cells"]}
    assert by_pair[("exiftool", "remote-exiftool", "ascii")]["outcome"] == "pass"
    assert by_pair[("remote-exiftool", "exiftool", "unicode")]["outcome"] == "pass"
    page = (out / "site" / "vendors" / "remote-exiftool.html").read_text()
    assert "deleted within 24 hours" in page
    for folder in (out, tmp_path / "home", tmp_path / "vendors"):
        for path in folder.rglob("*"):
            if path.is_file():
                assert SECRET.encode() not in path.read_bytes(), path
    assert SECRET.encode() not in (tmp_path / "s.sqlite").read_bytes()


def test_missing_token_makes_the_vendor_unrunnable_with_a_reason(endpoint: tuple[Path, int], tmp_path: Path) -> None:
    certs, port = endpoint
    proc, out = run(tmp_path, write_vendor(tmp_path / "vendors", port, certs / "ca.pem"), None)
    assert proc.returncode == 0, proc.stderr
    import json

    bundle = json.loads((out / "results.json").read_text())
    remote = next(v for v in bundle["vendors"] if v["id"] == "remote-exiftool")
    assert not remote["runnable"] and "REMOTE_EXIFTOOL_TOKEN" in remote["reason"]
    assert all(c["outcome"] == "error" for c in bundle["cells"] if c["consumer"] == "remote-exiftool")


def test_wrong_token_and_unverified_tls_are_refused(endpoint: tuple[Path, int], tmp_path: Path) -> None:
    certs, port = endpoint
    import json

    proc, out = run(tmp_path / "a", write_vendor(tmp_path / "a" / "vendors", port, certs / "ca.pem"), "wrong-token")
    assert proc.returncode == 0, proc.stderr
    remote = next(v for v in json.loads((out / "results.json").read_text())["vendors"] if v["id"] == "remote-exiftool")
    assert not remote["runnable"] and "401" in remote["reason"]
    # without the vendor's CA the certificate cannot be verified: no silent fallback to no verification
    proc, out = run(tmp_path / "b", write_vendor(tmp_path / "b" / "vendors", port, None), SECRET)
    remote = next(v for v in json.loads((out / "results.json").read_text())["vendors"] if v["id"] == "remote-exiftool")
    assert not remote["runnable"] and "CERTIFICATE_VERIFY_FAILED" in remote["reason"]
