"""Text for the terminal: what vendors and files say, shown but never obeyed.

A vendor's name, version or error message, or a file name, may hold escape sequences
(ESC ``[`` ... rewrites the screen, OSC sets the window title or a link, CR overwrites a
line) or bidirectional overrides (which show text in another order than it is).  Every
line the CLI prints from such text goes through :func:`printable` first.
"""

from __future__ import annotations

import re

#: C0 controls (tab and newline too: each printed item is one line), DEL, C1 controls,
#: and the Unicode bidirectional formatting characters (marks, embeddings, overrides,
#: isolates).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: object) -> str:
    """``text`` with every control and bidi formatting character shown as an escape
    (``\\x1b``, ``\\u202e``), so printing it cannot move the cursor or reorder a line."""
    return _UNSAFE.sub(_escape, str(text))
