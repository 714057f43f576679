"""Statuses, priorities and channels: the closed vocabularies of a case."""

from __future__ import annotations

from enum import Enum


class Status(str, Enum):
    """Where a case stands. Values are what the YAML files and JSON output carry.

    - ``new``: filed, nobody owns it yet.
    - ``assigned``: an owner is set, the customer has not heard from us yet.
    - ``in_progress``: the owner is working it (the customer has been contacted).
    - ``waiting``: waiting on the customer (photos, a receipt...); SLA clocks may pause.
    - ``resolved``: a resolution was given; the customer may still object.
    - ``closed``: finished. ``reopen`` brings a resolved or closed case back.
    """

    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    RESOLVED = "resolved"
    CLOSED = "closed"


OPEN_STATUSES = frozenset({Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING})


class Priority(str, Enum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Priority).index(self)


class Channel(str, Enum):
    PHONE = "phone"
    EMAIL = "email"
    WEB = "web"
    APP = "app"
    SOCIAL = "social"
    REGULATOR = "regulator"
    LETTER = "letter"
    IN_PERSON = "in_person"
    CHAT = "chat"
    OTHER = "other"


def values(enum: type[Enum]) -> list[str]:
    return [member.value for member in enum]
