"""Who may do what: the ``roles:``, ``people:`` (their role) and ``audit:`` sections
of rules.yaml. ``cmtool validate`` checks them with the other sections;
``cmtool audit verify`` judges every recorded action by them.

    people:
      alice: {email: alice@example.com, role: agent, team: quality}
    roles:
      agent:
        may: [file, assign, note, resolve, close]   # "*" = every action
        max_redress: 500     # resolve/close/edit leaving redress above this: not allowed
      lead: {description: leads a team}             # no may: = every action
    audit:
      require_signed_commits: false
      system_actors: [cmtool]   # the tool itself (sweeps, imports): not a person

Roles are checked only once some role says what it may do (``may:`` or
``max_redress:``); until then nobody's role is checked. Then an actor missing
from ``people:`` (and not a system actor) holds no role, and every action of
theirs is flagged. A person without ``role:`` is an agent, as in the rules engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from cmtool.model.events import Event
from cmtool.model.problems import Problem
from cmtool.model.registry import DEFAULT_SYSTEM_ACTORS, EVENT_KINDS
from cmtool.rules.checker import Checker

REDRESS_ACTIONS = frozenset({"resolve", "close", "edit"})
EVENT_ACTIONS = frozenset(EVENT_KINDS)  # every action an event can record
DEFAULT_ROLES = ("agent", "lead", "manager")  # the roles there are when roles: is absent
ROLE_KEYS = ("may", "max_redress", "description")
AUDIT_KEYS = ("require_signed_commits", "system_actors")


@dataclass(frozen=True)
class Role:
    name: str
    may: frozenset[str] | None = None  # None: every action
    max_redress: float | None = None

    def allows(self, action: str) -> bool:
        return self.may is None or "*" in self.may or action in self.may

    @property
    def restricts(self) -> bool:
        return self.may is not None or self.max_redress is not None


@dataclass(frozen=True)
class AccessPolicy:
    roles: Mapping[str, Role] = field(default_factory=dict)
    people: Mapping[str, str] = field(default_factory=dict)  # actor -> role name
    require_signed: bool = False
    system_actors: frozenset[str] = frozenset(DEFAULT_SYSTEM_ACTORS)

    @property
    def checks_roles(self) -> bool:
        return any(role.restricts for role in self.roles.values())

    def denial(self, event: Event, redress_after: Any) -> str | None:
        """Why ``event``'s actor may not do it, or None when allowed."""
        if not self.checks_roles or event.actor in self.system_actors:
            return None
        role_name = self.people.get(event.actor)
        if role_name is None:
            return f"{event.actor!r} is not listed under people: in rules.yaml, so holds no role"
        role = self.roles.get(role_name)
        if role is None:
            return f"{event.actor!r} has role {role_name!r}, which roles: does not define"
        if not role.allows(event.action):
            return f"{event.actor!r} ({role_name}) may not {event.action}"
        if (
            role.max_redress is not None
            and event.action in REDRESS_ACTIONS
            and isinstance(redress_after, (int, float))
            and redress_after > role.max_redress
        ):
            return (
                f"{event.actor!r} ({role_name}) may not {event.action} a case with redress "
                f"{redress_after:g} (above the role's max_redress {role.max_redress:g})"
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
    return AccessPolicy(MappingProxyType(roles), MappingProxyType(people), require_signed, system_actors)


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
    limit = spec.get("max_redress")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, float)) or limit < 0):
        c.bad(f"{path}.max_redress", f"{limit!r} is not an amount (a number, 0 or more)")
        limit = None
    return Role(name, frozenset(may) if may is not None else None, None if limit is None else float(limit))


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
