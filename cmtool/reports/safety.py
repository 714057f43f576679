"""Making user text safe in outputs: Markdown escaping and masking of customer
contact details (spreadsheet cells: ``cmtool.store.cellsafe``)."""

from __future__ import annotations

import re
from typing import Any

# Spreadsheet cells are made safe in one place, for every CSV and xlsx writer.
from cmtool.model.privacy import NOT_READABLE
from cmtool.store.cellsafe import is_formula_like
from cmtool.store.cellsafe import neutralise as csv_cell

__all__ = ["csv_cell", "is_formula_like", "markdown_text", "mask_contact", "mask_name"]

_MD_SPECIAL = re.compile(r"([\\`*\[\]|~#!])")
_MD_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
_MD_LINE_START = re.compile(r"^(\s*)([-+=>]|\d+[.)])")
_EMAIL = re.compile(r"([^@\s,;:<>()\[\]]{1,64})@([\w-]+(?:\.[\w-]+)*)")
_CONTACT_SEPARATORS = re.compile(r"[,;/|\n]|\s+(?:or|and)\s+", re.IGNORECASE)


def markdown_text(value: Any) -> str:
    """Text that Markdown shows literally, on one line, safe in a table cell:
    no emphasis, links, HTML, headings or table breaks from user data."""
    text = " ".join(str(value).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = _MD_UNDERSCORE.sub(r"\\_", text)
    return _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


def mask_contact(value: str | None) -> str | None:
    """``jane.doe@example.com`` -> ``j***@example.com``; ``+86 138 0013 8000`` ->
    ``*********8000`` (the last 4 digits stay, enough to tell two apart). A field
    holding several contacts (``a@x.com, +86 138...``) masks each of them; only the
    masked forms are shown, never the text around them."""
    if not value or not value.strip() or value in NOT_READABLE:
        return value
    return ", ".join(_mask_one_contact(part) for part in _CONTACT_SEPARATORS.split(value) if part.strip())


def _mask_one_contact(text: str) -> str:
    emails = _EMAIL.findall(text)
    rest = _EMAIL.sub(" ", text)
    masked = [f"{local[0]}***@{domain}" for local, domain in emails]
    digits = [ch for ch in rest if ch.isdigit()]
    if len(digits) >= 6:
        masked.append("*" * (len(digits) - 4) + "".join(digits[-4:]))
    return " ".join(masked) or "***"


def mask_name(value: str | None) -> str | None:
    """``Emma Brown`` -> ``E. B.``; ``王芳`` -> ``王*``."""
    if not value or value in NOT_READABLE:
        return value
    parts = value.split()
    if not parts:
        return ""
    if len(parts) > 1:
        return " ".join(part[0] + "." for part in parts)
    word = parts[0]
    return word[0] + "*" * max(1, min(len(word) - 1, 2))
