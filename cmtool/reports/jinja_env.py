"""The one Jinja environment reports and messages render with: sandboxed.

Templates are user files, so they run in Jinja's ImmutableSandboxedEnvironment:
no attribute starting with an underscore (no ``__class__``/``__globals__`` walk to
Python internals), no method that mutates the context, and a loader that only
reads regular files really inside the template's own folder (``..``, absolute
names and symbolic links out are refused), with limits on work, output and time
(``cmtool.reports.sandbox``), so a template cannot read the file system or hang. Missing names are errors
(StrictUndefined), and every error becomes one line naming the template file and
line.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from cmtool.errors import DataError
from cmtool.model.timefmt import parse_time
from cmtool.reports.safety import markdown_text
from cmtool.reports.sandbox import (
    ConfinedLoader,
    LimitedSandbox,
    confine_folder,
    limited_filters,
    render_limited,
)

BUNDLED_MESSAGES = Path(__file__).resolve().parent.parent / "bundled" / "templates" / "messages"


def make_environment(
    folders: Sequence[Path], markdown: bool = False, html: bool = False
) -> ImmutableSandboxedEnvironment:
    """An environment loading from ``folders``; with ``markdown``, every ``{{ value }}``
    is Markdown-escaped unless marked ``|safe`` (like HTML autoescaping); with
    ``html``, HTML-escaped (Jinja's autoescape)."""
    env = LimitedSandbox(
        loader=ConfinedLoader(list(folders)),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_escape_markdown if markdown else _plain,
        autoescape=html,
    )
    env.filters = limited_filters({**env.filters, **FILTERS})
    return env


def message_environment(
    workspace_root: Path, templates_dir: Path, kind: str = "messages"
) -> ImmutableSandboxedEnvironment:
    """Message templates (``messages``: survey invitations, notifications;
    ``letters``: letters to customers): the workspace's ``templates/<kind>`` first,
    then the bundled ones. A folder that links out of the workspace is refused."""
    own = templates_dir / kind
    if own.is_dir():
        confine_folder(own, workspace_root, f"templates/{kind}")
    bundled = BUNDLED_MESSAGES.parent / kind
    return make_environment([folder for folder in (own, bundled) if folder.is_dir()])


def render(
    env: ImmutableSandboxedEnvironment,
    name: str,
    context: dict[str, Any],
    shown_as: str | None = None,
) -> str:
    """Render template ``name``; errors become DataError("file:line: message")."""
    try:
        return render_limited(env, env.get_template(name), context)
    except (TemplateError, ArithmeticError, RecursionError, MemoryError) as exc:
        raise DataError(
            f"{template_location(exc, shown_as or name)}: {_describe(exc)}",
            hint="fix the template (see docs/reports.md)",
        ) from None


def compile_expression(env: ImmutableSandboxedEnvironment, source: str, where: str) -> Callable:
    """A sandboxed Jinja expression (e.g. ``row.filed_at | date``) as a function."""
    try:
        compiled = env.compile_expression(source, undefined_to_none=False)
    except TemplateSyntaxError as exc:
        raise DataError(f"{where}: bad expression {source!r}: {exc.message}") from None

    def evaluate(**names: Any) -> Any:
        try:
            value = compiled(**names)
        except (TemplateError, ArithmeticError, RecursionError, MemoryError) as exc:
            raise DataError(f"{where}: {source!r}: {_describe(exc)}") from None
        if isinstance(value, StrictUndefined):
            raise DataError(f"{where}: {source!r} names nothing in the report context")
        return value

    return evaluate


def template_location(exc: BaseException, name: str) -> str:
    """``name:line`` of the template line that failed (Jinja keeps it in the traceback)."""
    line = getattr(exc, "lineno", None)
    if line is None:
        for frame, number in traceback.walk_tb(exc.__traceback__):
            if frame.f_code.co_filename.endswith(Path(name).name):
                line = number
    return f"{name}:{line}" if line else name


def _describe(exc: BaseException) -> str:
    kind = type(exc).__name__
    message = getattr(exc, "message", None) or str(exc)
    if kind == "SecurityError":
        return f"not allowed in a template: {message}"
    if kind == "TemplateNotFound":
        name = getattr(exc, "name", message)
        if message != name:  # found but refused: the reason says why
            return f"template {name!r} refused: {message.split(': ', 1)[-1]}"
        return f"template {name!r} not found (templates can include only files in their folder)"
    if kind == "TemplateLimit":
        return f"template stopped: {message}"
    if kind == "RecursionError":
        return "template stopped: calls nest too deep (a macro calling itself?)"
    if kind == "MemoryError":
        return "template stopped: out of memory"
    if isinstance(exc, ArithmeticError):
        return f"template stopped: {kind}: {message}"
    return message


def _escape_markdown(value: Any) -> Any:
    if isinstance(value, Markup) or not isinstance(value, str):
        return _plain(value)
    return markdown_text(value)


def _plain(value: Any) -> Any:
    return "" if value is None else value


# -- filters: formatting helpers every template may use -------------------------


# The formatting filters return Markup: their output is made by us from numbers
# and dates, so the Markdown escaping must not touch it ("20.7" is not a list item).


def pct(value: float | None, digits: int = 1) -> Markup:
    """0.1234 -> "12.3%"; None -> "n/a"."""
    return Markup("n/a" if value is None else f"{value * 100:.{digits}f}%")


def num(value: float | None, digits: int = 1) -> Markup:
    """A number with ``digits`` decimals and thousands separators; None -> "n/a"."""
    if value is None:
        return Markup("n/a")
    if isinstance(value, int) and not isinstance(value, bool):
        return Markup(f"{value:,}")
    return Markup(f"{float(value):,.{digits}f}")


def days(hours: float | None, digits: int = 1) -> Markup:
    """Hours as days: 36 -> "1.5"."""
    return Markup("n/a" if hours is None else f"{hours / 24:.{digits}f}")


def to_date(value: Any, fmt: str = "%Y-%m-%d") -> str:
    """An ISO time or date (or datetime) formatted with ``fmt`` (strftime); None -> ""."""
    if value in (None, ""):
        return ""
    if isinstance(value, (datetime, date)):
        moment = value
    else:
        moment = parse_time(value) if "T" in str(value) else date.fromisoformat(str(value))
    return moment.strftime(fmt)


def to_time(value: Any) -> datetime | None:
    """An ISO 8601 text as a datetime (what Excel date cells want)."""
    if value in (None, ""):
        return None
    return value if isinstance(value, datetime) else parse_time(value)


def md(value: Any) -> Markup:
    """Escape for Markdown explicitly (already done for every {{ }} in .md templates)."""
    return Markup(markdown_text("" if value is None else value))


FILTERS: dict[str, Callable[..., Any]] = {
    "pct": pct,
    "num": num,
    "days": days,
    "date": to_date,
    "time": to_time,
    "md": md,
}
