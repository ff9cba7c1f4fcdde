"""What vendors and files say reaches the terminal escaped: no raw escape sequences,
carriage returns or bidi overrides from a vendor's name, version, error or a file name."""

from __future__ import annotations

from runner.text import printable


def test_printable_escapes_controls_and_bidi() -> None:
    assert printable("a\x1b[2Jb\rc\td\u202ee\x9b") == "a\\x1b[2Jb\\x0dc\\x09d\\u202ee\\x9b"
    assert printable("Café – ✓ 音") == "Café – ✓ 音"
