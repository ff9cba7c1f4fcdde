"""The vector catalogue: real files, checksums, derivation and importing a user's folder."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from helpers import ROOT
from PIL import Image

from runner import derive as deriver
from runner.vector_import import import_directory
from runner.vectors import (
    Catalogue,
    CatalogueError,
    load_attack_strings,
    load_catalogue,
    sniff_media_type,
    verify_catalogue,
)

VECTORS = ROOT / "test_vectors"
PHOTOS = ("kodim01", "kodim03", "kodim05", "kodim07", "kodim08", "kodim12")


def linked_copy(tmp_path: Path, edit: tuple[str, str] | None = None) -> Path:
    """A catalogue folder whose media are hard links to the real ones, catalogue edited
    (not symlinks: a vector path that resolves outside its folder is refused)."""
    folder = tmp_path / "vectors"
    folder.mkdir()
    for child in VECTORS.iterdir():
        if child.is_dir():
            shutil.copytree(child, folder / child.name, copy_function=_link_or_copy)
    text = (VECTORS / "catalogue.toml").read_text()
    if edit is not None:
        old, new = edit
        assert text.count(old) == 1, f"edit target {old!r} must occur once"
        text = text.replace(old, new)
    (folder / "catalogue.toml").write_text(text)
    return folder


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:  # another file system
        shutil.copy2(src, dst)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- the catalogue as shipped -------------------------------------------------------


def test_catalogue_loads_and_every_sha256_matches(cache_a: Path) -> None:
    cat = load_catalogue(VECTORS, cache_a, derive=False)
    assert len(cat.vectors) == 43  # 31 media files, 2 identifier and 5 opt-out data files, 5 texts
    for vector in cat.vectors:
        assert vector.path.is_file(), vector.id
        assert sha(vector.path) == vector.sha256, vector.id
        assert vector.licence
    assert len({v.id for v in cat.vectors}) == len(cat.vectors)
    assert verify_catalogue(VECTORS) == []


def test_catalogue_tags_and_licences_as_documented(cache_a: Path) -> None:
    cat = load_catalogue(VECTORS, cache_a, derive=False)
    assert {v.id for v in cat.select(tags_all=["photo"])} == set(PHOTOS)
    speech = {v.id for v in cat.select(tags_all=["audio", "speech"])}
    assert speech == {"librispeech-198-209-0000", "librispeech-5703-47212-0000"}
    assert len(cat.select(tags_all=["audio", "music"])) == 3
    assert len(cat.select(tags_all=["c2pa", "public-testfile"])) == 7
    hostile = cat.select(tags_any=["hostile"])
    assert len(hostile) == 7 and all("c2pa" in v.tags for v in hostile)
    assert all("CC BY" in v.licence for v in cat.select(tags_all=["speech"]))
    for vector in cat.vectors:
        # every licence note the catalogue points at ships beside the media
        for word in vector.licence.split():
            if "/" in word:
                assert (VECTORS / word.rstrip(".,;)")).is_file(), word


def test_catalogue_hash_is_stable_and_follows_the_bytes(tmp_path: Path, cache_a: Path) -> None:
    first = load_catalogue(VECTORS, cache_a, derive=False).sha256
    assert load_catalogue(VECTORS, cache_a, derive=False).sha256 == first
    moved = linked_copy(tmp_path)  # another folder, same content: same hash
    assert load_catalogue(moved, cache_a, derive=False).sha256 == first
    (moved / "catalogue.toml").write_text(
        (moved / "catalogue.toml").read_text().replace('"photo", "kodak"', '"kodak", "photo"', 1)
    )
    assert load_catalogue(moved, cache_a, derive=False).sha256 != first


def test_public_file_expectations_follow_the_validator_version(catalogue: Catalogue) -> None:
    for vector in catalogue.select(tags_all=["public-testfile"]):
        (exp,) = vector.expectations_for("provenance.public_files", "c2pa-python", "0.38.1")
        assert exp["state"] in {"Valid", "Invalid", "none"}
        assert vector.expectations_for("provenance.public_files", "c2pa-python", "0.37.0") == []
    sig = catalogue.get("adobe-20220124-e-sig-ca").expectations[0]
    assert sig["state"] == "Invalid"
    assert set(sig["failure"]) == {"signingCredential.untrusted", "claimSignature.mismatch"}
    assert sig["informational"] == ["timeStamp.mismatch"]
    assert catalogue.get("adobe-20220124-a").expectations[0]["state"] == "none"


# -- errors a user sees -------------------------------------------------------------


def test_corrupted_sha256_names_file_vector_and_both_hashes(tmp_path: Path, cache_a: Path) -> None:
    real = sha(VECTORS / "images/kodak/kodim05.png")
    folder = linked_copy(tmp_path, (real, "0" * 64))
    with pytest.raises(CatalogueError) as err:
        load_catalogue(folder, cache_a, derive=False)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{folder / 'catalogue.toml'}: vectors[2] (kodim05): sha256 mismatch")
    assert real in message and "0" * 64 in message


def test_malformed_sha256_names_the_key_path(tmp_path: Path, cache_a: Path) -> None:
    real = sha(VECTORS / "images/kodak/kodim07.png")
    folder = linked_copy(tmp_path, (real, real[:12]))
    with pytest.raises(CatalogueError) as err:
        load_catalogue(folder, cache_a, derive=False)
    assert "catalogue.toml: vectors[3].sha256: expected 64 lowercase hex characters" in str(err.value)
    assert "\n" not in str(err.value)


def test_shipped_catalogue_errors_name_the_repository_path(monkeypatch: pytest.MonkeyPatch, cache_a: Path) -> None:
    monkeypatch.setattr("runner.vectors.CATALOGUE_FILE", "no-such-catalogue.toml")
    with pytest.raises(CatalogueError, match=r"^test_vectors/no-such-catalogue.toml: file not found \(for a folder of your own media, write one with"
                       r" `aiii vectors import test_vectors`\)$"):
        load_catalogue(VECTORS, cache_a)


def test_missing_file_names_the_vector(tmp_path: Path, cache_a: Path) -> None:
    folder = linked_copy(tmp_path, ('file = "audio/macleod-vibe-ace.ogg"', 'file = "audio/macleod-vibe-ace-gone.ogg"'))
    with pytest.raises(CatalogueError) as err:
        load_catalogue(folder, cache_a, derive=False)
    assert "(macleod-vibe-ace): file not found: audio/macleod-vibe-ace-gone.ogg" in str(err.value)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('media_type = "image/webp"', 'media_type = "webp"', "vectors[24].media_type: expected a media type"),
        ('id = "kodim08"', 'id = "kodim08.png"', "vectors[4].id: expected lowercase letters"),
        ('file = "images/kodak/kodim12.png"', 'file = "../kodim12.png"', "vectors[5].file: expected a relative path"),
        (
            'id = "adobe-20220124-c"\nfile = "c2pa/public-testfiles/adobe-20220124-C.jpg"\nmedia_type = "image/jpeg"\nsha256 = "75a8da33f6eaf1e16bf3b42cd78913b22b2e6a671fda217a508b1ba4230ce864"\nlicence = "CC BY-SA 4.0, C2PA public test files (Adobe): see c2pa/public-testfiles/LICENSE"\ntags = ["c2pa", "public-testfile"]\n[[vectors.expectations]]\ncheck = "provenance.public_files"\nconsumer = "c2pa-python"\nversions = "0.38.*"\nstate = "Valid"',
            'id = "adobe-20220124-c"\nfile = "c2pa/public-testfiles/adobe-20220124-C.jpg"\nmedia_type = "image/jpeg"\nsha256 = "75a8da33f6eaf1e16bf3b42cd78913b22b2e6a671fda217a508b1ba4230ce864"\nlicence = "CC BY-SA 4.0, C2PA public test files (Adobe): see c2pa/public-testfiles/LICENSE"\ntags = ["c2pa", "public-testfile"]\n[[vectors.expectations]]\ncheck = "provenance.public_files"\nconsumer = "c2pa-python"\nversions = "0.38.*"\nstate = "valid"',
            "vectors[12].expectations[0].state: expected one of",
        ),
        ("version = 1", "version = 2", "version: expected catalogue format version 1"),
    ],
)
def test_schema_violations_name_the_key_path(tmp_path: Path, cache_a: Path, old: str, new: str, expected: str) -> None:
    folder = linked_copy(tmp_path, (old, new))
    with pytest.raises(CatalogueError) as err:
        load_catalogue(folder, cache_a, derive=False)
    assert f"catalogue.toml: {expected}" in str(err.value)
    assert "\n" not in str(err.value)


def test_duplicate_ids_are_rejected(tmp_path: Path, cache_a: Path) -> None:
    folder = linked_copy(tmp_path, ('id = "kodim03"', 'id = "kodim01"'))
    with pytest.raises(CatalogueError, match=r"vectors\[1\]\.id: duplicate id 'kodim01' \(also vectors\[0\]\)"):
        load_catalogue(folder, cache_a, derive=False)


def test_declared_media_type_must_match_the_bytes(tmp_path: Path, cache_a: Path) -> None:
    old = 'file = "images/kodak/kodim01.png"\nmedia_type = "image/png"'
    folder = linked_copy(tmp_path, (old, old.replace("image/png", "image/jpeg")))
    with pytest.raises(CatalogueError, match=r"\(kodim01\): media_type is image/jpeg but the file looks like image/png"):
        load_catalogue(folder, cache_a, derive=False)


def test_verify_lists_every_problem_and_unlisted_media(tmp_path: Path) -> None:
    folder = tmp_path / "vectors"
    shutil.copytree(VECTORS, folder)
    shutil.copy(VECTORS / "images/kodak/kodim01.png", folder / "images/kodak/extra.png")
    (folder / "audio/sorohan-solo-trumpet.ogg").write_bytes(b"OggS" + b"\0" * 100)
    (folder / "c2pa/hostile/tiff_poc.tiff").unlink()
    problems = verify_catalogue(folder)
    assert len(problems) == 3, problems
    assert any("(sorohan-solo-trumpet): sha256 mismatch" in p for p in problems)
    assert any("(tiff_poc): file not found" in p for p in problems)
    assert any(p.endswith("images/kodak/extra.png: not in the catalogue") for p in problems)


def test_select_filters_and_rejects_unknown_ids(catalogue: Catalogue) -> None:
    webp = catalogue.select(tags_all=["photo", "derived"], media_types=["image/webp"])
    assert [v.id for v in webp] == [f"{p}-webp" for p in PHOTOS]
    assert catalogue.select(ids=["kodim0*"], tags_none=["derived", "photo-extra"]) == [catalogue.get(p) for p in PHOTOS[:5]]
    assert [v.id for v in catalogue.select(tags_all=["photo-extra"])] == ["kodim02", "kodim04", "kodim06", "kodim09", "kodim10", "kodim11"]
    assert len(catalogue.select(tags_any=["audio"], limit_per_media_type=1)) == 4
    with pytest.raises(CatalogueError, match="no vector with id 'kodim99'"):
        catalogue.select(ids=["kodim99"])


# -- derivation ---------------------------------------------------------------------


def test_derived_vectors_are_listed_once_with_their_origin(catalogue: Catalogue) -> None:
    ids = {v.id for v in catalogue.vectors}
    assert len(catalogue.vectors) == 43 + 6 * 3 + 5 * 3  # the six photo-extra images and the texts derive nothing
    assert {"kodim01-jpg", "kodim01-webp", "kodim01-tif"} <= ids
    assert "kodim01-png" not in ids  # the PNG source already is the PNG vector
    assert {"brahms-hungarian-dance-5-wav", "brahms-hungarian-dance-5-mp3", "brahms-hungarian-dance-5-flac"} <= ids
    jpg = catalogue.get("kodim05-jpg")
    assert jpg.source == "kodim05" and jpg.derivation == "pillow jpeg q90 4:2:0 baseline"
    assert jpg.tags == ("photo", "kodak", "derived") and jpg.licence == catalogue.get("kodim05").licence
    assert jpg.expectations == ()
    assert jpg.path.name == f"{catalogue.get('kodim05').sha256}-{deriver.DERIVER_VERSION}-{deriver.libraries_key()}-jpg"
    assert sha(jpg.path) == jpg.sha256


def test_derived_images_decode_clean_and_close_to_the_source(catalogue: Catalogue) -> None:
    for photo in PHOTOS:
        with Image.open(catalogue.get(photo).path) as src:
            reference = np.asarray(src.convert("RGB"), dtype=np.float64)
        for ext, fmt in (("jpg", "JPEG"), ("webp", "WEBP"), ("tif", "TIFF")):
            vector = catalogue.get(f"{photo}-{ext}")
            with Image.open(vector.path) as im:
                assert (im.format, im.size, im.mode) == (fmt, (768, 512), "RGB"), vector.id
                assert not {"exif", "icc_profile", "xmp", "gamma"} & set(im.info), (vector.id, im.info.keys())
                pixels = np.asarray(im, dtype=np.float64)
            mse = float(np.mean((pixels - reference) ** 2))
            if ext == "tif":
                assert mse == 0.0, vector.id
                assert vector.path.read_bytes()[:4] == b"II*\x00"
            else:
                psnr = 10 * np.log10(255.0**2 / mse)
                assert psnr > 30, (vector.id, psnr)
        assert catalogue.get(f"{photo}-webp").path.read_bytes()[12:16] == b"VP8 "  # lossy, simple format


def _mp3_kbps(data: bytes) -> int:
    assert data[:2] == b"\xff\xf3", "an MPEG-2 Layer III frame first (no ID3 tag)"
    return (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)[data[2] >> 4]


def test_derived_audio_decodes_at_the_source_rate_and_length(catalogue: Catalogue) -> None:
    for source in catalogue.select(tags_all=["audio"], tags_none=["derived"]):
        src_info = sf.info(str(source.path))
        decoded: dict[str, np.ndarray] = {}
        for ext in ("wav", "flac", "mp3"):
            vector = catalogue.get(f"{source.id}-{ext}")
            info = sf.info(str(vector.path))
            assert (info.samplerate, info.channels) == (22050, 1), vector.id
            assert info.frames == src_info.frames, vector.id  # LAME's info tag trims the delay
            decoded[ext] = sf.read(str(vector.path), dtype="float64")[0]
        assert sf.info(str(catalogue.get(f"{source.id}-wav").path)).subtype == "PCM_16"
        assert np.array_equal(decoded["wav"], decoded["flac"]), source.id
        assert _mp3_kbps(catalogue.get(f"{source.id}-mp3").path.read_bytes()) == 128
        err = decoded["mp3"] - decoded["wav"]
        snr = 10 * np.log10(np.mean(decoded["wav"] ** 2) / np.mean(err**2))
        assert snr > 10, (source.id, snr)


def test_stereo_mp3_is_not_garbled(tmp_path: Path) -> None:
    # libsndfile 1.2.2 garbles 16-bit stereo MP3 input; the deriver must feed floats.
    mono, rate = sf.read(str(VECTORS / "audio/brahms-hungarian-dance-5.ogg"), frames=22050 * 4)
    stereo = np.stack([mono, mono[::-1]], axis=1)
    src = tmp_path / "stereo.wav"
    sf.write(str(src), stereo, rate, subtype="PCM_16")
    first = deriver.derive_bytes(src, "audio/wav", "audio/mpeg")
    assert deriver.derive_bytes(src, "audio/wav", "audio/mpeg") == first
    decoded, _ = sf.read(io.BytesIO(first), dtype="float64")
    reference, _ = sf.read(str(src), dtype="float64")
    for channel in range(2):
        err = decoded[:, channel] - reference[:, channel]
        snr = 10 * np.log10(np.mean(reference[:, channel] ** 2) / np.mean(err**2))
        assert snr > 15, (channel, snr)


def test_derivation_info_names_the_codec_versions() -> None:
    info = deriver.derivation_info()
    assert info["deriver_version"] == deriver.DERIVER_VERSION
    for key in ("pillow", "libjpeg_turbo", "libwebp", "libsndfile", "lame", "libflac"):
        assert info[key], key
    assert info["lame"].startswith("LAME")


def test_unsupported_derivations_are_refused(tmp_path: Path) -> None:
    with pytest.raises(deriver.DeriveError):
        deriver.derive_bytes(VECTORS / "images/kodak/kodim01.png", "image/png", "audio/mpeg")
    with pytest.raises(deriver.DeriveError):  # Ogg output is never byte-stable
        deriver.derive_bytes(VECTORS / "audio/sorohan-solo-trumpet.ogg", "audio/ogg", "audio/ogg")
    assert deriver.mp3_compression_level(44100) == pytest.approx(0.6649, abs=1e-4)
    with pytest.raises(deriver.DeriveError, match="16 kHz"):
        deriver.mp3_compression_level(8000)


# -- importing a user's folder ------------------------------------------------------


def test_import_directory_sniffs_types_tags_folders_and_loads(tmp_path: Path, catalogue: Catalogue) -> None:
    media = tmp_path / "My Media"
    (media / "Holiday Photos").mkdir(parents=True)
    (media / "Music" / "Jazz").mkdir(parents=True)
    (media / "Speech").mkdir()
    shutil.copy(VECTORS / "images/kodak/kodim01.png", media / "Holiday Photos/Beach.png")
    shutil.copy(VECTORS / "images/kodak/kodim03.png", media / "Holiday Photos/sunset.jpg")  # a PNG in disguise
    shutil.copy(catalogue.get("kodim05-jpg").path, media / "Holiday Photos/hut")  # no extension
    shutil.copy(catalogue.get("kodim07-webp").path, media / "Holiday Photos/flowers.webp")
    with Image.open(VECTORS / "images/kodak/kodim08.png") as im:
        grey = np.asarray(im.convert("L")).astype(">u2") * 257
        Image.frombytes("I;16B", im.size, grey.tobytes()).save(media / "Holiday Photos/scan.tif")  # big-endian
        im.save(media / "Holiday Photos/anim.gif")
    shutil.copy(VECTORS / "audio/sorohan-solo-trumpet.ogg", media / "Music/Jazz/trumpet.ogg")
    shutil.copy(catalogue.get("macleod-vibe-ace-mp3").path, media / "Music/Jazz/vibe.mp3")  # frame sync, no ID3
    shutil.copy(VECTORS / "c2pa/hostile/id3v23_compression_underflow.mp3", media / "Music/tagged.mp3")
    shutil.copy(catalogue.get("librispeech-198-209-0000-flac").path, media / "Speech/clip.bin")
    shutil.copy(catalogue.get("librispeech-198-209-0000-wav").path, media / "Speech/clip.wav")
    (media / "notes.txt").write_text("my notes\n")
    (media / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")

    notes: list[str] = []
    written = import_directory(media, notes=notes)
    assert written == media.resolve() / "catalogue.toml"
    failures: list[str] = []  # a user's broken file is not derived, and says so
    cat = load_catalogue(media, tmp_path / "cache", derive_failures=failures)
    found = {Path(v.path).relative_to(media.resolve()).as_posix(): v for v in cat.vectors if not v.derived}
    assert {rel: v.media_type for rel, v in found.items()} == {
        "Holiday Photos/Beach.png": "image/png",
        "Holiday Photos/anim.gif": "image/gif",
        "Holiday Photos/flowers.webp": "image/webp",
        "Holiday Photos/hut": "image/jpeg",
        "Holiday Photos/scan.tif": "image/tiff",
        "Holiday Photos/sunset.jpg": "image/png",
        "Music/Jazz/trumpet.ogg": "audio/ogg",
        "Music/Jazz/vibe.mp3": "audio/mpeg",
        "Music/tagged.mp3": "audio/mpeg",
        "Speech/clip.bin": "audio/flac",
        "Speech/clip.wav": "audio/wav",
        "notes.txt": "text/plain",
    }
    assert found["Holiday Photos/sunset.jpg"].id == "holiday-photos-sunset"
    assert found["Holiday Photos/sunset.jpg"].tags == ("holiday-photos",)
    assert found["Music/Jazz/trumpet.ogg"].tags == ("music", "jazz")
    assert found["Speech/clip.bin"].id == "speech-clip"
    assert found["Speech/clip.wav"].id == "speech-clip-wav"  # made unique
    assert all(v.licence == "unknown (user-supplied)" for v in cat.vectors)
    # the catalogue's formats are derived for the user's media as for its own
    derived = {v.id: v.media_type for v in cat.vectors if v.source == "music-jazz-trumpet"}
    assert derived == {"music-jazz-trumpet-wav": "audio/wav", "music-jazz-trumpet-flac": "audio/flac",
                       "music-jazz-trumpet-mp3": "audio/mpeg"}
    assert {"holiday-photos-beach-jpg", "holiday-photos-beach-webp", "holiday-photos-beach-tif"} <= {v.id for v in cat.vectors}
    assert any(": music-tagged: deriving audio/wav failed" in f for f in failures)
    assert not any(n.startswith("notes.txt") for n in notes)
    assert any(n.startswith("Holiday Photos/sunset.jpg: the bytes say image/png") for n in notes)
    assert not any(".DS_Store" in n for n in notes)
    assert verify_catalogue(media) == []

    # A second import keeps what the user edited and notices new and vanished files.
    text = written.read_text()
    at = text.index('file = "Holiday Photos/Beach.png"')
    written.write_text(text[:at] + text[at:].replace('licence = "unknown (user-supplied)"', 'licence = "CC0, mine"', 1))
    (media / "Speech/clip.wav").unlink()
    shutil.copy(VECTORS / "images/kodak/kodim12.png", media / "new.png")
    notes.clear()
    import_directory(media, notes=notes)
    again = load_catalogue(media, tmp_path / "cache", derive=False)
    assert again.get("holiday-photos-beach").licence == "CC0, mine"
    assert again.get("new").tags == ()
    assert "speech-clip-wav" not in {v.id for v in again.vectors}
    assert any("Speech/clip.wav: dropped" in n for n in notes)


def test_sniffing_uses_bytes_not_names() -> None:
    assert sniff_media_type(b"MM\x00*\x00\x00\x00\x08") == "image/tiff"
    assert sniff_media_type(b"II*\x00\x08\x00\x00\x00") == "image/tiff"
    assert sniff_media_type(b"RIFF\x24\x00\x00\x00WAVEfmt ") == "audio/wav"
    assert sniff_media_type(b"RIFF\x24\x00\x00\x00AVI LIST") is None
    assert sniff_media_type(b"ID3\x04\x00\x00\x00\x00\x00\x02\x00\x00fLaC") == "audio/flac"
    assert sniff_media_type(b"\xff\xfb\x90\x64") == "audio/mpeg"  # MPEG-1 Layer III frame
    assert sniff_media_type(b"\xff\xf1\x50\x80") is None  # ADTS AAC is not MP3
    assert sniff_media_type(b"\xff\xd8\xff\xe0") == "image/jpeg"
    assert sniff_media_type(b"hello world") is None
    assert sniff_media_type(b"") is None


# -- attack strings -----------------------------------------------------------------


def test_attack_strings_load_with_control_characters_kept() -> None:
    attacks = load_attack_strings(VECTORS)
    assert set(attacks) == {"rendering", "special_characters", "sql_injection", "ten_thousand_characters", "xss"}
    assert attacks["rendering"] == ["Hello\\r\\nWorld", "Back\bSpace", "Horizontal\tTab", "Vertical\vTab", "Carriage\rReturn"]
    assert "Injected\x00Null" in attacks["special_characters"]
    assert [len(s) for s in attacks["ten_thousand_characters"]] == [10000]
    assert "<script>alert('xss');</script>" in attacks["xss"]
    assert all(s for lines in attacks.values() for s in lines)
    assert load_attack_strings(VECTORS / "attacks") == attacks


def test_a_corpus_is_a_versioned_vector_listing_its_members(tmp_path: Path) -> None:
    cat = load_catalogue(VECTORS, tmp_path, derive=False)
    photos = cat.select(tags_any=["photo"], media_types=["image/png"])
    corpus = cat.corpus("photos", photos)
    assert corpus.id == "corpus:photos" and corpus in cat.vectors
    listed = json.loads(corpus.path.read_text())["members"]
    assert [m["id"] for m in listed] == [v.id for v in photos]
    assert [m["sha256"] for m in listed] == [v.sha256 for v in photos]
    assert cat.corpus("photos", photos) == corpus  # same members: the same vector, once
    assert sum(v.id == "corpus:photos" for v in cat.vectors) == 1
    with pytest.raises(CatalogueError, match="defined twice"):
        cat.corpus("photos", photos[:2])
