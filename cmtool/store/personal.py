"""The workspace's sealer: which fields are personal and where their keys live.

Read from the ``privacy:`` section of rules.yaml (``rules.privacy`` checks it in
full for ``cmtool validate``)::

    privacy:
      key_store: /mnt/share/cmtool/keys.sqlite   # or ${CMTOOL_KEY_STORE}
      personal: [customer, contact, description, resolution, survey_comment, extra, notes]

Sealing is on when ``key_store`` is set. It must name a place outside the
repository (keys in git could never be destroyed), or ``plugin:NAME``, a key
store an installed package provides (an organisation's key manager). When it names an environment
variable that is unset here, or a file that does not exist, this clone has no
keys: everything sealed reads as ``[sealed]`` and writing personal data fails
rather than committing it in clear.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmtool.errors import DataError
from cmtool.model.privacy import DEFAULT_PERSONAL
from cmtool.store.keystore import KeyStore, KeyStoreUnavailable, NoKeys, SqliteKeyStore
from cmtool.store.rulescache import parse_rules
from cmtool.store.sealing import Sealer
from cmtool.store.workspace import Workspace

_VAR = re.compile(r"^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$")


@dataclass(frozen=True)
class PrivacySettings:
    key_store: str | None  # as written in rules.yaml
    personal: frozenset[str]
    commit_titles: bool  # rules.yaml declares titles free of personal data


def read_settings(ws: Workspace) -> PrivacySettings:
    try:
        data = parse_rules(ws.rules_path.read_text(encoding="utf-8"), "rules.yaml", ws.root)[0]
    except (OSError, UnicodeDecodeError, DataError):
        data = None  # the rules loader reports a broken file; no section = defaults here
    section: Any = data.get("privacy") if isinstance(data, dict) else None
    section = section if isinstance(section, dict) else {}
    store = section.get("key_store")
    personal = section.get("personal")
    return PrivacySettings(
        str(store) if store not in (None, "") else None,
        frozenset(str(p) for p in personal) if isinstance(personal, list) else frozenset(DEFAULT_PERSONAL),
        section.get("commit_titles") is True,
    )


def key_store_path(ws: Workspace, setting: str) -> Path:
    """The key store file a setting names here; KeyStoreUnavailable if it names
    an unset variable or a place inside the repository."""
    match = _VAR.match(setting.strip())
    if match:
        value = os.environ.get(match.group(1))
        if not value:
            raise KeyStoreUnavailable(
                f"rules.yaml privacy.key_store names ${match.group(1)}, which is not set here",
                hint=f"export {match.group(1)}=/path/to/keys.sqlite (docs/privacy.md)",
            )
        setting = value
    path = Path(setting).expanduser()
    if not path.is_absolute():
        raise KeyStoreUnavailable(
            f"privacy.key_store {setting!r} must be an absolute path outside the repository",
            hint="e.g. /mnt/share/cmtool/keys.sqlite or ${CMTOOL_KEY_STORE}",
        )
    resolved = path.resolve()
    if resolved == ws.root or ws.root in resolved.parents:
        raise KeyStoreUnavailable(
            f"privacy.key_store {resolved} is inside the repository; keys in git can never be destroyed",
            hint="put the key store outside the workspace (docs/privacy.md)",
        )
    return resolved


PLUGIN_GROUP = "cmtool.key_stores"
_PLUGIN = re.compile(r"^plugin:([A-Za-z0-9][A-Za-z0-9_.-]*)$")


def plugin_name(setting: str) -> str | None:
    """``plugin:NAME``: the key store an installed package provides, else None."""
    match = _PLUGIN.match(setting.strip())
    return match.group(1) if match else None


def plugin_key_store(ws: Workspace, name: str) -> KeyStore:
    """The key store of entry point ``NAME`` in group ``cmtool.key_stores``, made by
    calling it with the workspace folder. rules.yaml only names it: the code is what
    this machine has installed, never anything the workspace brings with it."""
    from importlib.metadata import entry_points

    found = list(entry_points(group=PLUGIN_GROUP, name=name))
    if not found:
        raise KeyStoreUnavailable(
            f"rules.yaml privacy.key_store names the key store plugin {name!r}, which is not installed here",
            hint=f"install the package that provides entry point {name!r} in group {PLUGIN_GROUP} "
            "(docs/privacy.md)",
        )
    return found[0].load()(ws.root)


_CACHE: dict[tuple[Any, ...], Sealer] = {}


def sealer_for(ws: Workspace) -> Sealer:
    """The sealer of this workspace as configured now (cached per rules.yaml version)."""
    try:
        stat = ws.rules_path.stat()
        version: tuple[Any, ...] = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        version = ()
    env = tuple(
        sorted(
            (k, v)
            for k, v in os.environ.items()
            if k.startswith(("CMTOOL_KEY", "CMTOOL_IDENTITY", "XDG_CONFIG"))
        )
    )
    cache_key = (str(ws.root), version, env)
    if cache_key not in _CACHE:
        settings = read_settings(ws)
        keys: KeyStore
        if settings.key_store is None:
            keys = NoKeys("this workspace has no key store (rules.yaml privacy.key_store)")
        else:
            try:
                plugin = plugin_name(settings.key_store)
                keys = (
                    plugin_key_store(ws, plugin)
                    if plugin
                    else SqliteKeyStore(key_store_path(ws, settings.key_store))
                )
            except KeyStoreUnavailable as exc:
                keys = NoKeys(str(exc))
        _CACHE[cache_key] = Sealer(keys, settings.personal, settings.key_store is not None)
    return _CACHE[cache_key]


def key_store_label(sealer: Sealer) -> str:
    """Where keys come from, for the index's fingerprint and `privacy report`."""
    keys = sealer.keys
    if isinstance(keys, NoKeys):
        return f"none ({keys.why})"
    label = getattr(keys, "label", None)  # optional for a plugin
    return label() if callable(label) else f"{type(keys).__module__}.{type(keys).__qualname__}"


def key_store_problem(ws: Workspace) -> str | None:
    """Why this clone cannot open the key store rules.yaml names (its sealed personal
    data then reads ``[sealed]`` and new data cannot be sealed), or None: it opens,
    or no key store is named."""
    if read_settings(ws).key_store is None:
        return None
    keys = sealer_for(ws).keys
    if isinstance(keys, NoKeys):
        return keys.why
    if isinstance(keys, SqliteKeyStore):
        if not keys.path.exists():
            return f"key store {keys.path} does not exist here"
        keys.key_ids()  # reads the store and opens the team key with this user's identity
        if keys.locked is not None:
            return str(keys.locked) + (f" ({keys.locked.hint})" if keys.locked.hint else "")
    return None
