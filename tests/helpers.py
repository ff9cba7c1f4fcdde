"""Helpers the end-to-end tests share: the real CLI in a subprocess, and a store's cells."""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent

#: A minimal in-process vendor.toml (the adapter file is the test's to write); format it with id and name.
SAMPLE_VENDOR = """id = "{id}"
name = "{name}"
organisation = "Tests"
placement = "inproc"

[adapter]
entry = "adapter.py:Sample"

[version]
distribution = "mutagen"

[[capabilities]]
operation = "metadata.read"
media_types = ["image/jpeg"]
"""


#: The harness and this checkout's adapter kit first, so a worktree's ``aiii`` uses its own
#: kit even where the installed (editable) aiii_kit points at another checkout.
PYTHONPATH = os.pathsep.join([str(ROOT), str(ROOT / "kit")])


def aiii(home: Path, *args: str, timeout: float = 900, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``aiii ARGS`` with a private state folder, as a user would (``env``: more variables)."""
    env = {**os.environ, **(env or {}), "AIII_HOME": str(home), "PYTHONPATH": PYTHONPATH}
    return subprocess.run([sys.executable, "-m", "runner.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=timeout)


@contextmanager
def serving_hub(home: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """``aiii hub serve ARGS --listen 127.0.0.1:0`` as a real server process; yields its URL
    (from the line it prints once it listens) and stops it afterwards."""
    server = subprocess.Popen([sys.executable, "-m", "runner.cli", "hub", "serve", *args, "--listen", "127.0.0.1:0"],
                              cwd=ROOT, env={**os.environ, **(env or {}), "AIII_HOME": str(home), "PYTHONPATH": PYTHONPATH},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        if not line.startswith("hub serving http://"):
            server.kill()
            raise AssertionError(f"the hub did not start: {line}{server.stderr.read() if server.stderr else ''}")
        yield line.split()[2]
    finally:
        server.terminate()
        server.wait(timeout=20)


def json_vector_folder(folder: Path, content: str, tag: str) -> Path:
    """A vectors folder (for ``--vectors``) holding one JSON vector, ``cases.json``, tagged ``tag``."""
    folder.mkdir(parents=True)
    (folder / "cases.json").write_text(content)
    digest = hashlib.sha256(content.encode()).hexdigest()
    (folder / "catalogue.toml").write_text(
        f'version = 1\n[[vectors]]\nid = "cases"\nfile = "cases.json"\nmedia_type = "application/json"\n'
        f'sha256 = "{digest}"\nlicence = "CC0-1.0"\ntags = ["{tag}"]\n')
    return folder


def cells(store: Path) -> dict[str, dict[str, Any]]:
    """Every cell record in a results store, by cell id."""
    with sqlite3.connect(store) as db:
        return {cid: json.loads(rec) for cid, rec in db.execute("SELECT cell_id, record FROM cells")}


#: Runs its arguments as a child and prints the child's peak RSS (KiB) as its last line.
_PEAK_RSS = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:]).returncode\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    "sys.exit(code)\n"
)


def aiii_peak_rss(home: Path, *args: str, timeout: float = 900) -> tuple[subprocess.CompletedProcess[str], int]:
    """:func:`aiii`, and the peak resident set size of that one process in KiB (measured
    by a fresh parent, so no earlier child of the caller counts)."""
    env = {**os.environ, "AIII_HOME": str(home), "PYTHONPATH": PYTHONPATH}
    proc = subprocess.run([sys.executable, "-c", _PEAK_RSS, sys.executable, "-m", "runner.cli", *args],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=timeout)
    out, _, peak = proc.stdout.rstrip("\n").rpartition("\n")
    proc.stdout = out
    return proc, int(peak)


# -- a test CA for TLS on loopback ----------------------------------------------------------


def _cert(subject: str, issuer_key: ec.EllipticCurvePrivateKey, key: ec.EllipticCurvePrivateKey,
          issuer: x509.Name | None, ca: bool) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer or name).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
               .not_valid_after(now + datetime.timedelta(days=30))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(obj: x509.Certificate | ec.EllipticCurvePrivateKey) -> bytes:
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM)
    return obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def make_tls(folder: Path, ca_name: str = "aiii test CA") -> tuple[Path, Path, Path]:
    """(ca.pem, cert.pem, key.pem): a test CA and a certificate for localhost signed by it."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _cert(ca_name, ca_key, ca_key, None, True)
    leaf = _cert("localhost", ca_key, leaf_key, ca.subject, False)
    (folder / "ca.pem").write_bytes(_pem(ca))
    (folder / "cert.pem").write_bytes(_pem(leaf) + _pem(ca))
    (folder / "key.pem").write_bytes(_pem(leaf_key))
    return folder / "ca.pem", folder / "cert.pem", folder / "key.pem"


def placement_differences(a: dict[str, dict[str, Any]], b: dict[str, dict[str, Any]]) -> dict[str, tuple[str, str, str]]:
    """Cells whose outcome differs between two runs of one profile: (outcome a, outcome b,
    reason b), by cell id; a cell in only one run counts as differing too."""
    differ = {cid: (a[cid]["outcome"], b[cid]["outcome"], b[cid]["reason"]) for cid in a.keys() & b.keys()
              if a[cid]["outcome"] != b[cid]["outcome"]}
    differ.update({cid: (a[cid]["outcome"], "missing", "") for cid in a.keys() - b.keys()})
    differ.update({cid: ("missing", b[cid]["outcome"], b[cid]["reason"]) for cid in b.keys() - a.keys()})
    return differ


# -- the hostile TLS endpoint (tests/doubles_http/hostile_tls_server.py) ---------------------

#: Its behaviours, one path each.
HOSTILE_HTTP = ("trickle-head", "trickle-body", "trickle-start", "nested-json")


def write_vendors(folder: Path, ca: Path, port: int, extra: dict[str, str] | None = None) -> Path:
    """One http vendor per behaviour of the hostile server (``extra``: more [http] lines per vendor)."""
    for vid in (*HOSTILE_HTTP, *(extra or {})):
        vendor = folder / vid
        vendor.mkdir(parents=True, exist_ok=True)
        (vendor / "ca.pem").write_bytes(ca.read_bytes())
        lines = (extra or {}).get(vid, "") + ("startup_timeout_s = 3\n" if vid == "trickle-start" else "")
        (vendor / "vendor.toml").write_text(
            f'id = "{vid}"\nname = "Hostile endpoint {vid}"\norganisation = "aiii-interop tests"\n'
            'placement = "http"\nrole = "test-double"\ndefault = false\n\n[http]\n'
            f'url = "https://localhost:{port}/{vid}"\nca_file = "ca.pem"\nrate_per_s = 50\n{lines}\n'
            '[version]\nadapter = true\n\n[[capabilities]]\noperation = "metadata.read"\nmedia_types = ["image/jpeg"]\n')
    return folder
