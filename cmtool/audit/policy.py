"""Who may do what: the ``people:``, ``roles:`` and ``audit:`` sections of rules.yaml.

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
from typing import Any

from cmtool.model.events import Event
from cmtool.model.problems import Problem

REDRESS_ACTIONS = frozenset({"resolve", "close", "edit"})


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
class Policy:
    roles: Mapping[str, Role] = field(default_factory=dict)
    people: Mapping[str, str] = field(default_factory=dict)  # actor -> role name
    require_signed: bool = False
    system_actors: frozenset[str] = frozenset({"cmtool"})

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
            return (f"{event.actor!r} ({role_name}) may not {event.action} a case with redress "
                    f"{redress_after:g} (above the role's max_redress {role.max_redress:g})")
        return None


def read_policy(
    rules: Any, path: str = "rules.yaml", lines: Mapping[str, int] | None = None
) -> tuple[Policy, list[Problem]]:
    """The policy in a parsed rules.yaml, and every problem with its sections."""
    lines = lines or {}
    problems: list[Problem] = []

    def problem(message: str, key: str) -> None:
        problems.append(Problem("RULES_AUDIT", message, path, lines.get(key)))

    if not isinstance(rules, Mapping):
        return Policy(), problems
    roles: dict[str, Role] = {}
    raw_roles = rules.get("roles") or {}
    if not isinstance(raw_roles, Mapping):
        problem("roles: must map role names to {may: [actions], max_redress: N}", "roles")
        raw_roles = {}
    for name, spec in raw_roles.items():
        spec = spec if isinstance(spec, Mapping) else {}
        may = spec.get("may")
        if may is not None and not isinstance(may, list):
            problem(f"roles.{name}.may: expected a list of actions (\"*\" for every action)",
                    "roles")  # fmt: skip
            may = None
        limit = spec.get("max_redress")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, float))):
            problem(f"roles.{name}.max_redress: expected a number, got {limit!r}", "roles")
            limit = None
        unknown = set(spec) - {"may", "max_redress", "description"}
        if unknown:
            problem(f"roles.{name}: unknown keys {', '.join(sorted(map(str, unknown)))}", "roles")
        actions = frozenset(str(a) for a in may) if may is not None else None
        roles[str(name)] = Role(str(name), actions, limit)
    people: dict[str, str] = {}
    raw_people = rules.get("people") or {}
    if not isinstance(raw_people, Mapping):
        problem("people: must map names to {email, role, team}", "people")
        raw_people = {}
    for name, spec in raw_people.items():
        role = spec.get("role", "agent") if isinstance(spec, Mapping) else "agent"
        if roles and str(role) not in roles:
            problem(f"people.{name}.role: {role!r} is not defined under roles:", "people")
        people[str(name)] = str(role)
    audit = rules.get("audit") or {}
    require_signed = False
    system = frozenset({"cmtool"})
    if not isinstance(audit, Mapping):
        problem("audit: must be a mapping (require_signed_commits: true|false)", "audit")
    else:
        actors = audit.get("system_actors", ["cmtool"])
        if isinstance(actors, list):
            system = frozenset(str(a) for a in actors)
        else:
            problem("audit.system_actors: expected a list of actor names", "audit")
        value = audit.get("require_signed_commits", False)
        if not isinstance(value, bool):
            problem(f"audit.require_signed_commits: expected true or false, got {value!r}", "audit")
        else:
            require_signed = value
        for key in sorted(set(map(str, audit)) - {"require_signed_commits", "system_actors"}):
            problem(f"audit: unknown key {key!r}", "audit")
    return Policy(roles, people, require_signed, system), problems
