"""mutagen adapter: ID3v2.4 frames in MP3 and WAV, Vorbis comments in FLAC.

Works on an in-memory copy of the file (``io.BytesIO``); only the tag block changes.
The field mapping is in the README beside this file.
"""

from __future__ import annotations

import io
from typing import Any

from aiii_kit import Adapter, AdapterError, Asset, Unsupported
from mutagen import MutagenError
from mutagen.flac import FLAC
from mutagen.id3 import COMM, ID3, TCOP, TIT2, TPE1, TSRC, TXXX, WCOP, Encoding, Frame, ID3NoHeaderError
from mutagen.mp3 import MP3
from mutagen.wave import WAVE

#: Canonical field -> ID3v2 frame id, or "TXXX:<description>" for user text frames.
ID3_FRAMES: dict[str, str] = {
    "digital_source_type": "TXXX:DigitalSourceType",
    "data_mining": "TXXX:DataMining",
    "creator": "TPE1",
    "copyright_notice": "TCOP",
    "web_statement": "WCOP",
    "title": "TIT2",
    "description": "COMM",
    "iscc": "TXXX:ISCC",
    "isrc": "TSRC",
    "iswc": "TXXX:ISWC",
}

#: Canonical field -> Vorbis comment name (FLAC).
VORBIS_KEYS: dict[str, str] = {
    "digital_source_type": "DIGITALSOURCETYPE",
    "data_mining": "DATAMINING",
    "creator": "ARTIST",
    "copyright_notice": "COPYRIGHT",
    "web_statement": "LICENSE",
    "title": "TITLE",
    "description": "DESCRIPTION",
    "iscc": "ISCC",
    "isrc": "ISRC",
    "iswc": "ISWC",
}

TEXT_FRAMES: dict[str, type[Frame]] = {"TPE1": TPE1, "TCOP": TCOP, "TIT2": TIT2, "TSRC": TSRC}
#: Language of the COMM frame written for ``description`` (ID3's "unknown language").
COMMENT_LANG = "XXX"


def _id3_set(tags: ID3, frame_id: str, value: str) -> None:
    """Replace one mapped frame by a frame holding ``value`` (UTF-8 where ID3 allows it)."""
    if not value and frame_id != "WCOP":
        # mutagen's save_frame() silently skips text frames whose text is empty.
        raise AdapterError(f"{frame_id}: mutagen does not write a text frame with an empty value")
    if frame_id.startswith("TXXX:"):
        desc = frame_id[5:]
        tags.delall(frame_id)
        tags.add(TXXX(encoding=Encoding.UTF8, desc=desc, text=[value]))
    elif frame_id == "COMM":
        # A COMM frame's key is "COMM:<description>:<language>".
        for key in [k for k in tags if k.startswith("COMM::")]:
            del tags[key]
        tags.add(COMM(encoding=Encoding.UTF8, lang=COMMENT_LANG, desc="", text=[value]))
    elif frame_id == "WCOP":
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise AdapterError("WCOP: ID3 URL frames hold ISO-8859-1 only; the value is not representable") from None
        tags.setall("WCOP", [WCOP(url=value)])
    else:
        tags.setall(frame_id, [TEXT_FRAMES[frame_id](encoding=Encoding.UTF8, text=[value])])


def _id3_get(tags: ID3, frame_id: str) -> str | None:
    """The first value of a mapped frame, or None."""
    keys = [k for k in tags if k.startswith("COMM::")] if frame_id == "COMM" else [frame_id]
    frame: Any = tags.get(keys[0]) if keys else None
    if frame is None:
        return None
    if frame_id == "WCOP":
        return str(frame.url)
    return str(frame.text[0]) if frame.text else None


class MutagenAdapter(Adapter):
    """mutagen on MP3 (ID3v2.4), WAV (ID3v2.4 in the 'id3 ' chunk) and FLAC (Vorbis comments)."""

    def metadata_write(self, asset: Asset, params: dict[str, Any]) -> Asset:
        """Write the fields into the tag block; audio frames are copied unchanged."""
        fields: dict[str, str] = params["fields"]
        unknown = set(fields) - set(ID3_FRAMES)
        if unknown:
            raise Unsupported(f"unknown fields {sorted(unknown)}")
        buf = io.BytesIO(asset.data)
        try:
            if asset.media_type == "audio/flac":
                flac = FLAC(buf)
                if flac.tags is None:
                    flac.add_tags()
                for name, value in fields.items():
                    flac[VORBIS_KEYS[name]] = [value]
                buf.seek(0)  # FLAC.save() reads the header from the current position
                flac.save(buf)
            elif asset.media_type in ("audio/mpeg", "audio/wav"):
                audio = MP3(buf) if asset.media_type == "audio/mpeg" else WAVE(buf)
                if audio.tags is None:
                    audio.add_tags()
                tags: Any = audio.tags
                for name, value in fields.items():
                    _id3_set(tags, ID3_FRAMES[name], value)
                audio.save(buf, v2_version=4)
            else:
                raise Unsupported(f"no metadata.write for {asset.media_type}")
        except MutagenError as exc:
            raise AdapterError(f"mutagen could not write: {exc}") from exc
        return Asset(data=buf.getvalue(), media_type=asset.media_type, name=asset.name)

    def metadata_read(self, asset: Asset, params: dict[str, Any]) -> dict[str, Any]:
        """The mapped fields present in the tag block."""
        buf = io.BytesIO(asset.data)
        fields: dict[str, str] = {}
        try:
            if asset.media_type == "audio/flac":
                flac = FLAC(buf)
                for name, key in VORBIS_KEYS.items():
                    values = flac.tags.get(key) if flac.tags is not None else None
                    if values:
                        fields[name] = str(values[0])
            elif asset.media_type in ("audio/mpeg", "audio/wav"):
                tags = self._read_id3(buf, asset.media_type)
                for name, frame_id in ID3_FRAMES.items():
                    value = _id3_get(tags, frame_id) if tags is not None else None
                    if value is not None:
                        fields[name] = value
            else:
                raise Unsupported(f"no metadata.read for {asset.media_type}")
        except MutagenError as exc:
            raise AdapterError(f"mutagen could not read: {exc}") from exc
        return {"fields": fields}

    @staticmethod
    def _read_id3(buf: io.BytesIO, media_type: str) -> ID3 | None:
        """The ID3v2 tag of an MP3 (read without decoding the audio) or WAV file."""
        if media_type == "audio/wav":
            return WAVE(buf).tags
        try:
            return ID3(buf)
        except ID3NoHeaderError:
            buf.seek(0)
            MP3(buf)  # no tag: still say so when this is no MPEG audio at all
            return None
