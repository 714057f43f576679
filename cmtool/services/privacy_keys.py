"""`cmtool privacy keygen` and `cmtool privacy members`: who can open the team's key store."""

from __future__ import annotations

from pathlib import Path

from cmtool.errors import UsageError
from cmtool.services.context import Context
from cmtool.store import keymembers
from cmtool.store.identity import IDENTITY_ENV, create_identity, deliberately_none, identity_path
from cmtool.store.keystore import SqliteKeyStore
from cmtool.store.personal import key_store_path, plugin_name, read_settings
from cmtool.store.workspace import Workspace


def keygen() -> tuple[str, Path, bool]:
    """(public key, where the identity is, whether it was made now)."""
    if deliberately_none():
        raise UsageError(
            f"${IDENTITY_ENV} is none here", hint=f"unset {IDENTITY_ENV} to make or show your identity"
        )
    path = identity_path()
    identity, made = create_identity(path)
    return identity.public_text, path, made


def team_store(ws: Workspace) -> SqliteKeyStore:
    """The workspace's own key store file (rules.yaml privacy.key_store)."""
    setting = read_settings(ws).key_store
    if setting is None:
        raise UsageError(
            "this workspace has no key store (rules.yaml privacy.key_store is null)",
            hint="see docs/privacy.md (where the keys live)",
        )
    plugin = plugin_name(setting)
    if plugin:
        raise UsageError(
            f"this workspace's keys are kept by the key store plugin {plugin!r}",
            hint="who may open them is managed in that key manager, not here",
        )
    return SqliteKeyStore(key_store_path(ws, setting))


def list_members(ws: Workspace) -> tuple[str, list[keymembers.Member]]:
    store = team_store(ws)
    return str(store.path), keymembers.members(store)


def add_member(ctx: Context, name: str, public_key: str) -> keymembers.Change:
    return keymembers.add_member(team_store(ctx.ws), name, public_key, ctx.now_text, ctx.actor)


def remove_member(ctx: Context, name: str) -> keymembers.Change:
    return keymembers.remove_member(team_store(ctx.ws), name, ctx.now_text, ctx.actor)


def member_log(ws: Workspace) -> tuple[str, list[keymembers.LogEntry]]:
    store = team_store(ws)
    return str(store.path), keymembers.member_log(store)
