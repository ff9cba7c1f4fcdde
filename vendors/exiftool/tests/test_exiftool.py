"""ExifTool alone: the version a run records, and its one long-running perl process, which
must end with the adapter however the adapter ends.

Its place in the metadata matrix is in tests/test_vendors_metadata.py, whose fixtures and
helpers this module shares.
"""

from __future__ import annotations

import dataclasses
import gc
import re
from pathlib import Path
from typing import Any

import pytest
from aiii_kit import AdapterError, Asset
from test_vendors_metadata import (  # noqa: F401 - media and transports are fixtures
    HOSTILE_DIR,
    MANIFESTS,
    exiftool_process,
    fields_of,
    media,
    read,
    reported_version,
    transports,
    write,
)

from runner.transports.inproc import InprocTransport


def test_exiftool_version_is_the_one_the_manifest_names(transports: dict[str, InprocTransport]) -> None:  # noqa: F811
    named = re.search(r"ExifTool (\d+\.\d+)", MANIFESTS["exiftool"].description)
    assert named is not None
    assert reported_version(transports["exiftool"]) == named.group(1) == "13.10"


def _alive(pid: int) -> bool:
    """Whether a process with this pid exists and is not a zombie (Linux /proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _started_exiftool(clean: dict[str, bytes], **config: Any) -> tuple[InprocTransport, Any]:
    manifest = dataclasses.replace(MANIFESTS["exiftool"], config={**MANIFESTS["exiftool"].config, **config})
    transport = InprocTransport(manifest)
    transport.start()
    read(transport, Asset(clean["image/jpeg"], "image/jpeg"))
    proc = exiftool_process(transport)
    assert proc is not None and proc.poll() is None and _alive(proc.pid)
    assert "-stay_open" in Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode(errors="replace")
    return transport, proc


def test_exiftool_close_stops_the_perl_process_and_removes_its_files(media: dict[str, bytes]) -> None:  # noqa: F811
    transport, proc = _started_exiftool(media)
    workdir = Path(transport._adapter._tmp.name)  # type: ignore[union-attr]
    assert workdir.is_dir()
    transport.close()
    assert proc.poll() is not None
    assert not _alive(proc.pid)
    assert not workdir.exists()


def test_exiftool_process_stops_when_the_adapter_is_garbage_collected(media: dict[str, bytes]) -> None:  # noqa: F811
    transport, proc = _started_exiftool(media)
    del transport
    gc.collect()
    assert proc.poll() is not None, "a dropped adapter left its perl process running"


def test_exiftool_is_killed_and_restarted_after_a_command_timeout(media: dict[str, bytes]) -> None:  # noqa: F811
    """tiff_poc.tiff keeps ExifTool busy for seconds; with a 1 s deadline the process is killed
    (no stray perl), the call fails cleanly and the next call gets a fresh process."""
    transport, first = _started_exiftool(media, command_timeout_s=1)
    try:
        hostile = Asset((HOSTILE_DIR / "tiff_poc.tiff").read_bytes(), "image/tiff")
        with pytest.raises(AdapterError, match="did not answer in time"):
            read(transport, hostile)
        assert first.poll() is not None and not _alive(first.pid)
        title = {"title": "after the restart"}
        written = write(transport, Asset(media["image/jpeg"], "image/jpeg"), title)
        assert fields_of(transport, written) == title
        second = exiftool_process(transport)
        assert second is not None and second is not first and second.poll() is None
    finally:
        transport.close()
