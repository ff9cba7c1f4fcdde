"""The distribution channels: every named channel runs on real media, twice gives the same
bytes, and does what its name says (measured); profiles declare their own; transform
steps are cached across runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from channel_media import audio, clip, image, peak_hz, photo, run, sine, text
from helpers import aiii, cells

from conformance import channels as ch
from runner.profiles import load_profile

# -- the catalogue ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ch.NAMED)
def test_every_channel_runs_on_real_media_and_gives_the_same_bytes_twice(name: str) -> None:
    kind = ch.NAMED[name].kind
    src = photo() if kind == "image" else clip() if kind == "audio" else text(marked=True)
    first, second = run(name, src), run(name, src)
    assert first.data == second.data and first.media_type == second.media_type
    if kind == "text":  # several leave this text as it was: what each changes is tested in tests/unit
        assert first.media_type == "text/plain" and first.data.decode("utf-8")
        return
    assert first.data != src.data
    if ch.NAMED[name].kind == "image":
        assert image(first).format.lower() == first.media_type.split("/")[1]
    else:
        samples, rate = audio(first)
        assert rate > 0 and len(samples) > rate


# -- images -----------------------------------------------------------------------------


# -- audio ------------------------------------------------------------------------------


def test_codecs_decode_back_aligned_and_lossy() -> None:
    orig, rate = audio(clip())
    sizes = {n: len(run(n, clip()).data) for n in ("mp3-128k", "mp3-64k")}
    assert sizes["mp3-128k"] > 1.8 * sizes["mp3-64k"]
    for name, floor in (("mp3-128k", 15), ("aac-128k", 25), ("opus-64k", 12)):
        out, out_rate = audio(run(name, clip()))
        assert out_rate == rate and abs(len(out) - len(orig)) <= 0.01 * rate, name
        n = min(len(out), len(orig))
        snr = 10 * np.log10(np.sum(orig[:n] ** 2) / np.sum((out[:n] - orig[:n]) ** 2))
        assert floor < snr < 60, (name, snr)  # the same sound, in time, but not the same samples


def test_time_stretch_changes_duration_by_5_percent_keeping_pitch() -> None:
    src = sine(440, 4.0)
    for name, factor in (("stretch+5", 1.05), ("stretch-5", 0.95)):
        out, rate = audio(run(name, src))
        assert len(out) / (4.0 * 44100) == pytest.approx(factor, abs=0.005), name
        assert peak_hz(out[rate // 2:-rate // 2], rate) == pytest.approx(440, rel=0.005), name


def test_pitch_shift_moves_a_sine_by_a_semitone_keeping_duration() -> None:
    src = sine(440, 3.0)
    for name, semitones in (("pitch+1", 1), ("pitch-1", -1)):
        out, rate = audio(run(name, src))
        assert abs(len(out) - 3 * 44100) <= 0.01 * 44100, name
        assert peak_hz(out[rate // 2:-rate // 2], rate) == pytest.approx(440 * 2 ** (semitones / 12), rel=0.005), name


# -- what is recorded, what is refused ---------------------------------------------------


def test_describe_records_params_and_library_versions() -> None:
    from importlib.metadata import version

    for name in ch.CHANNELS:
        described = ch.describe(name, {"x": 1})
        assert described["channel"] == name and described["params"] == {"x": 1}
        libs = described["libraries"]
        assert libs and all(libs[dist] == version(dist) for dist in ch.LIBRARIES[name])
        if "imageio-ffmpeg" in ch.LIBRARIES[name]:
            assert libs["ffmpeg"].startswith("n9.") and "intermediate" in described
    chain = ch.describe_channel(ch.NAMED["social-media"])
    assert [s["channel"] for s in chain["steps"]] == ["channel.fit", "channel.jpeg"]
    assert chain["steps"][1]["params"] == {"quality": 85} and chain["steps"][1]["libraries"]["pillow"]


# -- profiles ---------------------------------------------------------------------------

PROFILE = '''name = "p"
description = "d"
[channels.my-social]
kind = "image"
description = "a smaller platform"
steps = [{transform = "channel.fit", params = {long_side = 512}}, {transform = "channel.jpeg", params = {quality = 70}}]
[channels.jpeg-q50]
kind = "image"
steps = [{transform = "channel.jpeg", params = {quality = 50}}]
[[checks]]
id = "recognition.iscc"
level = "SHOULD"
vectors = { ids = ["kodim05"] }
params = { channels = ["my-social", "jpeg-q50"] }
'''


def test_a_profile_declares_a_channel_and_a_check_runs_it(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text(PROFILE)
    profile = load_profile(tmp_path, "p", {"recognition.iscc"})
    assert set(profile.channels) == {"my-social", "jpeg-q50"}
    declared = ch.declared(profile.channels)
    assert declared["my-social"].steps == (("channel.fit", {"long_side": 512}), ("channel.jpeg", {"quality": 70}))
    assert declared["jpeg-q50"] == ch.NAMED["jpeg-q50"] and "lowpass-4k" in declared
    proc = aiii(tmp_path / "home", "run", "--profile", str(tmp_path / "p.toml"), "--vendors", "iscc-core",
                "--out", str(tmp_path / "out"), "--store", str(tmp_path / "s.sqlite"), "-q", timeout=600)
    assert proc.returncode == 0, proc.stderr  # the profile asks for no gate
    got = {c["variant"]: c for c in cells(tmp_path / "s.sqlite").values() if c["vector"] == "kodim05"}
    mine = got["my-social"]
    assert mine["outcome"] in ("pass", "fail") and isinstance(mine["measurements"]["distance_bits"], int)
    recorded = mine["measurements"]["channel"]
    assert recorded["name"] == "my-social" and [s["params"] for s in recorded["steps"]] == [{"long_side": 512}, {"quality": 70}]
    assert set(mine["artifacts"]) >= {"channel.0", "channel", "transformed"}


@pytest.mark.parametrize(("table", "complaint"), [
    ('[channels.x]\nkind = "image"\nsteps = [{transform = "channel.jpg"}]\n', "unknown transform 'channel.jpg'"),
    ('[channels.x]\nkind = "audio"\nsteps = [{transform = "channel.jpeg", params = {quality = 5}}]\n',
     "channel.jpeg takes image, not audio"),
    ('[channels.x]\nkind = "image"\nsteps = [{transform = "channel.jpeg", params = {qualty = 5}}]\n',
     "channel.jpeg takes no qualty"),
    ('[channels.jpeg-q50]\nkind = "image"\nsteps = [{transform = "channel.jpeg", params = {quality = 60}}]\n',
     "channels.jpeg-q50: a built-in channel has this name"),
])
def test_a_bad_channel_declaration_stops_the_run_in_one_line(tmp_path: Path, table: str, complaint: str) -> None:
    (tmp_path / "p.toml").write_text('name = "p"\ndescription = "d"\n' + table +
                                     '[[checks]]\nid = "recognition.iscc"\nlevel = "SHOULD"\n')
    proc = aiii(tmp_path / "home", "run", "--profile", str(tmp_path / "p.toml"), "--vendors", "iscc-core",
                "--out", str(tmp_path / "out"), "--store", str(tmp_path / "s.sqlite"), timeout=300)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert "p.toml" in lines[0] and complaint in lines[0], lines[0]


# -- the persistent cache ---------------------------------------------------------------
