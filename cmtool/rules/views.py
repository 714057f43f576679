"""``views:`` of rules.yaml: saved `cmtool list` filters, run as ``cmtool list @name``.

A view is a mapping of `list` option names (without the dashes, ``_`` for ``-``)
to values; ``$ME`` stands for whoever runs the command. Checked here so a typo in
a view is a problem with its line, not a silently empty list.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from cmtool.rules.checker import Checker

TEXT_OPTIONS = frozenset(
    {
        "status",
        "assignee",
        "priority",
        "category",
        "channel",
        "team",
        "region",
        "product",
        "customer",
        "tag",
        "regime",
        "filed_since",
        "filed_until",
        "closed_since",
        "closed_until",
        "sla",
        "due_within",
        "sort",
        "text",
    }
)
VIEW_OPTIONS = TEXT_OPTIONS | {"limit", "overdue"}
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def build_views(c: Checker, data: Mapping[str, Any]) -> Mapping[str, Mapping[str, Any]]:
    views: dict[str, Mapping[str, Any]] = {}
    for name, spec in c.mapping(data.get("views"), "views").items():
        path = f"views.{name}"
        if not _NAME_RE.match(str(name)):
            c.bad(path, "a view name is letters, digits, '.', '_' or '-' (at most 64)")
            continue
        options: dict[str, Any] = {}
        for key, value in c.mapping(spec, path).items():
            where = f"{path}.{key}"
            if key not in VIEW_OPTIONS:
                c.bad(where, f"unknown option {key!r}: use one of {', '.join(sorted(VIEW_OPTIONS))}")
            elif key == "limit":
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    c.bad(where, "must be a whole number above zero")
                else:
                    options[key] = value
            elif key == "overdue":
                if not isinstance(value, bool):
                    c.bad(where, "must be true or false")
                else:
                    options[key] = value
            else:
                words = c.words(value, where)
                if words:
                    options[key] = ",".join(words)
        views[str(name)] = MappingProxyType(options)
    return MappingProxyType(views)
