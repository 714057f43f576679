"""Sealing personal fields on write and opening them on read: the store boundary.

On write, each *new* event's personal values are encrypted once; the state at
the top of the file reuses the very string of the event that set it, and an
event's old value reuses the string it replaces. So a file without keys still
replays exactly (state == replay of events, old == previous new): validation,
merges and ``audit verify`` work on sealed files as they are. Committed events
are copied from the previous text untouched (they are immutable).

On read, every sealed string is opened with its key, or becomes ``SEALED``.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cmtool.errors import UsageError
from cmtool.model.privacy import FILE_NAME, NOTES, SEALED, TOKEN_PREFIX, token_field
from cmtool.store.keystore import KeyStore

NONCE_BYTES = 12


def _aad(case_id: str, field: str) -> bytes:
    return f"cmtool-sealed:v1\0{case_id}\0{field}".encode()


@lru_cache(maxsize=4096)
def aes_gcm(key: bytes) -> Any:
    """One AES-GCM object per key: a case's values are opened one after another."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(key)


def _plain_bytes(value: Any) -> bytes:
    """v1 plaintext: ``s`` + UTF-8 for text (nearly every value), ``j`` + JSON otherwise."""
    if isinstance(value, str):
        return b"s" + value.encode()
    return b"j" + json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _from_plain(plain: bytes) -> Any:
    kind, body = plain[:1], plain[1:]
    if kind == b"s":
        return body.decode()
    if kind == b"j":
        return json.loads(body)
    raise ValueError("unknown plaintext kind")


def seal_value(key: bytes, key_id: str, case_id: str, field: str, value: Any) -> str:
    nonce = os.urandom(NONCE_BYTES)
    sealed = aes_gcm(key).encrypt(nonce, _plain_bytes(value), _aad(case_id, field))
    return f"{TOKEN_PREFIX}{key_id}:{base64.urlsafe_b64encode(nonce + sealed).decode().rstrip('=')}"


def is_token(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(TOKEN_PREFIX)


def open_value(token: str, case_id: str, field: str, keys: KeyStore) -> Any:
    """The plain value, or ``SEALED`` when the key is missing, destroyed or wrong."""
    from cryptography.exceptions import InvalidTag

    key_id, _, body = token[len(TOKEN_PREFIX) :].partition(":")
    key = keys.get(key_id)
    if key is None:
        return SEALED
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        return _from_plain(aes_gcm(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(case_id, field)))
    except (InvalidTag, ValueError, binascii.Error):
        return SEALED


class _Opener:
    """Opens the sealed strings of one case; the state repeats its events' strings,
    so each is decrypted once."""

    def __init__(self, keys: KeyStore, case_id: str) -> None:
        self.keys, self.case_id = keys, case_id
        self.memo: dict[tuple[str, str], Any] = {}

    def value(self, value: Any, field: str) -> Any:
        if type(value) is str:
            if not value.startswith(TOKEN_PREFIX):
                return value
            memo = (value, field)
            if memo not in self.memo:
                self.memo[memo] = open_value(value, self.case_id, field, self.keys)
            return self.memo[memo]
        if field == "extra" and isinstance(value, Mapping):
            return {k: self.value(v, token_field(field, str(k))) for k, v in value.items()}
        return value

    def event(self, event: Mapping[str, Any]) -> Mapping[str, Any]:
        note, changes = event.get("note"), event.get("changes")
        sealed_changes = isinstance(changes, Mapping) and any(
            isinstance(pair, list) and any(is_token(v) or isinstance(v, Mapping) for v in pair)
            for pair in changes.values()
        )
        files = event.get("files")
        sealed_names = isinstance(files, list) and any(
            isinstance(f, Mapping) and is_token(f.get("name")) for f in files
        )
        if not sealed_changes and not is_token(note) and not sealed_names:
            return event  # nothing sealed in it: no copy
        out = dict(event)
        if sealed_names:
            out["files"] = [
                {**f, "name": self.value(f.get("name"), FILE_NAME)} if isinstance(f, Mapping) else f
                for f in files
            ]
        if is_token(note):
            out["note"] = self.value(note, "note")
        if sealed_changes:
            out["changes"] = {
                name: [self.value(v, name) for v in pair] if isinstance(pair, list) else pair
                for name, pair in changes.items()
            }
        return out


@dataclass
class Sealer:
    """Seals ``personal`` fields with keys from ``keys``; ``active`` says whether
    new writes are sealed (a key store is configured for this workspace)."""

    keys: KeyStore
    personal: frozenset[str]
    active: bool

    # -- reading ------------------------------------------------------------

    def open_case(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """A parsed case file with every sealed string opened (or ``SEALED``)."""
        opener = _Opener(self.keys, str(data.get("id")))
        out = {name: value if name == "events" else opener.value(value, name) for name, value in data.items()}
        events = data.get("events")
        if isinstance(events, list):
            out["events"] = [opener.event(e) if isinstance(e, Mapping) else e for e in events]
        return out

    def open_event(self, event: Mapping[str, Any], case_id: str) -> Mapping[str, Any]:
        return _Opener(self.keys, case_id).event(event)

    # -- writing ------------------------------------------------------------

    def seal_case(
        self, data: Mapping[str, Any], previous: Mapping[str, Any] | None, at: str
    ) -> dict[str, Any]:
        """``data`` (plain, from the model) as it goes into the file."""
        case_id = str(data["id"])
        before = list((previous or {}).get("events") or [])
        events = list(data.get("events") or [])
        current = {name: (previous or {}).get(name) for name in self.personal if name != NOTES}
        out_events = before[: len(before)]
        for event in events[len(before) :]:
            out_events.append(self._seal_event(event, case_id, current, at))
        out = dict(data)
        for name in current:
            if name in out:
                out[name] = current[name] if data.get(name) is not None else None
        out["events"] = out_events
        return out

    def _seal_event(
        self, event: Mapping[str, Any], case_id: str, current: dict[str, Any], at: str
    ) -> dict[str, Any]:
        out = dict(event)
        # A note a rule wrote (routing, a ladder) is the tool's text, kept readable.
        if NOTES in self.personal and isinstance(event.get("note"), str) and event.get("rule") is None:
            out["note"] = self._seal(event["note"], case_id, "note", at)
        changes = event.get("changes")
        if isinstance(changes, Mapping):
            sealed_changes = {}
            for name, (old, new) in changes.items():
                if name not in current:
                    sealed_changes[name] = [old, new]
                    continue
                new_value = self._seal_field(name, new, case_id, at)
                sealed_changes[name] = [current[name] if old is not None else None, new_value]
                current[name] = new_value
            out["changes"] = sealed_changes
        return out

    def seal_text(self, value: str, case_id: str, field: str, at: str) -> str:
        """One value sealed under the case's key (an attachment's name)."""
        return self._seal(value, case_id, field, at)

    def _seal_field(self, name: str, value: Any, case_id: str, at: str) -> Any:
        if value is None:
            return None
        if name == "extra" and isinstance(value, Mapping):
            return {k: self._seal(v, case_id, token_field(name, str(k)), at) for k, v in value.items()}
        return self._seal(value, case_id, name, at)

    def _seal(self, value: Any, case_id: str, field: str, at: str) -> Any:
        if value is None or is_token(value):
            return value
        if value == SEALED:
            raise UsageError(f"{case_id}: {field} is sealed here (no key); it cannot be written back")
        key = self.keys.create(case_id, at)
        return seal_value(key, case_id, case_id, field, value)

    # -- sealing what was written in clear (privacy migrate) -----------------

    def seal_in_place(
        self, data: dict[str, Any], at: str, cache: dict[tuple[str, str, str], str]
    ) -> dict[str, Any]:
        """A whole case file with every clear personal value sealed, the rest
        untouched. Equal values of one case and field get one sealed string
        (``cache``), so the state still equals the replay and each old value the
        previous new one, in this file and in every version of it in history."""
        case_id = str(data.get("id"))
        fields = self.personal - {NOTES}

        def seal(value: Any, field: str) -> Any:
            if value is None or is_token(value) or value == SEALED:
                return value
            memo = (case_id, field, json.dumps(value, ensure_ascii=False, sort_keys=True))
            if memo not in cache:
                cache[memo] = self._seal(value, case_id, field, at)
            return cache[memo]

        def seal_field(name: str, value: Any) -> Any:
            if name == "extra" and isinstance(value, Mapping):
                return {k: seal(v, token_field(name, str(k))) for k, v in value.items()}
            return seal(value, name)

        out = {k: (seal_field(k, v) if k in fields else v) for k, v in data.items()}
        events = []
        for event in data.get("events") or []:
            if not isinstance(event, Mapping):
                events.append(event)
                continue
            new = dict(event)
            if NOTES in self.personal and isinstance(event.get("note"), str) and event.get("rule") is None:
                new["note"] = seal(event["note"], "note")
            changes = event.get("changes")
            if isinstance(changes, Mapping):
                new["changes"] = {
                    k: [seal_field(k, v) for v in pair] if k in fields and isinstance(pair, list) else pair
                    for k, pair in changes.items()
                }
            events.append(new)
        if "events" in data:
            out["events"] = events
        return out
