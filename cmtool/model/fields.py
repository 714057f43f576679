"""The fields of a case's state, in the order they appear in a case file.

One table drives the file layout, schema checks, listing and export, so a new
field is added in one place. ``kind`` is one of: str, text (multi-line), enum,
time, int, number, list, map.
"""

from __future__ import annotations

from dataclasses import dataclass

from cmtool.model.enums import Channel, Priority, Status, values


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    choices: tuple[str, ...] = ()
    editable: bool = False  # may be changed with `cmtool edit`
    help: str = ""


FIELDS: tuple[Field, ...] = (
    Field("title", "str", editable=True, help="one-line summary"),
    Field("status", "enum", tuple(values(Status))),
    Field("priority", "enum", tuple(values(Priority)), editable=True),
    Field("category", "str", editable=True, help="taxonomy key from rules.yaml"),
    Field("channel", "enum", tuple(values(Channel)), editable=True),
    Field("customer", "str", editable=True),
    Field("contact", "str", editable=True, help="phone or e-mail of the customer"),
    Field("customer_tier", "str", editable=True, help="e.g. standard, vip"),
    Field("product", "str", editable=True),
    Field("region", "str", editable=True),
    Field("team", "str", editable=True),
    Field("assignee", "str"),
    Field("regimes", "list", editable=True, help="regulatory presets, e.g. fca_disp"),
    Field("tags", "list", editable=True),
    Field("filed_at", "time"),
    Field("first_response_at", "time"),
    Field("resolved_at", "time"),
    Field("closed_at", "time"),
    Field("waiting_reason", "str"),
    Field("escalation_level", "int"),
    Field("root_cause", "str", editable=True),
    Field("resolution", "text"),
    Field("remedy", "str"),
    Field("redress", "number", editable=True, help="money paid or credited to the customer"),
    Field(
        "redress_currency",
        "str",
        editable=True,
        help="ISO 4217 code of the redress; none: the regime's or workspace's currency in rules.yaml",
    ),
    Field("upheld", "bool", editable=True, help="was the complaint upheld"),
    Field("csat", "int"),
    Field("nps", "int"),
    Field("survey_comment", "text"),
    Field("surveyed_at", "time"),
    Field("survey_invited_at", "time", help="when a survey invitation was sent"),
    Field("description", "text", editable=True),
    Field("source", "map", help="provenance of an imported case"),
    Field("extra", "map", help="columns of an imported sheet that map to no field"),
    Field(
        "links",
        "list",
        help="other cases: duplicate_of:ID, duplicated_by:ID, parent_of:ID, child_of:ID, related:ID",
    ),
)

FIELD_NAMES: tuple[str, ...] = tuple(field.name for field in FIELDS)
FIELDS_BY_NAME = {field.name: field for field in FIELDS}
EDITABLE = tuple(field.name for field in FIELDS if field.editable)
# Fields shown as a null line even when empty, so a change is a one-line diff.
ALWAYS_SHOWN = FIELD_NAMES[: FIELD_NAMES.index("remedy") + 1]
