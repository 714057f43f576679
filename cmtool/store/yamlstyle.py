"""The canonical YAML of a case file, written fast and identically by two paths.

New files and files without comments are written by :func:`dump` below, a small
emitter for the few shapes a case has (about 50x faster than ruamel's dumper).
Files carrying hand-written comments go through ruamel's round-trip dumper so
the comments survive; :func:`to_roundtrip` gives ruamel the same styles this
emitter chooses, so both paths write the same bytes for the same data (a test
holds them to that).

Styles: keys and simple words plain; multi-line text as a literal block; other
text double-quoted with YAML escapes; lists of scalars and ``[old, new]`` pairs
in flow style; mappings and lists of mappings in block style.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

_PLAIN_RE = re.compile(r"[^\W\d_][\w .\-/@+]*")
_RESERVED = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}
_ESCAPES = {
    "\0": "0",
    "\x07": "a",
    "\x08": "b",
    "\t": "t",
    "\n": "n",
    "\x0b": "v",
    "\x0c": "f",
    "\r": "r",
    "\x1b": "e",
    '"': '"',
    "\\": "\\",
    "\x85": "N",
    "\u2028": "L",
    "\u2029": "P",
}


def _printable(ch: str) -> bool:
    return (
        "\x20" <= ch <= "\x7e"
        or "\xa0" <= ch <= "\ud7ff"
        or ("\ue000" <= ch <= "\ufffd" and ch != "\ufeff")
        or "\U00010000" <= ch < "\U0010ffff"
    )


def is_plain(text: str) -> bool:
    return (
        bool(_PLAIN_RE.fullmatch(text))
        and text.lower() not in _RESERVED
        and not text.endswith(" ")
        and ": " not in text
        and " #" not in text
    )


def is_literal(text: str) -> bool:
    """Multi-line text that a literal block (``|`` or ``|-``) shows exactly."""
    if "\n" not in text or text[0] in " \n" or text.endswith("\n\n"):
        return False
    if " \n" in text or text.endswith(" "):
        return False
    return all(ch == "\n" or _printable(ch) for ch in text)


def double_quoted(text: str) -> str:
    # Fast path (bulk imports): nothing to escape. Within the BMP, str.isprintable()
    # is False exactly where _printable() is False or an escape is needed, except
    # for the quote and the backslash; astral characters are always escaped.
    if text.isprintable() and '"' not in text and "\\" not in text and (not text or max(text) < "\U00010000"):
        return f'"{text}"'
    out = ['"']
    for ch in text:
        if ch in _ESCAPES:
            out.append("\\" + _ESCAPES[ch])
        elif _printable(ch):
            out.append(ch)
        elif ch <= "\xff":
            out.append(f"\\x{ord(ch):02X}")
        elif ch <= "\uffff":
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(f"\\U{ord(ch):08X}")
    out.append('"')
    return "".join(out)


_SCALAR_CACHE: dict[str, str] = {}  # keys and repeated words: most scalars of a bulk write
_CACHE_LIMIT = 50_000


def scalar(value: Any) -> str:
    """A scalar on one line (never a block)."""
    if type(value) is str:
        shown = _SCALAR_CACHE.get(value)
        if shown is None:
            shown = value if is_plain(value) else double_quoted(value)
            if len(value) <= 64 and len(_SCALAR_CACHE) < _CACHE_LIMIT:
                _SCALAR_CACHE[value] = shown
        return shown
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return float_text(value)
    if isinstance(value, int):
        return repr(value)
    text = str(value)
    return text if is_plain(text) else double_quoted(text)


def float_text(value: float) -> str:
    """``1e+16`` is a string to a YAML 1.1 reader; ``1.0e+16`` is a number (as ruamel writes it)."""
    if not math.isfinite(value):
        raise ValueError(f"{value} cannot be written to a case file")
    text = repr(value)
    mantissa, e, exponent = text.partition("e")
    return f"{mantissa}.0e{exponent}" if e and "." not in mantissa else text


_SIMPLE = (str, int, float, bool, type(None))


def flow(value: Any) -> str:
    if type(value) in _SIMPLE:
        return scalar(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{scalar(k)}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(flow(item) for item in value) + "]"
    return scalar(value)


def _is_map_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _emit_map(mapping: Mapping[str, Any], indent: int, out: list[str], first_pad: str) -> None:
    pad = " " * indent
    lead = first_pad
    for key, value in mapping.items():
        name = scalar(key)
        kind = type(value)
        if kind is not str and kind in _SIMPLE:
            out.append(f"{lead}{name}: {scalar(value)}\n")
        elif kind is not str and (
            isinstance(value, Mapping) and value and key != "changes" or _is_map_list(value)
        ):
            out.append(f"{lead}{name}:\n")
            _emit_block(value, indent + 2 if isinstance(value, Mapping) else indent, out)
        elif key == "changes" and isinstance(value, Mapping) and value:
            out.append(f"{lead}{name}:\n")
            inner = " " * (indent + 2)
            for field, pair in value.items():
                out.append(f"{inner}{scalar(field)}: {flow(pair)}\n")
        elif isinstance(value, str) and is_literal(value):
            chomp = "" if value.endswith("\n") else "-"
            body = value[:-1] if value.endswith("\n") else value
            block_pad = " " * (indent + 2)
            lines = "".join(f"{block_pad}{line}\n" if line else "\n" for line in body.split("\n"))
            out.append(f"{lead}{name}: |{chomp}\n{lines}")
        else:
            out.append(f"{lead}{name}: {flow(value)}\n")
        lead = pad


def _emit_block(value: Any, indent: int, out: list[str]) -> None:
    if isinstance(value, Mapping):
        _emit_map(value, indent, out, " " * indent)
        return
    for item in value:  # a list of mappings; "- " sits at the parent key's column
        _emit_map(item, indent + 2, out, " " * indent + "- ")


def dump(data: Mapping[str, Any]) -> str:
    out: list[str] = []
    _emit_map(data, 0, out, "")
    return "".join(out)


def to_roundtrip(value: Any, key: Any = None, in_flow: bool = False) -> Any:
    """Wrap plain data in ruamel types carrying the styles :func:`dump` uses."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString

    if isinstance(value, Mapping):
        as_flow = in_flow or not value
        result = CommentedMap()
        for k, v in value.items():
            child_flow = as_flow or key == "changes"
            result[to_roundtrip(k, in_flow=True)] = to_roundtrip(v, k, child_flow)
        if as_flow:
            result.fa.set_flow_style()
        else:
            result.fa.set_block_style()
        return result
    if isinstance(value, (list, tuple)):
        as_block = _is_map_list(list(value)) and not in_flow
        seq = CommentedSeq(to_roundtrip(item, in_flow=not as_block) for item in value)
        if as_block:
            seq.fa.set_block_style()
        else:
            seq.fa.set_flow_style()
        return seq
    if isinstance(value, str):
        if not in_flow and is_literal(value):
            return LiteralScalarString(value)
        return value if is_plain(value) else DoubleQuotedScalarString(value)
    return value
