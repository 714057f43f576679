"""From `cmtool list` options (and a saved view of rules.yaml) to a ListQuery."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cmtool.errors import UsageError
from cmtool.services.query import ListQuery, case_filter, date_range, parse_sla_states
from cmtool.store.workspace import Workspace

ME = "$ME"


def saved_view(ws: Workspace, name: str, actor: str) -> dict[str, Any]:
    """The options of ``views.<name>`` in rules.yaml, ``$ME`` replaced by ``actor``."""
    from cmtool.rules.loader import load_rules

    views = load_rules(ws.rules_path).views
    if name not in views:
        known = ", ".join(f"@{v}" for v in sorted(views)) or "none yet"
        raise UsageError(
            f"no view @{name} in rules.yaml (views: {known})", hint="add it under views: in rules.yaml"
        )
    return {k: v.replace(ME, actor) if isinstance(v, str) else v for k, v in views[name].items()}


def list_query(options: Mapping[str, Any], view: Mapping[str, Any] | None = None) -> ListQuery:
    """``options``: the list command's options by name (None = not given); a given
    option overrides the view's value for it."""
    merged = {**(view or {}), **{k: v for k, v in options.items() if v not in (None, False)}}
    where = case_filter(
        merged.get("status"),
        merged.get("assignee"),
        merged.get("priority"),
        merged.get("category"),
        merged.get("channel"),
        filed=date_range(merged.get("filed_since"), merged.get("filed_until"), "filed"),
        closed=date_range(merged.get("closed_since"), merged.get("closed_until"), "closed"),
        team=merged.get("team"),
        region=merged.get("region"),
        product=merged.get("product"),
        customer=merged.get("customer"),
        tags=merged.get("tag"),
        regimes=merged.get("regime"),
    )
    return ListQuery(
        where,
        tuple((merged.get("sort") or "id").split(",")),
        merged.get("limit"),
        merged.get("as_of"),
        bool(merged.get("overdue")),
        merged.get("due_within"),
        parse_sla_states(merged.get("sla")),
        merged.get("text"),
    )


def parse_where(text: str) -> tuple[str | None, dict[str, Any]]:
    """``--where "category=billing status=open"`` -> (view name or None, options).

    The words are `list` options without dashes (``filed-since=2025-11-01``), and
    ``@name`` runs a saved view, so a bulk change picks exactly the cases that the
    same `cmtool list` shows."""
    from cmtool.rules.views import VIEW_OPTIONS

    view, options = None, {}
    for word in text.split():
        if word.startswith("@"):
            view = word[1:]
            continue
        name, sep, value = word.partition("=")
        key = name.strip().replace("-", "_")
        if not sep or not value or key not in VIEW_OPTIONS or key in ("limit", "overdue", "sort"):
            raise UsageError(
                f"--where {word!r}: write field=value pairs, e.g. category=billing status=open",
                hint=f"fields: {', '.join(sorted(VIEW_OPTIONS - {'limit', 'overdue', 'sort'}))}",
            )
        options[key] = value
    if view is None and not options:
        raise UsageError("--where needs at least one field=value or @view")
    return view, options
