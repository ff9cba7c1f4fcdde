"""Identifiers without a run: the harness's own ISCC unit decoding against the reference, and
the channels the identifier checks use.  The ISCC profile runs are in tests/e2e/test_identifiers_e2e.py."""

from __future__ import annotations

import io

import iscc_core
import pytest
from aiii_kit import Asset
from helpers import ROOT

from conformance import channels
from conformance.iscc_codes import decode_unit, encode_unit, unit_distance


def test_harness_unit_decoding_agrees_with_the_reference() -> None:
    for code in ("ISCC:AAAZXZ6OU74YAZIM", "ISCC:EAASL4F2WZY7KBXB", "ISCC:GAAXL2XYM5BQIAZ3", "ISCC:IAA26E2JXH27TING"):
        unit, sub, body = decode_unit(code)
        header = iscc_core.decode_header(iscc_core.decode_base32(code.removeprefix("ISCC:")))
        assert (unit, sub) == (iscc_core.MT(header[0]).name.lower(), header[1])
        assert encode_unit(header[0], header[1], body) == code
    a, b = "ISCC:EIAWUJFCEZZOJYVD", "ISCC:EIA5OQ6DW5P4GF2V"
    assert unit_distance(a, b) == ("content", iscc_core.iscc_distance(a, b))
    with pytest.raises(ValueError, match="not comparable"):
        unit_distance("ISCC:AAAZXZ6OU74YAZIM", "ISCC:EAASL4F2WZY7KBXB")


def test_channels_are_deterministic_and_change_the_format() -> None:
    png = Asset((ROOT / "test_vectors/images/kodak/kodim05.png").read_bytes(), "image/png")
    one = channels.jpeg(png, {"quality": 50})
    assert one == channels.jpeg(png, {"quality": 50}) and one.media_type == "image/jpeg"
    assert channels.resize(png, {"scale": 0.5}).data[:8] == b"\x89PNG\r\n\x1a\n"
    import soundfile

    ogg = Asset((ROOT / "test_vectors/audio/librispeech-198-209-0000.ogg").read_bytes(), "audio/ogg")
    mp3 = channels.mp3(ogg, {"bitrate": 128})
    assert mp3 == channels.mp3(ogg, {"bitrate": 128}) and mp3.media_type == "audio/mpeg"
    low = channels.resample(ogg, {"rate": 16000})
    assert soundfile.info(io.BytesIO(low.data)).samplerate == 16000
    back = channels.resample(ogg, {"rate": 16000, "back": True})
    assert soundfile.info(io.BytesIO(back.data)).samplerate == soundfile.info(io.BytesIO(ogg.data)).samplerate
    described = channels.describe("channel.mp3", {"bitrate": 128})
    assert described["libraries"]["soundfile"] and "libsndfile" in described["libraries"]
