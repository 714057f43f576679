"""rules.yaml parsed once per version of the file, kept in ``.git/cmtool/rules/``.

Every command reads rules.yaml; parsing it (and importing the YAML library to do
so) costs more than a small action's own work. The parsed data and the line of
every key are kept in a file named by the SHA-256 of the text, the parser's
version and this module's format, so an edited rules.yaml, a checkout of another
branch or an upgraded parser simply finds no file and parses again. The rules
loader checks the data in full on every load, as it checks freshly parsed YAML.

YAML values are kept in JSON with a tag for each type JSON lacks (dates,
timestamps, non-string keys), and read back only when every tag is known, so the
loader receives exactly what the YAML parser returned.
"""

from __future__ import annotations

import hashlib
from base64 import b64decode, b64encode
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from cmtool.store.cachefile import cache_dir, installed_version, read_cache, write_cache

FOLDER = "rules"
FORMAT = "1"
KEEP = 8  # versions kept: switching branches back and forth stays quick


def parse_rules(text: str, rel: str, root: Path | None) -> tuple[Any, dict[str, int]]:
    """(data, line of each key path) of a rules.yaml text, as ``load_with_lines``
    gives them (DataError on invalid YAML); from the cache of the workspace at
    ``root`` when it holds this text's."""
    # Imported here: a command whose rules are cached never loads the YAML library for them.
    from cmtool.store.yamlio import load_with_lines

    folder = cache_dir(root) if root is not None else None
    if folder is None:
        return load_with_lines(text, rel)
    key = _key(text)
    path = folder / FOLDER / f"{key}.json"
    kept = read_cache(path, key)
    if kept is not None:
        try:
            data, lines = decode(kept["data"]), kept["lines"]
            if isinstance(lines, dict) and all(type(v) is int for v in lines.values()):
                return data, lines
        except (KeyError, TypeError, ValueError, RecursionError):
            pass
    data, lines = load_with_lines(text, rel)
    try:
        value = {"data": encode(data), "lines": lines}
    except TypeError:
        return data, lines  # a value JSON cannot hold: parse each time
    write_cache(path, key, value)
    _prune(path.parent)
    return data, lines


def _key(text: str) -> str:
    return hashlib.sha256(f"{_parser()}\0{text}".encode("utf-8", "surrogatepass")).hexdigest()


@cache
def _parser() -> str:
    """What parsing depends on besides the text: PyYAML and our limits on it."""
    limits = hashlib.sha256((Path(__file__).parent / "yamlsafe.py").read_bytes()).hexdigest()
    return f"{FORMAT}:{installed_version('PyYAML', 'yaml')}:{limits}"


def _prune(folder: Path) -> None:
    try:
        kept = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in kept[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass


def encode(value: Any) -> Any:
    """A YAML value as JSON: lists as arrays, everything else JSON lacks as ``{tag: ...}``."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        return {"map": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if isinstance(value, tuple):  # !!omap and !!pairs give lists of tuples
        return {"tuple": [encode(item) for item in value]}
    if isinstance(value, set):
        return {"set": [encode(item) for item in value]}
    if isinstance(value, bytes):
        return {"binary": b64encode(value).decode("ascii")}
    raise TypeError(f"{type(value).__name__} is not a YAML value")


def decode(value: Any) -> Any:
    """The YAML value ``encode`` wrote; ValueError/TypeError on anything else."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, list):
        return [decode(item) for item in value]
    if not isinstance(value, dict) or len(value) != 1:
        raise ValueError("not an encoded YAML value")
    ((tag, inner),) = value.items()
    if tag == "map":
        return {decode(k): decode(v) for k, v in inner}
    if tag in ("datetime", "date"):
        if not isinstance(inner, str):
            raise ValueError("a date is text")
        return datetime.fromisoformat(inner) if tag == "datetime" else date.fromisoformat(inner)
    if tag == "tuple":
        return tuple(decode(item) for item in inner)
    if tag == "set":
        return {decode(item) for item in inner}
    if tag == "binary":
        return b64decode(inner, validate=True)
    raise ValueError(f"unknown tag {tag!r}")
