"""Make untrusted strings safe to show: invisible and control characters become visible.

Vendor-supplied text (names, reasons, metadata read back) may carry NUL bytes, lone
surrogates, bidirectional overrides (U+202E) or zero-width characters that hide or
reorder what a reader sees.  Every renderer passes such text through :func:`visible`
(or the HTML variant :func:`visible_html`) before its own escaping, so the scorecard
shows ``\\u202e`` where the vendor sent an override rather than obeying it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

from markupsafe import Markup, escape

#: Zero width joiner: kept between emoji so sequences such as 👩‍🔬 still render.
_ZWJ = "\u200d"
#: Categories shown as escapes: controls, format characters (bidi, zero-width),
#: surrogates, line and paragraph separators.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
#: Noncharacters that XML 1.0 forbids.
_XML_FORBIDDEN = frozenset({"\ufffe", "\uffff"})
_UNNAMED = {"Cc": "control character", "Cs": "lone surrogate", "Cn": "noncharacter"}
_EMOJI_LEFT = frozenset({"So", "Sk", "Mn"})  # Mn covers the U+FE0F variation selector
#: Newlines and tabs, kept in multi-line blocks: removed to test the rest for hidden characters at C speed.
_LINE_BREAKS = {ord("\n"): None, ord("\t"): None}


def _plain(text: str, keep_newlines: bool) -> bool:
    """True when ``text`` has no character to show as an escape (the common case, tested fast)."""
    return text.isprintable() or (keep_newlines and text.translate(_LINE_BREAKS).isprintable())


def _escape_code(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _is_hidden(text: str, index: int, keep_newlines: bool) -> bool:
    ch = text[index]
    if ch == " " or ch.isprintable():
        return False
    if keep_newlines and ch in "\n\t":
        return False
    if ch in _XML_FORBIDDEN:
        return True
    category = unicodedata.category(ch)
    if category not in _HIDDEN_CATEGORIES:
        return False  # spaces, private use, and code points newer than this Python
    if ch == _ZWJ and 0 < index < len(text) - 1:
        left = unicodedata.category(text[index - 1])
        right = unicodedata.category(text[index + 1])
        return not (left in _EMOJI_LEFT and right == "So")
    return True


def _segments(text: str, keep_newlines: bool) -> Iterator[tuple[str, bool]]:
    """Yield (chunk, is_escape) pairs covering ``text``."""
    start = 0
    for index in range(len(text)):
        if _is_hidden(text, index, keep_newlines):
            if start < index:
                yield text[start:index], False
            yield text[index], True
            start = index + 1
    if start < len(text):
        yield text[start:], False


def visible(text: str, *, keep_newlines: bool = False) -> str:
    """Return ``text`` with hidden characters replaced by ``\\xNN``/``\\uNNNN`` escapes.

    The result is also legal XML 1.0 character data.  Newlines and tabs are escaped
    too unless ``keep_newlines`` is set (for multi-line blocks).
    """
    if _plain(text, keep_newlines):
        return text
    return "".join(_escape_code(chunk) if is_escape else chunk for chunk, is_escape in _segments(text, keep_newlines))


def visible_html(text: str, *, keep_newlines: bool = False) -> Markup:
    """HTML-escape ``text``, showing hidden characters as marked-up escapes.

    Each escape is a ``<span class="ctl">`` whose title names the character, so a
    literal backslash sequence typed by the vendor cannot pass for one.
    """
    if _plain(text, keep_newlines):
        return escape(text)
    parts: list[str] = []
    for chunk, is_escape in _segments(text, keep_newlines):
        if is_escape:
            name = unicodedata.name(chunk, "") or _UNNAMED.get(unicodedata.category(chunk), "character")
            parts.append(f'<span class="ctl" title="U+{ord(chunk):04X} {escape(name)}">{_escape_code(chunk)}</span>')
        else:
            parts.append(str(escape(chunk)))
    return Markup("".join(parts))


def shorten(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [+{len(text) - limit} chars]"
