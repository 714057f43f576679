"""A case: its id, its state and the events that state is replayed from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from cmtool.model.enums import OPEN_STATUSES, Status
from cmtool.model.events import Event
from cmtool.model.fields import ALWAYS_SHOWN, FIELD_NAMES


@dataclass(frozen=True)
class Case:
    id: str
    state: Mapping[str, Any]
    events: tuple[Event, ...]

    def get(self, name: str, default: Any = None) -> Any:
        value = self.state.get(name)
        return default if value is None else value

    @property
    def status(self) -> Status:
        return Status(self.state["status"])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def updated_at(self) -> str:
        return self.events[-1].at

    def to_dict(self) -> dict[str, Any]:
        """The file's content: id, state in field order, then the events."""
        data: dict[str, Any] = {"id": self.id}
        for name in FIELD_NAMES:
            value = self.state.get(name)
            if value is not None or name in ALWAYS_SHOWN:
                data[name] = value
        data["events"] = [event.to_dict() for event in self.events]
        return data

    def with_event(self, event: Event) -> Case:
        state = dict(self.state)
        for name, (_old, new) in event.changes.items():
            state[name] = new
        return Case(self.id, MappingProxyType(state), (*self.events, event))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Case:
        state = {name: data.get(name) for name in FIELD_NAMES}
        events = tuple(Event.from_dict(item) for item in data.get("events") or ())
        return cls(str(data["id"]), MappingProxyType(state), events)
