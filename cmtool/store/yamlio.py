"""Reading and writing YAML: safe C loading with line numbers, canonical writing."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from cmtool.errors import DataError
from cmtool.store import fastyaml
from cmtool.store.safefile import MAX_BYTES
from cmtool.store.yamlstyle import dump, float_text, to_roundtrip

if TYPE_CHECKING:
    import yaml

# libyaml (``yamlsafe``) is imported only when a file needs it: canonical case files
# take the fast reader, and rules.yaml comes parsed from its cache (``rulescache``),
# so most commands never pay for importing it.


def load(text: str, path: str) -> Any:
    """Parse YAML safely (no custom tags, no aliases, within size limits); errors
    name file and line. Canonical case files take the fast reader; anything else
    goes to libyaml."""
    if len(text) <= MAX_BYTES:
        try:
            return fastyaml.parse(text)
        except (fastyaml.NotCanonical, RecursionError):
            pass
    import yaml

    from cmtool.store.yamlsafe import load_checked

    try:
        return load_checked(text)
    except yaml.YAMLError as exc:
        raise DataError(_describe(exc, path), hint="fix the file, then run cmtool validate") from exc


def load_with_lines(text: str, path: str) -> tuple[Any, dict[str, int]]:
    """Parse and also map key paths (``status``, ``events[2]``, ``sla.policies[1].name``)
    to 1-based line numbers, so problems can say where they are."""
    import yaml

    from cmtool.store.yamlsafe import load_checked

    lines: dict[str, int] = {"": 1}
    try:
        data = load_checked(text, lines)
    except yaml.YAMLError as exc:
        raise DataError(_describe(exc, path), hint="fix the file, then run cmtool validate") from exc
    return data, lines


def _describe(exc: yaml.YAMLError, path: str) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f"{path}:{mark.line + 1}" if mark is not None else path
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if "could not determine a constructor" in str(exc):
        problem = "custom YAML tags are not allowed in case files " + problem.split("for the tag")[-1]
    return f"{where}: invalid YAML: {problem}"


def _roundtrip_yaml() -> Any:
    from ruamel.yaml import YAML

    handler = YAML(typ="rt")
    handler.width = 1 << 30  # never fold long lines: one change, one diff line
    handler.indent(mapping=2, sequence=2, offset=0)
    handler.allow_unicode = True
    handler.preserve_quotes = True
    handler.representer.add_representer(
        type(None), lambda rep, _: rep.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    handler.representer.add_representer(
        float, lambda rep, value: rep.represent_scalar("tag:yaml.org,2002:float", float_text(value))
    )
    return handler


def roundtrip_dump(data: Mapping[str, Any]) -> str:
    """ruamel's rendering of ``data`` in the canonical styles (used by tests)."""
    stream = io.StringIO()
    _roundtrip_yaml().dump(to_roundtrip(data), stream)
    return stream.getvalue()


def has_comments(text: str) -> bool:
    return "#" in text


def render(data: Mapping[str, Any], previous_text: str | None) -> str:
    """The new text of a case file: canonical, or the old text edited in place.

    When the old text carries comments, ruamel loads it, the changed fields are
    set and the new events appended, so the comments survive where they stood.
    """
    if previous_text is None or not has_comments(previous_text):
        return dump(data)
    handler = _roundtrip_yaml()
    document = handler.load(previous_text)
    keys = list(data)
    for key in list(document):
        if key not in data:
            del document[key]
    for position, key in enumerate(keys):
        value = data[key]
        if key == "events":
            existing = document.get("events")
            if existing is None:
                document.insert(position, key, to_roundtrip(value, key))
                continue
            for event in value[len(existing) :]:
                existing.append(to_roundtrip(event))
        elif key not in document:
            document.insert(position, key, to_roundtrip(value, key))
        elif _plain(document[key]) != value:
            document[key] = to_roundtrip(value, key)
    stream = io.StringIO()
    handler.dump(document, stream)
    return stream.getvalue()


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value
