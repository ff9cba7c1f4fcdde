"""A user's own folder of media, made deterministically from the catalogue's sources: a photo
in every image format the catalogue knows, a clip in every audio format (Ogg Vorbis
among them), and a text file, none of them catalogue vectors (cropped, mirrored, cut).
Small, so a whole profile runs on it in minutes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
from helpers import ROOT
from PIL import Image

PHOTO = ROOT / "test_vectors" / "images" / "kodak" / "kodim05.png"
CLIP = ROOT / "test_vectors" / "audio" / "sorohan-solo-trumpet.ogg"
TEXT = "Field notes, 5 December.\nThe harbour at dawn; a trumpet from the ferry.\nЗаметки. 笔记. ملاحظات.\n"
#: What the folder holds: path in the folder -> media type the import should find.
FILES = {
    "photos/harbour.png": "image/png", "photos/harbour.jpg": "image/jpeg", "photos/harbour.webp": "image/webp",
    "photos/harbour.tif": "image/tiff", "sound/ferry.wav": "audio/wav", "sound/ferry.mp3": "audio/mpeg",
    "sound/ferry.flac": "audio/flac", "sound/ferry.ogg": "audio/ogg", "notes/field-notes.txt": "text/plain",
}


def make_foreign_folder(folder: Path) -> Path:
    """Write :data:`FILES` into ``folder`` (created) and return it."""
    for sub in ("photos", "sound", "notes"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    with Image.open(PHOTO) as im:
        photo = im.convert("RGB").crop((200, 120, 520, 360)).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    photo.save(folder / "photos/harbour.png")
    photo.save(folder / "photos/harbour.jpg", quality=85)
    photo.save(folder / "photos/harbour.webp", quality=80)
    photo.save(folder / "photos/harbour.tif")
    samples, rate = sf.read(CLIP, dtype="float64")
    clip = np.ascontiguousarray(samples[rate: rate * 4][::-1])  # three seconds, reversed
    sf.write(folder / "sound/ferry.wav", clip, rate, subtype="PCM_16")
    sf.write(folder / "sound/ferry.flac", clip, rate, subtype="PCM_16")
    sf.write(folder / "sound/ferry.mp3", clip, rate, format="MP3")
    sf.write(folder / "sound/ferry.ogg", clip, rate, format="OGG", subtype="VORBIS")
    (folder / "notes/field-notes.txt").write_text(TEXT, encoding="utf-8")
    return folder
