"""What rules.yaml allows, asked before anything is written.

Every transaction (``Context.transaction``) asks this guard about each case it
is about to write: the events the action appended must be allowed by the
``people:``/``roles:`` sections (the same ``AccessPolicy.denial`` that ``audit
verify`` applies afterwards), and an ``edit`` may only set a category or team
that rules.yaml defines, as ``file`` requires. A refusal (exit 4) comes before
any file is touched, and names the rule and how to change it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cmtool.errors import DataError, Refused
from cmtool.model.case import Case
from cmtool.model.events import Event
from cmtool.rules.access import AccessPolicy, read_access
from cmtool.store.casefiles import read_text
from cmtool.store.rulescache import parse_rules
from cmtool.store.workspace import Workspace

# Fields whose value must name an entry of a rules.yaml section (as `file` checks).
NAMED_IN_RULES = {"category": "categories", "team": "teams"}


@dataclass
class ActionGuard:
    ws: Workspace
    _rules: tuple[AccessPolicy, Mapping[str, Any]] | None = None

    def __call__(self, case: Case, before: int) -> None:
        policy, data = self._read()
        redress = currency = None
        for index, event in enumerate(case.events):
            redress = event.changes.get("redress", (None, redress))[1]
            currency = event.changes.get("redress_currency", (None, currency))[1]
            if index < before:
                continue
            if event.action == "edit":
                _check_values(event, data)
            denial = policy.denial(event, redress, policy.currency_of(currency, case.get("regimes")))
            if denial is not None:
                raise Refused(f"refused: {denial}; {denial.fix}")

    def _read(self) -> tuple[AccessPolicy, Mapping[str, Any]]:
        if self._rules is None:
            path = self.ws.rules_path
            try:
                data = parse_rules(read_text(path), "rules.yaml", self.ws.root)[0] if path.exists() else {}
            except DataError:
                data = {}  # a broken rules.yaml is reported by the command that needs it
            data = data if isinstance(data, Mapping) else {}
            self._rules = (read_access(data)[0], data)
        return self._rules


def _check_values(event: Event, data: Mapping[str, Any]) -> None:
    for name, section in NAMED_IN_RULES.items():
        value = event.changes.get(name, (None, None))[1]
        known = data.get(section)
        if value is None or not isinstance(known, Mapping) or not known or value in known:
            continue
        raise Refused(
            f"refused: {name} {value!r} is not under {section}: in rules.yaml "
            f"({', '.join(str(k) for k in known)}); add it there first, or pick one of those"
        )
