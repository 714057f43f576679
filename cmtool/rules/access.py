"""Who may do what: the ``roles:``, ``people:`` (their role) and ``audit:`` sections
of rules.yaml. ``cmtool validate`` checks them with the other sections;
``cmtool audit verify`` judges every recorded action by them.

    people:
      alice: {email: alice@example.com, role: agent, team: quality}
    roles:
      agent:
        may: [file, assign, note, resolve, close]   # "*" = every action
        max_redress: {GBP: 500, CNY: 5000}   # resolve/close/edit leaving redress above this: not allowed
      lead: {description: leads a team}             # no may: = every action
      manager: {approves: true}   # may approve the clock extensions that need approval
    audit:
      require_signed_commits: false
      system_actors: [cmtool, sla-bot]   # programs (sweeps, syncs): not people

Nothing is checked until ``people:`` lists someone: a new team starts working at
once and adds colleagues as they come. Once it does, an actor missing from
``people:`` (and not a system actor) holds no role, an assignee must be a person,
each role's ``may:`` and ``max_redress:`` hold, and an extension's approver must
hold a role with ``approves: true`` (when some role has it). A person without
``role:`` is an agent, as in the rules engine.

``max_redress`` names a limit per currency (``{GBP: 500, CNY: 5000}``): a redress
in a currency it does not name is above the limit, since 500 pounds and 500 yuan
are not the same decision. A plain number is one limit in every currency. A
redress recorded without a currency is in the case's (``regimes.X.currency``,
else ``reporting.currency``), as reports count it. The same ``denial`` is asked
before an action is written (exit 4) and by ``audit verify`` afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from cmtool.model.events import Event
from cmtool.model.problems import Problem
from cmtool.model.registry import DEFAULT_SYSTEM_ACTORS, EVENT_KINDS
from cmtool.rules.checker import Checker

REDRESS_ACTIONS = frozenset({"resolve", "close", "edit"})
ANY_CURRENCY = "*"
EVENT_ACTIONS = frozenset(EVENT_KINDS)  # every action an event can record
DEFAULT_ROLES = ("agent", "lead", "manager")  # the roles there are when roles: is absent
ROLE_KEYS = ("may", "max_redress", "approves", "description")
AUDIT_KEYS = ("require_signed_commits", "system_actors")


@dataclass(frozen=True)
class Role:
    name: str
    may: frozenset[str] | None = None  # None: every action
    max_redress: Mapping[str, float] | None = None  # currency ("*": any) -> the largest redress
    approves: bool = False  # may approve an extension that needs approval

    def redress_limit(self, currency: str) -> float | None:
        """The largest redress this role may leave in ``currency``; None: no limit."""
        if self.max_redress is None:
            return None
        return self.max_redress.get(currency, self.max_redress.get(ANY_CURRENCY, 0.0))

    def allows(self, action: str) -> bool:
        return self.may is None or "*" in self.may or action in self.may


@dataclass(frozen=True)
class Denial:
    """Why an action is not allowed, and what would allow it (both name rules.yaml)."""

    message: str
    fix: str

    def __str__(self) -> str:
        return self.message


ADD_PERSON = "add them with: cmtool people add NAME[:ROLE[:TEAM]]"


@dataclass(frozen=True)
class AccessPolicy:
    roles: Mapping[str, Role] = field(default_factory=dict)
    people: Mapping[str, str] = field(default_factory=dict)  # actor -> role name
    require_signed: bool = False
    system_actors: frozenset[str] = frozenset(DEFAULT_SYSTEM_ACTORS)
    currency: str = ""  # reporting.currency: a redress recorded without one is in it
    regime_currencies: Mapping[str, str] = field(default_factory=dict)

    def currency_of(self, recorded: Any, regimes: Any) -> str:
        """The currency of a case's redress: as recorded, else its first regime's, else
        the workspace's (as ``Rules.currency_for`` reads it for reports)."""
        if isinstance(recorded, str) and recorded:
            return recorded
        for name in regimes if isinstance(regimes, (list, tuple)) else ():
            if name in self.regime_currencies:
                return self.regime_currencies[name]
        return self.currency

    @property
    def checks_roles(self) -> bool:
        """Roles hold once ``people:`` lists anyone."""
        return bool(self.people)

    def is_known(self, actor: str) -> bool:
        return actor in self.people or actor in self.system_actors

    def denial(self, event: Event, redress_after: Any, currency: str = "") -> Denial | None:
        """Why ``event`` is not allowed (naming the rules.yaml entry), or None when it is;
        ``currency``: that of the redress (``currency_of``)."""
        if not self.checks_roles:
            return None
        assignee = event.changes.get("assignee", (None, None))[1]
        if assignee is not None and assignee not in self.people:
            return Denial(f"assignee {assignee!r} is not listed under people: in rules.yaml", ADD_PERSON)
        approver = event.details.get("approved_by") if event.action == "sla_extend" else None
        if approver is not None:
            why = self._approval_denial(str(approver))
            if why:
                return why
        if event.actor in self.system_actors:
            return None
        role_name = self.people.get(event.actor)
        if role_name is None:
            return Denial(
                f"{event.actor!r} is not listed under people: in rules.yaml, so holds no role",
                f"{ADD_PERSON} (a program goes under audit.system_actors)",
            )
        role = self.roles.get(role_name)
        if role is None:
            return Denial(
                f"{event.actor!r} has role {role_name!r}, which roles: does not define",
                f"define roles.{role_name} in rules.yaml or change people.{event.actor}.role",
            )
        if not role.allows(event.action):
            return Denial(
                f"{event.actor!r} ({role_name}) may not {event.action} (roles.{role_name}.may in rules.yaml)",
                f"ask someone whose role may, or add {event.action} to roles.{role_name}.may",
            )
        limit = role.redress_limit(currency)
        if (
            limit is not None
            and event.action in REDRESS_ACTIONS
            and isinstance(redress_after, (int, float))
            and redress_after > limit
        ):
            amount, most = (f"{value:g} {currency}".strip() for value in (redress_after, limit))
            return Denial(
                f"{event.actor!r} ({role_name}) may not {event.action} a case with redress {amount} "
                f"(above roles.{role_name}.max_redress {most} in rules.yaml)",
                f"a person whose role allows it must do it, or raise roles.{role_name}.max_redress",
            )
        return None

    def _approval_denial(self, approver: str) -> Denial | None:
        approving = sorted(name for name, role in self.roles.items() if role.approves)
        if approver not in self.people:
            return Denial(f"approver {approver!r} is not listed under people: in rules.yaml", ADD_PERSON)
        if approving and self.people[approver] not in approving:
            return Denial(
                f"approver {approver!r} ({self.people[approver]}) holds no role with approves: true "
                f"in rules.yaml ({', '.join(approving)})",
                "name an approver who holds such a role, or set approves: true on their role",
            )
        return None


def build_access(c: Checker, data: Mapping[str, Any]) -> AccessPolicy:
    """The policy of a parsed rules.yaml; each problem goes to ``c`` with its line.
    (Whether ``people:`` and its entries are mappings is the people reader's job.)"""
    roles = {
        str(name): _role(c, str(name), spec) for name, spec in c.mapping(data.get("roles"), "roles").items()
    }
    known = tuple(roles) or DEFAULT_ROLES
    people: dict[str, str] = {}
    raw_people = data.get("people")
    for name, spec in raw_people.items() if isinstance(raw_people, Mapping) else ():
        role = spec.get("role", "agent") if isinstance(spec, Mapping) else "agent"
        if not isinstance(role, str) or role not in known:
            c.bad(f"people.{name}.role", f"unknown role {role!r} (roles: {', '.join(known)})")
        people[str(name)] = str(role)
    require_signed, system_actors = _audit(c, data.get("audit"))
    currency, regime_currencies = _currencies(data)
    return AccessPolicy(
        MappingProxyType(roles),
        MappingProxyType(people),
        require_signed,
        system_actors,
        currency,
        MappingProxyType(regime_currencies),
    )


def _currencies(data: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    """reporting.currency and each regime's currency, as written (the reporting and
    regimes readers check them and report what is wrong)."""

    def code(spec: Any) -> str:
        value = spec.get("currency") if isinstance(spec, Mapping) else None
        return value.strip().upper() if isinstance(value, str) else ""

    regimes = data.get("regimes")
    named = {str(k): code(v) for k, v in regimes.items()} if isinstance(regimes, Mapping) else {}
    return code(data.get("reporting")), {name: cur for name, cur in named.items() if cur}


def read_access(
    data: Any, rel: str = "rules.yaml", lines: Mapping[str, int] | None = None
) -> tuple[AccessPolicy, list[Problem]]:
    """The policy alone, and its problems: what the audit reads from each version of
    rules.yaml, so a broken SLA section elsewhere does not hide who may do what."""
    if not isinstance(data, Mapping):
        return AccessPolicy(), []
    c = Checker(lines or {}, rel)
    return build_access(c, data), c.problems


def _role(c: Checker, name: str, spec: Any) -> Role:
    path = f"roles.{name}"
    spec = c.mapping(spec, path)
    for key in spec:
        if key not in ROLE_KEYS:
            c.bad(f"{path}.{key}", f"unknown key (a role has {', '.join(ROLE_KEYS)})")
    may = None
    if spec.get("may") is not None:
        may = c.words(spec["may"], f"{path}.may")
        for index, action in enumerate(may):
            if action != "*" and action not in EVENT_ACTIONS:
                c.bad(
                    f"{path}.may[{index}]",
                    f"{action!r} is not an action (actions: "
                    f'{", ".join(sorted(EVENT_ACTIONS))}; "*" for every one)',
                )
    approves = spec.get("approves", False)
    if not isinstance(approves, bool):
        c.bad(f"{path}.approves", f"{approves!r} must be true or false")
        approves = False
    return Role(
        name,
        frozenset(may) if may is not None else None,
        _redress_limits(c, spec.get("max_redress"), f"{path}.max_redress"),
        approves,
    )


def _redress_limits(c: Checker, value: Any, path: str) -> Mapping[str, float] | None:
    """``max_redress``: a number (every currency) or currency -> number."""
    if value is None:
        return None
    given = value if isinstance(value, Mapping) else {ANY_CURRENCY: value}
    limits: dict[str, float] = {}
    for currency, limit in given.items():
        where = path if currency == ANY_CURRENCY else f"{path}.{currency}"
        if not isinstance(currency, str) or not (
            currency == ANY_CURRENCY or re.fullmatch(r"[A-Z]{3}", currency)
        ):
            c.bad(where, f"{currency!r} is not an ISO 4217 currency code (e.g. GBP, CNY)")
        elif isinstance(limit, bool) or not isinstance(limit, (int, float)) or not 0 <= limit < float("inf"):
            c.bad(where, f"{limit!r} is not an amount (a number, 0 or more)")
        else:
            limits[currency] = float(limit)
    return MappingProxyType(limits)


def _audit(c: Checker, value: Any) -> tuple[bool, frozenset[str]]:
    """(require_signed_commits, system_actors) of the ``audit:`` section."""
    audit = c.mapping(value, "audit")
    for key in audit:
        if key not in AUDIT_KEYS:
            c.bad(f"audit.{key}", f"unknown key (audit: has {', '.join(AUDIT_KEYS)})")
    signed = audit.get("require_signed_commits", False)
    if not isinstance(signed, bool):
        c.bad("audit.require_signed_commits", f"{signed!r} must be true or false")
        signed = False
    actors = audit.get("system_actors")
    system = c.words(actors, "audit.system_actors") if actors is not None else DEFAULT_SYSTEM_ACTORS
    return signed, frozenset(system)
