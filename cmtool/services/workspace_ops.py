"""Creating workspaces: `init` and the bundled demo."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cmtool.errors import DataError, UsageError
from cmtool.rules.loader import rules_from_text
from cmtool.services.context import commit_message, resolve_now
from cmtool.store import git as gitops
from cmtool.store.casefiles import read_text
from cmtool.store.keystore import SqliteKeyStore
from cmtool.store.rulesedit import PersonSpec, add_people, without_people
from cmtool.store.transaction import transaction
from cmtool.store.workspace import BUNDLED, Workspace, init_workspace


def create_workspace(
    target: Path,
    actor: str | None,
    now: str | None,
    with_sample: bool = False,
    people: Sequence[PersonSpec] = (),
    rules: Path | None = None,
    key_store: str | None = None,
) -> Workspace:
    """A new workspace with its first commit (rules, templates, and any sample cases).

    rules.yaml is ``rules`` as given, or the sample's with the sample's people
    (``with_sample``), or else the bundled rules without people (none: roles are
    not checked until someone is added); ``people`` are then added to it. With
    ``key_store`` (a path outside the workspace, or ``${VARIABLE}``) personal
    data of every case filed from now on is sealed; the sample stays readable.
    """
    from cmtool.model.timefmt import format_time

    if rules is not None:
        text = _given_rules(rules)
    else:
        text = (BUNDLED / "rules.yaml").read_text(encoding="utf-8")  # package data, linked in a checkout
        text = text if with_sample else without_people(text)
    text = add_people(text, people) if people else text
    rules_from_text(text)  # a bad --person or --rules is refused before anything is made
    ws = init_workspace(target, with_sample)
    ws.rules_path.write_text(text, encoding="utf-8")
    if key_store:
        use_key_store(ws, key_store)
    identity = gitops.config_identity(ws.root)
    who = actor or (identity.name if identity else "cmtool")
    author = identity if identity and identity.name == who else gitops.Identity(who, f"{who}@cmtool.invalid")
    files = sorted(
        str(p.relative_to(ws.root))
        for p in ws.root.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(ws.root).parts
    )
    case_ids = [Path(f).stem for f in files if f.startswith("cases/") and f.endswith(".yaml")]
    with transaction(ws) as tx:
        for rel in files:
            tx.put_file(rel, (ws.root / rel).read_text(encoding="utf-8"))
        summary = "init workspace" + (f" with {len(case_ids)} sample cases" if case_ids else "")
        tx.commit(commit_message(summary, "init", who, case_ids), author, format_time(resolve_now(now)))
    return ws


def _given_rules(path: Path) -> str:
    try:
        text = read_text(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--rules {path}: cannot read it ({exc})") from None
    try:
        rules_from_text(text, str(path))
    except DataError as exc:
        raise DataError(f"--rules {exc}", hint=exc.hint) from None
    return text


def use_key_store(ws: Workspace, setting: str) -> None:
    """Name the key store in rules.yaml and check that it can be created here."""
    import json

    from cmtool.errors import UsageError
    from cmtool.store.personal import key_store_path, plugin_key_store, plugin_name

    if "\n" in setting or not setting.strip():
        raise UsageError("--key-store must be one line")
    plugin = plugin_name(setting)
    if plugin:
        plugin_key_store(ws, plugin)  # refuses one not installed here
    else:
        path = key_store_path(ws, setting)  # refuses a place inside the workspace
    text = ws.rules_path.read_text(encoding="utf-8")
    if "\n  key_store: null\n" not in text:
        raise UsageError("rules.yaml has no `key_store: null` line under privacy: to set")
    text = text.replace("\n  key_store: null\n", f"\n  key_store: {json.dumps(setting)}\n", 1)
    ws.rules_path.write_text(text, encoding="utf-8")
    if not plugin:
        SqliteKeyStore(path).ensure()
