"""Collects rules.yaml problems while the sections are read, each with the line
of the key at fault (the nearest enclosing key when that one has no line)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from cmtool.model.problems import Problem

T = TypeVar("T")


class Checker:
    def __init__(self, lines: Mapping[str, int], rel: str) -> None:
        self.lines, self.rel = lines, rel
        self.problems: list[Problem] = []

    def line(self, path: str) -> int | None:
        """The line of ``path``, else of the nearest enclosing key that has one."""
        while path and path not in self.lines:
            shorter = path.rsplit(".", 1)[0] if "." in path else path.split("[")[0]
            if shorter.endswith("]") and shorter not in self.lines:
                shorter = shorter.rsplit("[", 1)[0]
            if shorter == path:  # a top-level key with no line of its own (not text in the file)
                return None
            path = shorter
        return self.lines.get(path)

    def bad(self, path: str, message: str, code: str = "RULES_INVALID") -> None:
        self.problems.append(Problem(code, f"{path}: {message}", self.rel, self.line(path)))

    def mapping(self, value: Any, path: str) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.bad(path, "must be a mapping (key: value lines)")
            return {}
        return value

    def seq(self, value: Any, path: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.bad(path, "must be a list")
            return []
        return value

    def words(self, value: Any, path: str) -> tuple[str, ...]:
        items = [value] if isinstance(value, str) else self.seq(value, path)
        out = []
        for index, item in enumerate(items):
            if not isinstance(item, (str, int)) or isinstance(item, bool) or str(item).strip() == "":
                self.bad(f"{path}[{index}]", f"{item!r} must be non-empty text")
            else:
                out.append(str(item).strip())
        return tuple(out)

    def convert(self, path: str, fn: Callable[[Any], T], value: Any) -> T | None:
        """``fn(value)``, or None with a problem at ``path`` when it raises ValueError."""
        try:
            return fn(value)
        except (ValueError, TypeError) as exc:
            self.bad(path, str(exc))
            return None
