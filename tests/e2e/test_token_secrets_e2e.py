"""A bearer token that cannot travel in a header is refused by name, and never written anywhere.

http.client's own complaint about such a header quotes it, token included; before the
check that complaint became the vendor's published reason.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from helpers import TESTS, aiii, cells, write_vendors

from runner.transports import TransportError
from runner.transports.client import Endpoint, ProtocolClient, check_token

PARTS = {"crlf": ("tok-" + secrets.token_hex(12),), "newline": ("tok-" + secrets.token_hex(12), secrets.token_hex(12))}
TOKENS = {"crlf": PARTS["crlf"][0] + "\r\n", "newline": "\n".join(PARTS["newline"])}
VARIABLES = {"crlf": "AIII_TEST_TOKEN_CRLF", "newline": "AIII_TEST_TOKEN_NEWLINE"}


def assert_nowhere(folders: list[Path], texts: list[str]) -> None:
    """No file under ``folders`` holds any of ``texts`` (each the token or a piece of it)."""
    for folder in folders:
        files = [folder] if folder.is_file() else [p for p in folder.rglob("*") if p.is_file()]
        for path in files:
            data = path.read_bytes()
            for text in texts:
                assert text.encode() not in data, (path, text)


def test_a_token_with_control_characters_makes_the_vendor_unrunnable(server: tuple[Path, int],
                                                                     tmp_path: Path) -> None:
    certs, port = server
    extra = {f"token-{kind}": f'token_env = "{VARIABLES[kind]}"\n' for kind in TOKENS}
    vendors = write_vendors(tmp_path / "vendors", certs / "ca.pem", port, extra)
    env = {VARIABLES[kind]: token for kind, token in TOKENS.items()}
    proc = aiii(tmp_path / "home", "run", "--profile", str(TESTS / "profiles" / "token-remote.toml"),
                "--vendor-dir", str(vendors), "--out", str(tmp_path / "out"), "--store", str(tmp_path / "s.sqlite"),
                "-q", timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    bundle = json.loads((tmp_path / "out" / "results.json").read_text())
    by_id = {v["id"]: v for v in bundle["vendors"]}
    got = {(c["producer"], c["consumer"]): c for c in cells(tmp_path / "s.sqlite").values()}
    for kind in TOKENS:
        vendor = by_id[f"token-{kind}"]
        assert not vendor["runnable"] and VARIABLES[kind] in vendor["reason"] and "\n" not in vendor["reason"], vendor
        assert "the token was not used" in vendor["reason"]
        assert got[("exiftool", f"token-{kind}")]["outcome"] == "error"
    assert got[("exiftool", "exiftool")]["outcome"] == "pass"
    pieces = [p for kind in PARTS for p in PARTS[kind]]
    assert_nowhere([tmp_path / "out", tmp_path / "s.sqlite", tmp_path / "home"], pieces)
    assert not any(p in proc.stdout + proc.stderr for p in pieces)


@pytest.mark.parametrize("kind", sorted(TOKENS))
def test_adapter_check_names_the_variable_on_one_line_never_the_token(server: tuple[Path, int],
                                                                       tmp_path: Path, kind: str) -> None:
    certs, port = server
    proc = aiii(tmp_path / "home", "adapter", "check", f"https://localhost:{port}/token-{kind}", "--ca-file",
                str(certs / "ca.pem"), "--token-env", VARIABLES[kind], "--timeout", "10", timeout=120,
                env={VARIABLES[kind]: TOKENS[kind]})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert VARIABLES[kind] in proc.stderr
    assert not any(p in proc.stdout + proc.stderr for p in PARTS[kind])


def test_client_failures_never_quote_the_authorization_header(server: tuple[Path, int]) -> None:
    _, port = server
    token = "tok-" + secrets.token_hex(12)
    check_token(token, "a good token")  # no complaint
    # no CA given: the certificate cannot be verified; and a port where nothing listens
    for url in (f"https://localhost:{port}/token-ok", "https://localhost:1/token-ok"):
        client = ProtocolClient("token-ok", Endpoint(base_url=url, token=token))
        with pytest.raises(TransportError) as caught:
            client.describe(5)
        assert token not in str(caught.value) and "Bearer" not in str(caught.value)
