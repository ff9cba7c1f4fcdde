"""What vendors and files say reaches the terminal escaped: no raw escape sequences,
carriage returns or bidi overrides from a vendor's name, version, error or a file name."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from helpers import aiii

#: Clears the screen, sets the window title, links text to a URL, returns the cursor, reverses the line.
HOSTILE = "\x1b[2J\x1b]0;pwned\x07\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\\rok \u202egnp.exe\x9b31m"
RAW = ("\x1b", "\r", "\x07", "\x9b", "\u202e")

VENDOR = """id = "{id}"
name = {name}
organisation = "Tests"
placement = "inproc"
role = "test-double"
default = false

[adapter]
entry = {entry}

[version]
adapter = true

[[capabilities]]
operation = "metadata.read"
media_types = ["image/jpeg"]
"""

ADAPTER = f'''
from aiii_kit import Adapter, AdapterError


class Loud(Adapter):
    def implementation_version(self):
        return {("1.0" + HOSTILE)!r}

    def metadata_read(self, asset, params):
        return {{"fields": {{}}}}


class Broken(Adapter):
    def health(self):
        raise AdapterError({("cannot start: " + HOSTILE)!r})
'''


def hostile_vendors(tmp_path: Path) -> Path:
    """A vendor with an escape-laden name and version, one whose start-up fails with an
    escape-laden reason, and one whose missing adapter file is named in a folder whose
    name holds escapes."""
    root = tmp_path / f"vendors{HOSTILE}"
    for vid, cls, entry in (("loud", "Loud", None), ("broken", "Broken", None), ("missing", "X", "gone.py:X")):
        folder = root / vid
        folder.mkdir(parents=True)
        (folder / "adapter.py").write_text(ADAPTER)
        (folder / "vendor.toml").write_text(VENDOR.format(
            id=vid, name=json.dumps(f"Vendor {HOSTILE}"), entry=json.dumps(entry or f"adapter.py:{cls}")))
    return root


def assert_clean(proc: subprocess.CompletedProcess[str]) -> str:
    shown = proc.stdout + proc.stderr
    for raw in RAW:
        assert raw not in shown, (raw, shown)
    return shown


def test_vendors_list_and_check_show_hostile_text_escaped(tmp_path: Path) -> None:
    vendors = hostile_vendors(tmp_path)
    listed = assert_clean(aiii(tmp_path / "home", "vendors", "list", "--vendor-dir", str(vendors)))
    assert "vendors\\x1b[2J" in listed and "gone.py is missing" in listed  # the file name, visible but inert
    checked = aiii(tmp_path / "home", "vendors", "check", "--vendor-dir", str(vendors), "--vendors", "loud,broken,missing")
    shown = assert_clean(checked)
    # the version and the reason passed the gate, which folds control characters to spaces;
    # the folder name is shown escaped
    assert "1.0 [2J" in shown and "cannot start: [2J" in shown and "\\u202egnp.exe" in shown


def test_a_run_and_its_errors_show_hostile_text_escaped(tmp_path: Path) -> None:
    vendors = hostile_vendors(tmp_path)
    profile = tmp_path / "hostile.toml"
    profile.write_text('name = "hostile"\ndescription = "ExifTool writes, hostile vendors read."\n'
                       'vendors = ["exiftool", "loud", "broken", "missing"]\nfail_on = "never"\n\n[[checks]]\n'
                       'id = "metadata.roundtrip"\nlevel = "MUST"\nvectors = { ids = ["kodim01-jpg"] }\n'
                       'params = { value_sets = ["ascii"] }\n')
    out = tmp_path / f"out{HOSTILE}"
    proc = aiii(tmp_path / "home", "run", "--profile", str(profile), "--vendor-dir", str(vendors), "--out", str(out),
                "--store", str(tmp_path / "s.sqlite"))
    assert proc.returncode == 0, proc.stderr
    shown = assert_clean(proc)
    assert "scorecard: " in shown and "out\\x1b[2J" in shown
    assert_clean(aiii(tmp_path / "home", "runs", "--store", str(tmp_path / "s.sqlite")))
    # an error line that names a hostile file name
    missing = aiii(tmp_path / "home", "run", "--profile", str(tmp_path / f"nope{HOSTILE}.toml"), "--out", str(tmp_path / "o"))
    assert missing.returncode == 2 and "nope\\x1b[2J" in assert_clean(missing)
