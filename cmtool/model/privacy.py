"""Personal data in a case: which fields may hold it, and how a sealed value looks.

A sealed value in a case file is one string, ``sealed:v1:<key id>:<base64>``:
version 1 is AES-256-GCM with a 96-bit nonce, the plaintext is the JSON of the
value, and the associated data binds it to the case ID and the field, so a
sealed value copied to another case or field does not open. Above the store a
sealed value is either its plain value or ``SEALED``, never ciphertext.
"""

from __future__ import annotations

from cmtool.model.fields import FIELDS_BY_NAME

SEALED = "[sealed]"  # what a reader without the key sees
MASKED = "[masked]"  # what a reader whose role may not read the field sees (privacy.need_to_know)
NOT_READABLE = frozenset({SEALED, MASKED})
TOKEN_PREFIX = "sealed:v1:"
NOTES = "notes"  # the free text of every event's note
FILE_NAME = "files.name"  # an attachment's own name, sealed with its content when notes are
MIGRATE_ACTION = "privacy_migrate"  # the one commit that may seal committed events in place
# What rules.yaml's privacy.personal may name: text fields, the imported extra
# columns (addresses, ID numbers land there) and the notes.
# Routing keys (status, category, team, assignee) stay clear: sweeps need them.
ROUTING = frozenset({"status", "category", "team", "assignee"})
SEALABLE = frozenset(
    {name for name, spec in FIELDS_BY_NAME.items() if spec.kind in ("str", "text") and name not in ROUTING}
    | {"extra", NOTES}
)
DEFAULT_PERSONAL = ("customer", "contact", "description", "resolution", "survey_comment", "extra", NOTES)


def token_field(name: str, key: str | None = None) -> str:
    """The field name a sealed value is bound to (``extra.<column>`` for extra)."""
    return f"{name}.{key}" if key is not None else name


def sealed_in_place(before: object, after: object) -> bool:
    """``after`` is ``before`` with some clear values replaced by sealed ones and
    nothing else changed: what `cmtool privacy migrate` does to committed events."""
    if before == after:
        return True
    if isinstance(before, dict) and isinstance(after, dict):
        return before.keys() == after.keys() and all(sealed_in_place(before[k], after[k]) for k in before)
    if isinstance(before, list) and isinstance(after, list):
        return len(before) == len(after) and all(
            sealed_in_place(b, a) for b, a in zip(before, after, strict=True)
        )
    is_sealed = isinstance(after, str) and after.startswith(TOKEN_PREFIX)
    return (
        is_sealed and before is not None and not (isinstance(before, str) and before.startswith(TOKEN_PREFIX))
    )
