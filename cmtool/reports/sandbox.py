"""The walls around user templates: which files they may read, and how much work
and output one rendering may take.

Templates arrive with the workspace (sync, pull), so they are hostile input:

- Files: a template is read only if its real path (symbolic links resolved) lies
  inside the real path of its folder, it is a regular file and it is small; a
  template folder is used only if its real path lies inside the workspace (or the
  bundled templates). ``{% include "passwd" %}`` next to ``passwd -> /etc/passwd``
  is "not found".
- Work: Jinja's sandbox already stops Python internals; on top of it, numbers and
  texts a template computes are capped (``9**(9**9)``, ``"x" * 10**10``,
  ``"%999999999d"``), loops over ``range`` share one budget (nested
  ``range(100000)``), the output has a size limit, and one rendering has a time
  limit. Each stops with a ``TemplateLimit`` error naming the limit.
"""

from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, Environment, TemplateNotFound, TemplateRuntimeError
from jinja2.loaders import split_template_path
from jinja2.sandbox import ImmutableSandboxedEnvironment

from cmtool.errors import DataError

MAX_TEMPLATE_BYTES = 1_000_000
MAX_TEXT = 10_000_000  # characters in one computed text, list or padding width
MAX_OUTPUT = 100_000_000  # characters of one rendering
MAX_INT_BITS = 4096  # a computed integer (2**4096 is already far beyond any figure)
RANGE_BUDGET = 1_000_000  # items all range() calls of one rendering may yield
TIME_LIMIT = 300.0  # seconds for one rendering (a 100,000-case workbook takes ~30 s)
# Filters and str methods that pad to a width the template gives.
PADDING = frozenset({"center", "indent", "wordwrap", "truncate", "ljust", "rjust", "zfill", "expandtabs"})
_PRINTF_WIDTH = re.compile(r"%[-+ #0]*(\*|\d+)?(?:\.(\*|\d+))?")


class TemplateLimit(TemplateRuntimeError):
    """A template exceeded one of the limits above."""


class ConfinedLoader(BaseLoader):
    """Jinja's FileSystemLoader, but a template file must be a small regular file
    whose real path is inside the real path of the folder it was found in."""

    def __init__(self, folders: list[Path]) -> None:
        self.folders = [Path(folder) for folder in folders]

    def get_source(self, environment: Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        pieces = split_template_path(template)  # refuses ".." and absolute names
        for folder in self.folders:
            candidate = folder.joinpath(*pieces)
            if not os.path.lexists(candidate):
                continue
            text = read_confined(folder, candidate, template)
            mtime = candidate.stat().st_mtime
            return text, str(candidate), lambda path=candidate, seen=mtime: path.stat().st_mtime == seen
        raise TemplateNotFound(template)


def read_confined(folder: Path, path: Path, shown: str) -> str:
    """The text of ``path``, refused (TemplateNotFound) when it leaves ``folder`` by
    a symbolic link, is not a regular file, or is too big."""
    real = Path(os.path.realpath(path))
    if not real.is_relative_to(os.path.realpath(folder)) or not real.is_file():
        raise TemplateNotFound(shown, f"{shown}: links outside its template folder or is not a regular file")
    if real.stat().st_size > MAX_TEMPLATE_BYTES:
        raise TemplateNotFound(shown, f"{shown}: bigger than {MAX_TEMPLATE_BYTES:,} bytes")
    try:
        return real.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise TemplateNotFound(shown, f"{shown}: not UTF-8 text (byte {exc.start})") from None


def confine_folder(folder: Path, root: Path, shown: str) -> Path:
    """``folder`` if its real path is inside ``root``'s; a folder linked out of the
    workspace is refused (DataError), so its files are never read."""
    if not Path(os.path.realpath(folder)).is_relative_to(os.path.realpath(root)):
        raise DataError(
            f"{shown}: a symbolic link out of the workspace; templates are read only from inside it",
            hint="replace the link with a copy of the folder",
        )
    return folder


class LimitedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox with caps on work, size and time for one rendering."""

    intercepted_binops = frozenset({"**", "*", "%", "+"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals["range"] = self._range
        self.start()

    def start(self) -> None:
        """Limits afresh: each rendering (one report, one message) has its own."""
        self.deadline = time.monotonic() + TIME_LIMIT
        self.range_left = RANGE_BUDGET

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise TemplateLimit(f"rendering took longer than {TIME_LIMIT:g} s")

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        self.check_time()
        if operator == "**":
            _check_power(left, right)
        elif operator == "*":
            _check_repeat(left, right)
            _check_repeat(right, left)
        elif operator == "%" and isinstance(left, str):
            _check_printf(left)
        result = super().call_binop(context, operator, left, right)
        return _checked_size(result)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        __self.check_time()
        if isinstance(getattr(__obj, "__self__", None), str) and __obj.__name__ in PADDING:
            for value in (*args, *kwargs.values()):
                _check_width(value)
        return _checked_size(super().call(__context, __obj, *args, **kwargs))

    def getattr(self, obj: Any, attribute: str) -> Any:
        self.check_time()
        return super().getattr(obj, attribute)

    def _range(self, *args: int) -> Iterator[int]:
        numbers = range(*args)
        if len(numbers) > self.range_left:
            raise TemplateLimit(f"loops over range() would take more than {RANGE_BUDGET:,} steps in all")
        self.range_left -= len(numbers)
        return self._timed(numbers)

    def _timed(self, numbers: range) -> Iterator[int]:
        for count, number in enumerate(numbers):
            if count % 10_000 == 0:
                self.check_time()
            yield number


def limited_filters(filters: dict[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """Jinja's padding filters with their widths checked, ``format`` with its
    printf widths checked (``"x" | center(10**9)`` would build a gigabyte string)."""
    guarded = dict(filters)
    for name in PADDING & set(filters):
        guarded[name] = _guard(filters[name], _check_width_args)
    guarded["format"] = _guard(filters["format"], _check_printf_value)
    return guarded


def _guard(function: Callable[..., Any], check: Callable[[tuple, dict], None]) -> Callable[..., Any]:
    def guarded(*args: Any, **kwargs: Any) -> Any:
        check(args, kwargs)
        return _checked_size(function(*args, **kwargs))

    if hasattr(function, "jinja_pass_arg"):  # keep pass_environment / pass_context
        guarded.jinja_pass_arg = function.jinja_pass_arg  # type: ignore[attr-defined]
    return guarded


def _check_width_args(args: tuple, kwargs: dict) -> None:
    for value in (*args, *kwargs.values()):
        if not isinstance(value, str):
            _check_width(value)


def _check_printf_value(args: tuple, kwargs: dict) -> None:
    if args and isinstance(args[0], str):
        _check_printf(args[0])


def render_limited(env: Environment, template: Any, context: dict[str, Any]) -> str:
    """Render, stopping once the output passes MAX_OUTPUT or the time limit."""
    parts: list[str] = []
    size = 0
    if isinstance(env, LimitedSandbox):
        env.start()
    for part in template.generate(context):
        size += len(part)
        if size > MAX_OUTPUT:
            raise TemplateLimit(f"output is bigger than {MAX_OUTPUT:,} characters")
        if isinstance(env, LimitedSandbox):
            env.check_time()
        parts.append(part)
    return "".join(parts)


def _check_power(base: Any, exponent: Any) -> None:
    if not (_is_int(base) and _is_int(exponent)) or exponent <= 0 or abs(base) <= 1:
        return  # float powers overflow to an error at once
    if exponent * math.log2(abs(base)) > MAX_INT_BITS:
        raise TemplateLimit(f"{base} ** {exponent} is too big a number (over {MAX_INT_BITS} bits)")


def _check_repeat(sequence: Any, count: Any) -> None:
    if isinstance(sequence, (str, list, tuple)) and _is_int(count) and len(sequence) * count > MAX_TEXT:
        raise TemplateLimit(f"repeating a text or list {count} times exceeds {MAX_TEXT:,} items")
    if _is_int(sequence) and _is_int(count) and sequence.bit_length() + count.bit_length() > MAX_INT_BITS:
        raise TemplateLimit(f"a product over {MAX_INT_BITS} bits")


def _check_printf(text: str) -> None:
    for match in _PRINTF_WIDTH.finditer(text):
        for number in match.groups():
            if number and number.isdigit() and int(number) > MAX_TEXT:
                raise TemplateLimit(f"a format width of {number} exceeds {MAX_TEXT:,}")


def _check_width(value: Any) -> None:
    if _is_int(value) and abs(value) > MAX_TEXT:
        raise TemplateLimit(f"{value} is too big an argument (over {MAX_TEXT:,})")


def _checked_size(value: Any) -> Any:
    if isinstance(value, (str, list, tuple)) and len(value) > MAX_TEXT:
        raise TemplateLimit(f"a computed text or list is longer than {MAX_TEXT:,}")
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise TemplateLimit(f"a computed number is over {MAX_INT_BITS} bits")
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
