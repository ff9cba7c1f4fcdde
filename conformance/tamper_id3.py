"""Where an ID3 tag (MP3, FLAC) keeps the manifest store, and the MPEG audio frames of an MP3."""

from __future__ import annotations

from dataclasses import dataclass

from conformance.tamper_media import _unsupported


@dataclass(frozen=True)
class _Id3Frame:
    tag_end: int
    frame_start: int
    frame_end: int
    data_start: int  # start of the JUMBF inside the GEOB frame
    data_end: int


#: GEOB MIME types of a C2PA manifest store: current c2pa-rs, and older releases (seen with c2pa-python 0.10)
_C2PA_GEOB_TYPES = (b"application/c2pa", b"application/x-c2pa-manifest-store")


def _geob_object(data: bytes, body: int, end: int) -> int:
    """Offset of the encapsulated object in a GEOB frame body."""
    encoding = data[body]
    pos = data.find(b"\x00", body + 1, end) + 1  # MIME type: always Latin-1
    terminator = b"\x00\x00" if encoding in (1, 2) else b"\x00"
    for _ in range(2):  # file name, then content description
        if pos <= 0:
            break
        found = data.find(terminator, pos, end)
        while terminator == b"\x00\x00" and found >= 0 and (found - pos) % 2:
            found = data.find(terminator, found + 1, end)
        pos = found + len(terminator) if found >= 0 else -1
    if pos <= 0 or data[pos + 4 : pos + 8] != b"jumb":
        raise ValueError("C2PA GEOB frame without a JUMBF object")
    return pos


def _syncsafe(raw: bytes) -> int:
    return (raw[0] << 21) | (raw[1] << 14) | (raw[2] << 7) | raw[3]


def _id3_c2pa_frame(data: bytes) -> _Id3Frame:
    if data[:3] != b"ID3" or len(data) < 10:
        raise ValueError("no ID3v2 tag at the start of the file")
    version, flags = data[3], data[5]
    if version not in (3, 4):
        raise _unsupported(f"ID3v2.{version}", "ID3")
    if flags & 0x80:
        raise _unsupported("unsynchronised ID3", "ID3")
    tag_end = 10 + _syncsafe(data[6:10])
    pos = 10
    if flags & 0x40:
        ext = data[10:14]
        pos += _syncsafe(ext) if version == 4 else 4 + int.from_bytes(ext, "big")
    while pos + 10 <= tag_end and data[pos] != 0:
        frame_id = data[pos : pos + 4]
        raw_size = data[pos + 4 : pos + 8]
        size = _syncsafe(raw_size) if version == 4 else int.from_bytes(raw_size, "big")
        body, end = pos + 10, pos + 10 + size
        if end > tag_end:
            raise ValueError("ID3 frame overruns its tag")
        mime_end = data.find(b"\x00", body + 1, end)
        if frame_id == b"GEOB" and data[body + 1 : mime_end] in _C2PA_GEOB_TYPES:
            if data[pos + 9] & (0x0E if version == 4 else 0xC0):
                raise _unsupported("compressed/encrypted GEOB", "ID3")
            skip = 4 if version == 4 and data[pos + 9] & 0x01 else 0  # data length indicator
            start = _geob_object(data, body + skip, end)
            return _Id3Frame(tag_end, pos, end, start, end)
        pos = end
    raise ValueError("no C2PA GEOB frame in the ID3 tag")


def _id3_strip(data: bytes) -> bytes:
    frame = _id3_c2pa_frame(data)
    tag = bytearray(data[: frame.frame_start] + data[frame.frame_end : frame.tag_end])
    size = len(tag) - 10
    if not any(tag[10:]):  # nothing but padding left: drop the whole tag
        return data[frame.tag_end :]
    tag[6:10] = bytes(((size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F))
    return bytes(tag) + data[frame.tag_end :]


_MP3_BITRATES = {
    (3, 1): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (2, 1): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mp3_frame_length(header: bytes) -> int | None:
    """Length of a MPEG Layer III frame from its four header bytes, None if not one."""
    if header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return None
    version, layer = (header[1] >> 3) & 3, (header[1] >> 1) & 3
    bitrate_index, rate_index, padding = header[2] >> 4, (header[2] >> 2) & 3, (header[2] >> 1) & 1
    if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    kbps = _MP3_BITRATES[(3, 1) if version == 3 else (2, 1)][bitrate_index]
    rate = _MP3_RATES[version][rate_index]
    factor = 144 if version == 3 else 72
    return factor * kbps * 1000 // rate + padding


def _mp3_pixel(data: bytes) -> bytes:
    start = 10 + _syncsafe(data[6:10]) if data[:3] == b"ID3" else 0
    pos = start + (len(data) - start) // 2
    while pos + 4 <= len(data):
        length = _mp3_frame_length(data[pos : pos + 4])
        following = pos + (length or 0)
        if length and following + 4 <= len(data) and _mp3_frame_length(data[following : following + 4]):
            target = pos + length * 3 // 4  # past header and side information
            return data[:target] + bytes([data[target] ^ 0x01]) + data[target + 1 :]
        pos += 1
    raise ValueError("no MPEG Layer III frame found")
