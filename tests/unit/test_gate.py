"""The gate every vendor answer and message passes (runner/gate.py), on its own."""

from __future__ import annotations

import json
import math

import pytest

from runner import gate
from runner.redact import forget_secrets, register_secret


def test_lone_surrogates_are_replaced_and_noted() -> None:
    cleaned, notes = gate.answer({"fields": {"title": "caf\ud800e", "k\udcff": ["ok", "\udfff"]}})
    assert cleaned == {"fields": {"title": "caf\ufffde", "k\ufffd": ["ok", "\ufffd"]}}
    json.dumps(cleaned, ensure_ascii=False).encode("utf-8")  # storable as UTF-8
    assert any("/fields/title" in n for n in notes) and any("key" in n for n in notes)


def test_repair_notes_are_few_and_short() -> None:
    cleaned, notes = gate.answer({"notes": [f"n{i} \ud800" for i in range(100)], "k" * 60: {"j" * 60: {"x" * 60: "\udfff"}}})
    assert cleaned["notes"][99] == "n99 \ufffd"
    assert len(notes) == gate.MAX_NOTES + 1 and notes[-1] == f"and {101 - gate.MAX_NOTES} more repairs"
    assert all(len(n) < gate.NOTE_CHARS + 40 for n in notes)


def test_a_proper_surrogate_pair_is_kept_as_its_character() -> None:
    text, replaced = gate.clean_text("\U0001f600 plain")
    assert (text, replaced) == ("\U0001f600 plain", False)


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_a_violation_naming_the_path(number: float) -> None:
    with pytest.raises(gate.AnswerViolation) as err:
        gate.answer({"report": {"scores": [0.5, number]}})
    assert err.value.path == "/report/scores/1" and "non-finite" in err.value.problem


def test_huge_integers_and_foreign_types_are_violations() -> None:
    with pytest.raises(gate.AnswerViolation, match="out of range"):
        gate.answer({"n": 10**5000})
    with pytest.raises(gate.AnswerViolation, match="type bytes"):
        gate.answer({"raw": b"\x00"})
    with pytest.raises(gate.AnswerViolation, match="object key of type tuple"):
        gate.answer({(1, 2): "x"})


def test_json_like_types_become_what_the_wire_would_carry() -> None:
    cleaned, notes = gate.answer({"t": (1, 2), 3: True, None: 1.5, "b": False})
    assert cleaned == {"t": [1, 2], "3": True, "null": 1.5, "b": False} and notes == []
    assert cleaned == json.loads(json.dumps({"t": (1, 2), 3: True, None: 1.5, "b": False}))


def test_depth_size_and_length_are_bounded() -> None:
    deep: object = "leaf"
    for _ in range(980):
        deep = [deep]
    with pytest.raises(gate.AnswerViolation, match="nesting deeper than the limit of 64"):
        gate.answer({"x": deep})
    with pytest.raises(gate.AnswerViolation, match="string of 2000000 characters"):
        gate.answer({"x": "a" * 2_000_000})
    with pytest.raises(gate.AnswerViolation, match="larger than the 4194304-byte limit"):
        gate.answer({"x": ["a" * 500_000] * 10})
    small = gate.Limits.from_manifest({"depth": 3, "string_chars": 10})
    gate.answer({"a": {"b": "0123456789"}}, small)
    with pytest.raises(gate.AnswerViolation):
        gate.answer({"a": {"b": {"c": 1}}}, small)


def test_the_size_limit_counts_utf8_bytes_not_characters() -> None:
    """Three strings of 900 000 emoji are 2.7 M characters but 10.8 MB on the wire and in every report."""
    with pytest.raises(gate.AnswerViolation, match="larger than the 4194304-byte limit"):
        gate.answer({"fields": {k: "\U0001f600" * 900_000 for k in ("title", "creator", "description")}})
    gate.answer({"fields": {"title": "\u00e9" * 1_000_000}})  # 2 MB: within the limit


def test_messages_are_one_bounded_line_with_secrets_redacted() -> None:
    register_secret("s3cr3t-token-value")
    try:
        text = gate.message("bad header\r\nAuthorization: Bearer s3cr3t-token-value\x1b[31m" + "x" * 10_000)
    finally:
        forget_secrets()
    assert "s3cr3t" not in text and "[redacted]" in text
    assert "\n" not in text and "\r" not in text and "\x1b" not in text
    assert len(text) < 600 and "more characters cut" in text
    assert gate.message("bad \ud800 text").endswith("(invalid Unicode replaced)")


def test_versions_become_bounded_strings() -> None:
    assert gate.version(3) == "3"
    assert gate.version((1, 2, "rc1")) == "1.2.rc1"
    assert gate.version(None) is None
    assert gate.version("1.0\n" + "9" * 500) is not None and len(gate.version("1.0\n" + "9" * 500) or "") < 160


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no")

    def __repr__(self) -> str:
        raise RuntimeError("no")


def test_scrub_and_dumps_never_raise() -> None:
    value = {"nan": math.nan, "s": "\ud800", "obj": Unprintable(), "big": 10**5000, "t": {1, 2}}
    text = gate.dumps(value)
    back = json.loads(text)
    assert back["nan"] is None and back["s"] == "\ufffd" and back["big"] is None
    assert "unstorable" in back["obj"] or "Unprintable" in back["obj"]
    assert gate.message(Unprintable()).startswith("<message that cannot be printed")
