"""What the hostile-vendor tests share: vendor folders, real TLS endpoints, report checks.

The vendors are real programs: the babbler adapter (tests/doubles_hostile/babbler) run
in-process, by the kit's server in a process, or by the kit's server behind TLS on
loopback; and raw_server.py, a protocol server of its own that sends programmed bytes.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
HOSTILE = TESTS / "doubles_hostile"
BABBLER = HOSTILE / "babbler" / "adapter.py"
RAW_SERVER = HOSTILE / "raw_server.py"
#: The honest vendors every hostile run has, and whose cells must not change.
HONEST = ["exiftool", "xmp-reference"]
#: A reason longer than this is not bounded.
REASON_BOUND = 1000


def write_profile(path: Path, vendors: list[str]) -> Path:
    path.write_text(
        'name = "hostile"\ndescription = "Hostile readers next to honest ones, on one JPEG."\n'
        f"vendors = {json.dumps(vendors)}\nfail_on = \"never\"\n\n"
        '[[checks]]\nid = "metadata.roundtrip"\nlevel = "MUST"\nvectors = { ids = ["kodim01-jpg"] }\n'
        'params = { value_sets = ["ascii"] }\n')
    return path


def _toml(value: Any) -> str:
    return json.dumps(value)  # strings, numbers, lists and booleans: JSON is TOML here


def write_vendor(root: Path, vid: str, transport: str, *, config: dict[str, Any] | None = None,
                 process: dict[str, Any] | None = None, http: dict[str, Any] | None = None,
                 entry: bool = True) -> Path:
    """A vendor folder ``root/vid`` reading metadata from JPEGs."""
    folder = root / vid
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f'id = "{vid}"', f'name = "Hostile double {vid}"', 'organisation = "aiii-interop tests"',
             f'placement = "{transport}"', 'role = "test-double"', "default = false", ""]
    if entry:
        lines += ["[adapter]", f'entry = "{BABBLER}:Babbler"', "max_concurrency = 2", ""]
        if config:
            lines += ["[adapter.config]", *(f"{k} = {_toml(v)}" for k, v in config.items()), ""]
    for name, table in (("process", process), ("http", http)):
        if table is not None:
            lines += [f"[{name}]", *(f"{k} = {_toml(v)}" for k, v in table.items()), ""]
    lines += ["[version]", "adapter = true", "", "[[capabilities]]", 'operation = "metadata.read"',
              'media_types = ["image/jpeg"]', ""]
    (folder / "vendor.toml").write_text("\n".join(lines))
    return folder


def raw_process(vid: str, mode: str | None = None, program: str | None = None) -> dict[str, Any]:
    """The ``[process]`` table of a vendor served by raw_server.py on its unix socket."""
    command = ["{python}", str(RAW_SERVER), "--unix", "{socket}", "--vendor", vid]
    command += ["--mode", mode] if mode else ["--program", program or "{vendor_dir}/program.json"]
    return {"command": command, "startup_timeout_s": 10}


# -- TLS on loopback ------------------------------------------------------------------------


def http_table(url: str, ca: Path, vendor_folder: Path, token_env: str | None = None) -> dict[str, Any]:
    (vendor_folder / "ca.pem").write_bytes(ca.read_bytes())
    table: dict[str, Any] = {"url": url, "ca_file": "ca.pem", "rate_per_s": 200, "max_concurrency": 2, "retries": 1}
    if token_env:
        table["token_env"] = token_env
    return table


class KitEndpoint:
    """The babbler served by the kit's own server (aiii_kit) over TLS, on a thread."""

    def __init__(self, vendor: str, config: dict[str, Any], cert: Path, key: Path, token: str | None = None) -> None:
        import importlib.util

        from aiii_kit.server import build_server

        spec = importlib.util.spec_from_file_location("aiii_hostile_babbler", BABBLER)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        self.server = build_server(module.Babbler(config=config), vendor, listen=("127.0.0.1", 0),
                                   tls=(str(cert), str(key)), token=token)
        self.port = self.server.server_address[1]
        self.url = f"https://localhost:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class RawEndpoint:
    """raw_server.py over TLS on loopback, one process hosting many vendors (by URL path)."""

    def __init__(self, programs: Path, cert: Path, key: Path, mode: str = "nan") -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        programs.mkdir(parents=True, exist_ok=True)
        self.programs = programs
        self.proc = subprocess.Popen(
            [sys.executable, str(RAW_SERVER), "--listen", f"127.0.0.1:{self.port}", "--tls-cert", str(cert),
             "--tls-key", str(key), "--programs", str(programs), "--mode", mode],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("raw_server.py did not start listening")

    def url(self, vendor: str) -> str:
        return f"https://localhost:{self.port}/{vendor}"

    def program(self, vendor: str, program: dict[str, Any]) -> None:
        path = self.programs / f"{vendor}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(program))
        os.replace(tmp, path)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


# -- what every hostile run must leave behind ------------------------------------------------


def check_reports(out: Path) -> dict[str, Any]:
    """All four reports exist and are sound; the validated bundle."""
    from reports.bundle import read_bundle

    bundle = read_bundle(out / "results.json")  # validates against reports/schemas/bundle.schema.json
    ET.parse(out / "junit.xml")
    assert (out / "summary.md").stat().st_size > 0
    assert (out / "site" / "index.html").stat().st_size > 0
    return bundle


def comparable(cell: dict[str, Any]) -> tuple[Any, ...]:
    """What a cell says, without when and how long."""
    arts = {role: a["sha256"] for role, a in cell["artifacts"].items()}
    return cell["outcome"], cell["reason"], json.dumps(cell["measurements"], sort_keys=True), json.dumps(arts, sort_keys=True)


def by_consumer(cells: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["consumer"]: c for c in cells}


def occurrences(needle: bytes, *places: Path) -> dict[Path, int]:
    """How often ``needle`` occurs in each file under ``places`` (files without it left out)."""
    found = {}
    for place in places:
        if not place.exists():
            continue
        paths = [place] if place.is_file() else [p for p in place.rglob("*") if p.is_file() and not p.is_symlink()]
        for path in paths:
            try:
                count = path.read_bytes().count(needle)
            except OSError:
                continue
            if count:
                found[path] = count
    return found


def files_holding(needle: bytes, *places: Path) -> list[Path]:
    """Every file under ``places`` whose bytes contain ``needle``."""
    return sorted(occurrences(needle, *places))


def mode_program(mode: str) -> dict[str, Any]:
    """raw_server.py's named mode as a program file's content."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("aiii_hostile_raw_server", RAW_SERVER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.mode_program(mode)  # type: ignore[no-any-return]
