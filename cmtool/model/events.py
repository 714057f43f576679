"""Events: the append-only timeline a case's state is replayed from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

EMPTY: Mapping[str, Any] = MappingProxyType({})

# Keys of an event in the order they are written; other keys (an SLA clock,
# a rule's details...) follow in sorted order and are kept in ``details``.
EVENT_KEYS = ("at", "actor", "action", "changes", "note", "rule")
# How an imported case's resolve event says its source gave no date for it (the
# event is then dated at the event before): reports count such a closure as
# closed at an unknown time, never as closed in 0 hours.
UNDATED_NOTE = "no resolution date in the source"
_KNOWN_KEYS = frozenset(EVENT_KEYS)


@dataclass(frozen=True)
class Event:
    """One thing that happened to a case: who, when, what, old -> new.

    ``changes`` maps a state field to ``(old, new)``; replaying all changes in
    order gives the case's state.
    """

    at: str
    actor: str
    action: str
    changes: Mapping[str, tuple[Any, Any]] = field(default_factory=lambda: EMPTY)
    note: str | None = None
    rule: str | None = None
    details: Mapping[str, Any] = field(default_factory=lambda: EMPTY)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"at": self.at, "actor": self.actor, "action": self.action}
        if self.changes:
            data["changes"] = {name: [old, new] for name, (old, new) in self.changes.items()}
        if self.note is not None:
            data["note"] = self.note
        if self.rule is not None:
            data["rule"] = self.rule
        for key in sorted(self.details):
            data[key] = self.details[key]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Event:
        """Build from parsed YAML; the schema check has vetted ``data`` first."""
        raw = data.get("changes")
        changes = MappingProxyType({str(k): (v[0], v[1]) for k, v in raw.items()}) if raw else EMPTY
        extra = data.keys() - _KNOWN_KEYS  # usually none: skip building a dict per event
        details = MappingProxyType({key: data[key] for key in extra}) if extra else EMPTY
        return cls(
            str(data["at"]),
            str(data["actor"]),
            str(data["action"]),
            changes,
            data.get("note"),
            data.get("rule"),
            details,
        )
