"""Control characters in text that people and other clones write.

An ESC or OSC sequence in a product name retitles or clears the terminal of
whoever runs ``show``; a newline in a one-line field becomes a second line of a
commit message (a forged ``Cmtool-Actor:`` trailer). One-line fields may hold
no control character at all; multi-line text may hold line feeds and tabs.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, the Unicode line and paragraph separators, and the
# bidirectional overrides that make text display in another order than it reads.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_CONTROL_IN_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _describe(char: str) -> str:
    if char in "\n\r\x85\u2028\u2029":
        return "a line break (it must be one line)"
    return f"a control character (U+{ord(char):04X})"


def control_error(text: str, multiline: bool = False) -> str | None:
    """Why ``text`` may not be stored, or None: a one-line field holds no control
    character; multi-line text holds no control character but line feed and tab."""
    found = (_CONTROL_IN_TEXT if multiline else _CONTROL).search(text)
    return f"contains {_describe(found.group())}" if found else None


def escape_controls(text: str, keep_lines: bool = True) -> str:
    """``text`` with every control character shown as an escape (``\\x1b``), so a
    terminal or a commit message shows it instead of obeying it."""
    pattern = _CONTROL_IN_TEXT if keep_lines else _CONTROL
    if not pattern.search(text):
        return text
    return pattern.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
