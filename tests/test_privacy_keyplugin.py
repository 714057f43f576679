"""A key manager connected through the KeyStore interface: an installed package's
entry point in group ``cmtool.key_stores``, named in rules.yaml as ``plugin:NAME``."""

from __future__ import annotations

import json
import os
from pathlib import Path

from privacy_helpers import NAME, SENTENCE, every_object

# A stand-in for an organisation's key manager: one file per key in a folder the
# manager owns, deleted when the key is destroyed, with a log of destructions.
PLUGIN = """
import json
import os
from pathlib import Path

from cmtool.store.keystore import Destroyed, KeyStoreUnavailable


class FolderKeys:
    def __init__(self, folder):
        self.folder = folder
        self.log = folder / "destroyed.jsonl"

    def _path(self, key_id):
        return self.folder / f"{key_id}.key"

    def get(self, key_id):
        path = self._path(key_id)
        return path.read_bytes() if path.exists() else None

    def create(self, key_id, at):
        if key_id in {d.key_id for d in self.destroyed_since(0)}:
            raise KeyStoreUnavailable(f"the key of {key_id} was destroyed")
        path = self._path(key_id)
        if not path.exists():
            path.write_bytes(os.urandom(32))
        return path.read_bytes()

    def destroy(self, key_id, at, reason):
        path = self._path(key_id)
        had = path.exists()
        path.unlink(missing_ok=True)
        if key_id not in {d.key_id for d in self.destroyed_since(0)}:
            with self.log.open("a") as out:
                out.write(json.dumps({"id": key_id, "at": at, "reason": reason}) + "\\n")
        return had

    def destroyed_since(self, seq):
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        records = [json.loads(line) for line in lines]
        return [Destroyed(n, r["id"], r["at"], r["reason"]) for n, r in enumerate(records, 1) if n > seq]

    def key_ids(self):
        return {path.stem for path in self.folder.glob("*.key")}

    def label(self):
        return f"folder key manager {self.folder}"


def factory(root):
    folder = os.environ.get("FOLDER_KEYS")
    if not folder:
        raise KeyStoreUnavailable("FOLDER_KEYS is not set: the folder key manager cannot be reached")
    return FolderKeys(Path(folder))
"""


def _install(site: Path) -> None:
    """The plugin as an installed distribution: a module and its dist-info."""
    site.mkdir()
    (site / "folder_keys.py").write_text(PLUGIN)
    info = site / "folder_keys-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: folder-keys\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[cmtool.key_stores]\nfolder = folder_keys:factory\n")


def test_a_key_manager_plugin_seals_opens_and_erases(cli, tmp_path):
    site, folder = tmp_path / "site", tmp_path / "manager"
    _install(site)
    folder.mkdir()
    path = os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), str(site)) if p)
    env = {"PYTHONPATH": path, "FOLDER_KEYS": str(folder), "CMTOOL_ACTOR": "dana"}
    root = tmp_path / "ws"
    rules = str(Path(__file__).resolve().parent.parent / "rules.yaml")
    made = cli("init", str(root), "--rules", rules, "--key-store", "plugin:folder", env=env)
    assert made.code == 0, made.err
    filed = cli(
        "file",
        "--title",
        "Charger overheats",
        "--customer",
        NAME,
        "--description",
        SENTENCE,
        cwd=root,
        env=env,
    )
    assert filed.code == 0, filed.err
    case_id = filed.out.strip()
    assert (folder / f"{case_id}.key").exists()
    assert json.loads(cli("show", case_id, "--json", cwd=root, env=env).out)["customer"] == NAME
    report = json.loads(cli("privacy", "report", "--json", cwd=root, env=env).out)
    assert report["key_store"] == f"folder key manager {folder}" and report["cases"][0]["key"] == "held"
    members = cli("privacy", "members", "list", cwd=root, env=env)
    assert members.code == 2 and "key store plugin 'folder'" in members.err

    # The key manager cannot be reached: everything runs, sealed; writing says why.
    away = {**env, "FOLDER_KEYS": ""}
    assert json.loads(cli("show", case_id, "--json", cwd=root, env=away).out)["customer"] == "[sealed]"
    refused = cli("file", "--title", "Late parcel", "--customer", "Li Mei", cwd=root, env=away)
    assert refused.code == 2 and "FOLDER_KEYS is not set" in refused.err
    # Not installed on this machine (rules.yaml names it; it is never imported from the workspace).
    bare = {"CMTOOL_ACTOR": "dana"}
    assert cli("list", cwd=root, env=bare).code == 0
    missing = cli("file", "--title", "Late parcel", "--customer", "Li Mei", cwd=root, env=bare)
    assert missing.code == 2 and "not installed here" in missing.err

    erased = cli(
        "privacy", "erase", "--case", case_id, "--legal-basis", "GDPR art. 17(1)(a)", cwd=root, env=env
    )
    assert erased.code == 0, erased.err
    assert not (folder / f"{case_id}.key").exists()
    assert json.loads(cli("show", case_id, "--json", cwd=root, env=env).out)["customer"] == "[sealed]"
    assert NAME.encode() not in every_object(root)
    index = b"".join(p.read_bytes() for p in (root / ".git" / "cmtool").glob("index.sqlite*"))
    assert NAME.encode() not in index
    verified = cli("audit", "verify", cwd=root, env=env)
    assert verified.code == 0 and "no findings" in verified.err
