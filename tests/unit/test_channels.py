"""The distribution channels: every named channel runs on real media, twice gives the same
bytes, and does what its name says (measured); profiles declare their own; transform
steps are cached across runs."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aiii_kit import Asset, Unsupported
from channel_media import PHOTO, SELECTORS, TEXTS, audio, clip, image, photo, pixels, run, sine, text, wav
from helpers import ROOT
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from conformance import channels as ch
from conformance.discovery import discover
from runner.cache import ArtifactStore
from runner.errors import ConfigError
from runner.executor import Executor
from runner.model import transform_step
from runner.profiles import load_profile
from runner.vectors import load_catalogue

XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:format="marker-xmp"/></rdf:RDF></x:xmpmeta>')

transform_version = discover().transform_version


# -- the catalogue ----------------------------------------------------------------------


def test_the_catalogue_has_the_issue_channels_in_order() -> None:
    assert ch.IMAGE_CHANNELS == (
        "jpeg-q90", "jpeg-q75", "jpeg-q50", "jpeg-q30", "webp-q75", "resize-0.5", "resize-0.75", "resize-0.5-back",
        "resize-0.75-back", "crop-10", "rotate-2", "rotate-5", "blur-1", "noise-0.02", "brightness+20", "brightness-20",
        "social-media", "screenshot-png")
    assert ch.AUDIO_CHANNELS == (
        "mp3-128k", "mp3-64k", "aac-128k", "opus-64k", "resample-16k", "resample-16k-back", "noise-20db", "stretch+5",
        "stretch-5", "pitch+1", "pitch-1", "excerpt-3s", "lowpass-4k")
    assert ch.TEXT_CHANNELS == ("text-nfc", "text-nfkc", "text-trim", "text-clipboard", "text-html", "text-utf16")
    assert set(ch.NAMED) == {*ch.IMAGE_CHANNELS, *ch.AUDIO_CHANNELS, *ch.TEXT_CHANNELS}
    for named in ch.NAMED.values():
        assert named.description and all(ch.KINDS[t] == named.kind and set(p) <= ch.PARAMS[t] for t, p in named.steps)
    assert set(ch.CHANNELS) <= set(discover().transforms)


def test_existing_channels_keep_their_bytes() -> None:
    # outputs recorded by earlier runs (and cached under these params) must not move
    import hashlib

    got = {name: hashlib.sha256(run(name, photo() if ch.NAMED[name].kind == "image" else clip()).data).hexdigest()[:16]
           for name in ("jpeg-q50", "resize-0.5", "resample-16k", "mp3-128k")}
    assert got == {"jpeg-q50": "5ae8b068bdb0d3c7", "resize-0.5": "5fb93f32b5fbd393", "resample-16k": "38c3bfefec230c12",
                   "mp3-128k": "23094105e1252a47"}


# -- images -----------------------------------------------------------------------------


def test_jpeg_quality_changes_the_bytes_and_stays_decodable() -> None:
    sizes = {}
    for q in (90, 75, 50, 30):
        out = run(f"jpeg-q{q}", photo())
        assert image(out).size == (768, 512) and out.media_type == "image/jpeg"
        sizes[q] = len(out.data)
    assert sizes[90] > sizes[75] > sizes[50] > sizes[30]
    webp = run("webp-q75", photo())
    assert image(webp).format == "WEBP" and image(webp).size == (768, 512)


def test_resizes_and_crop_give_the_expected_sizes() -> None:
    expected = {"resize-0.5": (384, 256), "resize-0.75": (576, 384), "resize-0.5-back": (768, 512),
                "resize-0.75-back": (768, 512), "crop-10": (691, 461)}
    for name, size in expected.items():
        assert image(run(name, photo())).size == size, name
    # the crop is the centre, pixel for pixel: 77 columns and 51 rows off, split evenly
    assert np.array_equal(pixels(run("crop-10", photo())), pixels(photo())[25:486, 38:729])
    # scaled back up, the picture is close to but not the original
    diff = np.abs(pixels(run("resize-0.5-back", photo())) - pixels(photo())).mean()
    assert 0.5 < diff < 10


def test_rotation_keeps_the_canvas_and_fills_the_corners_black() -> None:
    for name in ("rotate-2", "rotate-5"):
        out = pixels(run(name, photo()))
        assert out.shape == (512, 768, 3)
        assert np.all(out[0, -1] == 0) and np.all(out[-1, 0] == 0), name
    # 5 degrees leaves a larger black corner than 2
    black = {n: int(np.sum(pixels(run(n, photo())).sum(axis=2) == 0)) for n in ("rotate-2", "rotate-5")}
    assert black["rotate-5"] > 2 * black["rotate-2"] > 0


def test_blur_noise_and_brightness_do_what_they_say() -> None:
    orig = pixels(photo())

    def roughness(p: np.ndarray) -> float:
        return float(np.abs(np.diff(p, axis=1)).mean())

    assert roughness(pixels(run("blur-1", photo()))) < 0.7 * roughness(orig)
    noise = pixels(run("noise-0.02", photo())) - orig
    assert 4.5 < noise.std() < 5.3  # 0.02 x 255 = 5.1, less where clipped
    assert abs(noise.mean()) < 0.2
    other_seed = ch.noise(photo(), {"sigma": 0.02, "seed": 1})
    assert other_seed.data != run("noise-0.02", photo()).data
    assert pixels(run("brightness+20", photo())).mean() > 1.12 * orig.mean()
    assert pixels(run("brightness-20", photo())).mean() == pytest.approx(0.8 * orig.mean(), rel=0.01)


def _with_metadata(size: tuple[int, int], fmt: str) -> Asset:
    img = Image.fromarray(np.asarray(Image.open(PHOTO).convert("RGB").resize(size)))
    exif = Image.Exif()
    exif[0x010E] = "marker-exif"  # ImageDescription
    out = io.BytesIO()
    if fmt == "JPEG":
        img.save(out, format="JPEG", quality=95, exif=exif, xmp=XMP)
    else:
        info = PngInfo()
        info.add_itxt("XML:com.adobe.xmp", XMP.decode())
        info.add_text("Comment", "marker-text")
        img.save(out, format="PNG", exif=exif, pnginfo=info)
    asset = Asset(out.getvalue(), f"image/{fmt.lower()}")
    assert b"marker-exif" in asset.data and b"marker-xmp" in asset.data  # really there before
    return asset


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_social_media_and_screenshot_strip_metadata(fmt: str) -> None:
    for name in ("social-media", "screenshot-png"):
        out = run(name, _with_metadata((1600, 1200), fmt))
        assert b"marker-exif" not in out.data and b"marker-xmp" not in out.data and b"marker-text" not in out.data
        assert not {"exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "Comment"} & set(image(out).info), name


def test_social_media_only_scales_down_to_1080() -> None:
    big = run("social-media", _with_metadata((1600, 1200), "PNG"))
    assert image(big).size == (1080, 810) and big.media_type == "image/jpeg"
    tall = run("social-media", _with_metadata((900, 2000), "JPEG"))
    assert image(tall).size == (486, 1080)
    # the 768 x 512 photo is within the limit: no upscale
    assert image(run("social-media", photo())).size == (768, 512)
    assert image(run("screenshot-png", photo())).size == (768, 512)


# -- audio ------------------------------------------------------------------------------


def test_resampling_to_16k_and_back() -> None:
    _, rate = audio(clip())
    assert rate == 22050
    assert audio(run("resample-16k", clip()))[1] == 16000
    back, back_rate = audio(run("resample-16k-back", clip()))
    assert back_rate == rate
    # nothing above 8 kHz survives the trip
    spectrum = np.abs(np.fft.rfft(back)) ** 2
    freqs = np.fft.rfftfreq(len(back), 1 / rate)
    assert spectrum[freqs > 8200].sum() < 1e-4 * spectrum.sum()


def test_white_noise_at_20_db_snr() -> None:
    orig, _ = audio(wav(audio(clip())[0], 22050))  # the PCM16 form, as the channel writes it
    noisy, _ = audio(run("noise-20db", clip()))
    snr = 10 * np.log10(np.mean(orig**2) / np.mean((noisy - orig) ** 2))
    assert snr == pytest.approx(20, abs=0.3)


def test_excerpt_is_3_s_from_1_s_clamped_to_the_clip() -> None:
    orig, rate = audio(wav(audio(clip())[0], 22050))
    out, _ = audio(run("excerpt-3s", clip()))
    assert abs(len(out) - 3 * rate) <= 1
    assert np.array_equal(out, orig[rate:4 * rate])
    # a 3.5 s clip: the excerpt starts earlier so it still lasts 3 s, ending with the clip
    short, short_rate = audio(sine(220, 3.5))
    got, _ = audio(run("excerpt-3s", sine(220, 3.5)))
    assert len(got) == 3 * short_rate and np.array_equal(got, short[-3 * short_rate:])
    # a clip shorter than the excerpt is kept whole
    assert len(audio(run("excerpt-3s", sine(220, 2.0)))[0]) == 2 * 44100


def test_lowpass_removes_energy_above_4_khz() -> None:
    rng = np.random.default_rng(7)
    src = wav(0.2 * rng.standard_normal(2 * 44100), 44100)

    def band(samples: np.ndarray, lo: float, hi: float) -> float:
        spectrum = np.abs(np.fft.rfft(samples)) ** 2
        freqs = np.fft.rfftfreq(len(samples), 1 / 44100)
        return float(spectrum[(freqs >= lo) & (freqs < hi)].sum())

    before, after = audio(src)[0], audio(run("lowpass-4k", src))[0]
    assert band(after, 5000, 22050) < 1e-4 * band(before, 5000, 22050)  # more than 40 dB down
    assert band(after, 100, 3000) == pytest.approx(band(before, 100, 3000), rel=0.05)


# -- text -------------------------------------------------------------------------------


def _read(asset: Asset) -> str:
    assert asset.media_type == "text/plain"
    return asset.data.decode("utf-8")


@pytest.mark.parametrize("path", TEXTS, ids=lambda p: p.stem)
def test_the_clipboard_drops_every_variation_selector_and_nothing_else(path: Path) -> None:
    src = _read(text(path, marked=True))
    out = _read(run("text-clipboard", text(path, marked=True)))
    assert not any(0xFE00 <= ord(c) <= 0xFE0F or 0xE0100 <= ord(c) <= 0xE01EF for c in out)
    assert out == "".join(c for c in src if c not in SELECTORS)
    assert out.endswith("\ufeff")  # the wrapper's marker stays, alone: no wrapper is left


def test_the_clipboard_also_drops_the_emoji_presentation_selector_from_the_visible_text() -> None:
    emoji = next(p for p in TEXTS if "emoji" in p.name)
    before, after = _read(text(emoji)), _read(run("text-clipboard", text(emoji)))
    assert "\u2764\ufe0f" in before and "\u2764\ufe0f" not in after and "\u2764" in after
    # tag characters (U+E0020-U+E007F, the England flag) sit just below the selectors and stay
    assert "\U000e0067\U000e0062\U000e0065" in after


@pytest.mark.parametrize("name", ["text-nfc", "text-nfkc", "text-html", "text-utf16"])
def test_normalisation_html_and_utf16_keep_the_selectors(name: str) -> None:
    for path in TEXTS:
        out = _read(run(name, text(path, marked=True)))
        assert out.endswith("\ufeff" + SELECTORS), (name, path.name)


def test_nfc_composes_and_nfkc_folds_compatibility_characters() -> None:
    decomposed = Asset("Cafe\u0301 \ufb01n\u3000\u0410\u0306".encode(), "text/plain")
    assert _read(run("text-nfc", decomposed)) == "Caf\u00e9 \ufb01n\u3000\u04d0"
    assert _read(run("text-nfkc", decomposed)) == "Caf\u00e9 fin \u04d0"
    cjk = next(p for p in TEXTS if "cjk" in p.name)
    assert "\u3000" in _read(text(cjk)) and "\u3000" not in _read(run("text-nfkc", text(cjk)))
    assert run("text-nfc", text(cjk)).data == text(cjk).data  # the vectors are stored in NFC


def test_trim_removes_trailing_whitespace_of_lines_and_text_but_not_the_wrapper() -> None:
    spaced = Asset(("  Down the Rabbit-Hole \t\nAlice\u3000\n\n\ufeff" + SELECTORS + "\n ").encode(), "text/plain")
    assert _read(run("text-trim", spaced)) == "Down the Rabbit-Hole\nAlice\n\n\ufeff" + SELECTORS


@pytest.mark.parametrize("name", ["text-html", "text-utf16"])
def test_html_and_utf16_round_trips_give_the_text_back(name: str) -> None:
    tricky = Asset('a < b & "c" \'d\' &amp; \U0001f44b\U0001f3fd'.encode(), "text/plain")
    assert run(name, tricky).data == tricky.data
    for path in TEXTS:
        assert run(name, text(path, marked=True)).data == text(path, marked=True).data


def test_a_text_channel_refuses_bytes_that_are_not_utf8() -> None:
    with pytest.raises(Unsupported, match="UTF-8"):
        ch.CHANNELS["channel.nfc"](Asset(b"\xff\xfe\x00", "text/plain"), {})



# -- what is recorded, what is refused ---------------------------------------------------


@pytest.mark.parametrize("name", ch.CHANNELS)
def test_a_channel_refuses_the_other_kind_of_media(name: str) -> None:
    wrong = clip() if ch.KINDS[name] == "image" else photo()
    params = next((dict(p) for n in ch.NAMED.values() for t, p in n.steps if t == name), {})
    with pytest.raises(Unsupported):
        ch.CHANNELS[name](wrong, params)
    if ch.KINDS[name] != "text":
        with pytest.raises(Unsupported):
            ch.CHANNELS[name](text(), params)


def test_chain_step_feeds_each_step_the_one_before() -> None:
    last = ch.chain_step(ch.NAMED["social-media"], "kodim05")
    assert last.operation == "channel.jpeg" and last.params == {"quality": 85}
    assert not isinstance(last.source, str) and last.source.operation == "channel.fit" and last.source.source == "kodim05"
    assert ch.chain_step(ch.NAMED["jpeg-q50"], "kodim05") == transform_step("channel.jpeg", "kodim05", {"quality": 50})


# -- profiles ---------------------------------------------------------------------------


def test_a_bad_channel_kind_is_a_schema_error(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text('name = "p"\ndescription = "d"\n[channels.x]\nkind = "video"\n'
                                     'steps = [{transform = "channel.jpeg"}]\n[[checks]]\nid = "recognition.iscc"\nlevel = "MAY"\n')
    with pytest.raises(ConfigError, match=r"p\.toml.*channels"):
        load_profile(tmp_path, "p", {"recognition.iscc"})


# -- the persistent cache ---------------------------------------------------------------


def test_a_transform_step_is_cached_across_runs_and_keyed_by_its_libraries(tmp_path: Path) -> None:
    catalogue = load_catalogue(ROOT / "test_vectors", tmp_path / "derived", derive=False)
    vectors = {v.id: v for v in catalogue.select(ids=("kodim05",))}
    step = ch.chain_step(ch.NAMED["social-media"], "kodim05")

    def executor(version: Any = transform_version) -> Executor:
        return Executor({}, vectors, ArtifactStore(tmp_path / "cache"), dict(discover().transforms), 1,
                        transform_version=version)

    first = executor().step(step)
    assert first.ok and not first.cached
    warm = executor()
    second = warm.step(step)
    assert second.cached and second.asset_sha256 == first.asset_sha256
    assert warm.timing.cached == 2  # both steps of the chain
    # a different library version (an upgrade) recomputes, and gets the same bytes
    upgraded = executor(lambda name: transform_version(name) + "-next" if name in ch.CHANNELS else None).step(step)
    assert not upgraded.cached and upgraded.asset_sha256 == first.asset_sha256
