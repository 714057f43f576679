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
TOKEN_PREFIX = "sealed:v1:"
NOTES = "notes"  # the free text of every event's note
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
