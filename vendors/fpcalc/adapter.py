"""fpcalc, Chromaprint's command-line tool (Debian: libchromaprint-tools), behind the
adapter kit.

``fpcalc -raw -json -algorithm 2 -length 0 FILE`` prints the whole file's raw
fingerprint: unsigned 32-bit sub-fingerprints, and the file's duration.  fpcalc 1.5.1
exits with status 3 ("Error decoding audio frame (End of file)") when FFmpeg reaches
the end of a WAV or OGG file, after printing a complete fingerprint: the JSON on stdout
decides, and a non-zero status with a fingerprint is a success with a note.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from typing import Any

from aiii_kit import Adapter, AdapterError, Asset, Unsupported
from aiii_kit.recognition import uint32_to_hex

MEDIA_TYPES = frozenset({"audio/wav", "audio/mpeg", "audio/flac", "audio/ogg"})


class FpcalcAdapter(Adapter):
    _version: str | None = None

    @property
    def _timeout(self) -> float:
        return float(self.config.get("command_timeout_s", 60))

    def _run(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        command = str(self.config.get("command", "fpcalc"))
        exe = shutil.which(command)
        if exe is None:
            raise AdapterError(f"{command} not found: install Debian's libchromaprint-tools")
        try:
            return subprocess.run([exe, *args], capture_output=True, timeout=self._timeout, check=False)
        except subprocess.TimeoutExpired:
            raise AdapterError(f"fpcalc did not finish within {self._timeout:.0f} s") from None

    def implementation_version(self) -> str | None:
        if self._version is None:
            proc = self._run("-version")
            match = re.search(rb"fpcalc version (\S+)", proc.stdout)
            if match is None:
                raise AdapterError(f"fpcalc -version printed no version: {_last_line(proc.stderr or proc.stdout)}")
            self._version = match.group(1).decode("ascii", "replace")
        return self._version

    def health(self) -> None:
        self.implementation_version()

    def fingerprint_compute(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        if params["algorithm"] != "chromaprint":
            raise Unsupported(f"fpcalc makes Chromaprint fingerprints, not {params['algorithm']}")
        if asset.media_type not in MEDIA_TYPES:
            raise Unsupported(f"fpcalc is declared for WAV, MP3, FLAC and OGG audio, not {asset.media_type}")
        algorithm = str(int(self.config.get("algorithm", 2)))
        fd, path = tempfile.mkstemp(suffix=asset.suffix)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(asset.data)
            proc = self._run("-raw", "-json", "-algorithm", algorithm,
                             "-length", str(int(self.config.get("length_s", 0))), path)
        finally:
            os.unlink(path)
        try:
            doc = json.loads(proc.stdout.decode("utf-8", "replace"))
            values = doc["fingerprint"]
            duration = doc.get("duration")
        except (ValueError, KeyError, TypeError):
            raise AdapterError(f"fpcalc exited {proc.returncode} without a fingerprint: {_last_line(proc.stderr)}") from None
        if not isinstance(values, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            raise AdapterError("fpcalc's fingerprint is not a list of integers")
        if not values:
            raise AdapterError(f"fpcalc made no sub-fingerprints of {duration} s of audio (too short)")
        notes = []
        if proc.returncode != 0:
            notes.append(f"fpcalc exited {proc.returncode} ({_last_line(proc.stderr)}) after printing the "
                         "fingerprint: Chromaprint 1.5.1's fpcalc reports the end of the input this way")
        if params.get("hash_size") is not None:
            notes.append("hash_size does not apply to Chromaprint")
        return {"algorithm": "chromaprint", "algorithm_version": algorithm, "encoding": "uint32be",
                "fingerprint_hex": uint32_to_hex(values), "bits": 32 * len(values),
                "duration_s": float(duration) if isinstance(duration, int | float) and duration >= 0 else None,
                "notes": notes}


def _last_line(data: bytes) -> str:
    lines = data.decode("utf-8", "replace").strip().splitlines()
    return lines[-1][:300] if lines else "no output"
