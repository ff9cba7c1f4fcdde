"""Hostile files the vector tests share (unit and end-to-end): a real photo as JPEG, a PNG bomb."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

from helpers import ROOT
from PIL import Image

PHOTO = ROOT / "test_vectors/images/kodak/kodim01.png"


def jpeg_bytes() -> bytes:
    buf = io.BytesIO()
    with Image.open(PHOTO) as im:
        im.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def png_bomb(path: Path, width: int, height: int) -> None:
    """A 1-bit PNG of zeros: some 50 KB on disk that decodes to width x height pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    comp = zlib.compressobj(9)
    row = b"\0" * (1 + (width + 7) // 8)  # filter byte + packed bits
    idat = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
