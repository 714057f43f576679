"""Erasure by destroying keys: nothing readable is left, the history stays whole."""

from __future__ import annotations

import json
import sqlite3
import subprocess

from privacy_helpers import NAME, NOTE, OTHER, PHONE, SENTENCE, every_object, file_story, sealed_workspace

from cmtool.store.keystore import SqliteKeyStore
from cmtool.store.sealing import Sealer
from cmtool.store.yamlio import load


def _env(keys, **more):
    return {"CMTOOL_KEY_STORE": str(keys), **more}


def test_erase_leaves_nothing_readable_and_the_record_intact(cli, tmp_path):
    keys = tmp_path / "keys.sqlite"
    root = sealed_workspace(cli, tmp_path, keys)
    first, second = file_story(cli, root, keys)
    env = _env(keys, CMTOOL_NOW="2025-11-20T09:00:00+08:00")
    before = json.loads(cli("show", first, "--json", cwd=root, env=env).out)
    sla_before = cli("sla", "check", "--json", cwd=root, env=env).out
    # A clone made before the erasure: its copy of the history is erased too.
    early = tmp_path / "early-clone"
    subprocess.run(["git", "clone", "-q", str(root), str(early)], check=True)
    assert cli("list", cwd=early, env=env).code == 0  # its index opened Zhang Wei's record
    # A failed alert about the case, kept for the retry with its words.
    record = {"case_id": first, "status": "failed", "subject": f"Overdue: {NAME}", "body": SENTENCE}
    (root / ".git" / "cmtool" / "notifications.jsonl").write_text(json.dumps(record) + "\n")
    found = json.loads(cli("search", "burning", "--json", cwd=root, env=env).out)
    assert [hit["id"] for hit in found] == [first]  # the search index opened their words
    done = cli(
        "privacy",
        "erase",
        "--customer",
        "zhang wei",
        "--legal-basis",
        "GDPR art. 17(1)(b)",
        "--actor",
        "dana",
        "--json",
        cwd=root,
        env=env,
    )
    assert done.code == 0, done.err
    assert json.loads(done.out) == [{"case_id": first, "key_destroyed": True, "rule": None}]

    objects = subprocess.run(
        ["git", "cat-file", "--batch-all-objects", "--batch"], cwd=root, capture_output=True, check=True
    ).stdout
    kept = json.loads((root / ".git" / "cmtool" / "notifications.jsonl").read_text())
    assert kept == {"case_id": first, "status": "failed"}
    index_files = b"".join(p.read_bytes() for p in (root / ".git" / "cmtool").glob("index.sqlite*"))
    for secret in (NAME, PHONE, SENTENCE, NOTE, "zhang.wei@example.com"):
        assert secret.encode() not in objects and secret.encode() not in index_files, secret
    # Searching for their words, the note's or the description's, finds nothing.
    for words in ("burning", "courier Xuhui", "deformed"):
        assert json.loads(cli("search", words, "--json", cwd=root, env=env).out) == [], words
        assert json.loads(cli("list", "--text", words, "--json", cwd=root, env=env).out) == [], words
    # The early clone's index forgets what it opened the next time it is used.
    assert NAME not in cli("list", "--json", cwd=early, env=env).out
    early_files = b"".join(p.read_bytes() for p in (early / ".git" / "cmtool").glob("index.sqlite*"))
    assert NAME.encode() not in early_files

    after = json.loads(cli("show", first, "--json", cwd=root, env=env).out)
    assert after["customer"] == after["contact"] == after["description"] == "[sealed]"
    for name in (
        "status",
        "priority",
        "filed_at",
        "first_response_at",
        "resolved_at",
        "closed_at",
        "assignee",
    ):
        assert after[name] == before[name], name
    assert [e["action"] for e in after["events"]] == [e["action"] for e in before["events"]] + [
        "privacy_erase"
    ]
    assert after["events"][-1]["legal_basis"] == "GDPR art. 17(1)(b)"
    assert cli("sla", "check", "--json", cwd=root, env=env).out == sla_before
    assert cli("audit", "verify", cwd=root, env=env).code == 0
    assert cli("validate", cwd=root, env=env).code == 0
    # Li Mei is untouched; every other key cannot open Zhang Wei's data.
    other = json.loads(cli("show", second, "--json", cwd=root, env=env).out)
    assert other["customer"] == OTHER
    store = SqliteKeyStore(keys)
    raw = load(next(root.glob(f"cases/*/*/{first}.yaml")).read_text(), "case")
    assert store.key_ids() == {second}
    for key_id in store.key_ids():  # every key left, tried on every sealed value
        opened = Sealer(_OneKey(store.get(key_id)), frozenset(), False).open_case(raw)
        assert NAME not in json.dumps(opened, ensure_ascii=False)
    with sqlite3.connect(keys) as conn:
        assert conn.execute("SELECT count(*) FROM keys WHERE id = ?", (first,)).fetchone()[0] == 0
    assert NAME.encode() not in keys.read_bytes()


class _OneKey:
    """A key store that answers every key id with one key."""

    def __init__(self, key: bytes | None) -> None:
        self.key = key

    def get(self, key_id: str) -> bytes | None:
        return self.key


def test_erase_is_refused_under_a_legal_hold_unless_the_role_may_override(cli, tmp_path):
    keys = tmp_path / "keys.sqlite"
    root = sealed_workspace(cli, tmp_path, keys)
    env = _env(keys, CMTOOL_NOW="2025-11-03T09:00:00+00:00", CMTOOL_ACTOR="alice")
    case_id = cli(
        "file",
        "--title",
        "Card charged twice",
        "--customer",
        "Amy Pond",
        "--regime",
        "fca_disp",
        cwd=root,
        env=env,
    ).out.strip()
    for args in (("resolve", case_id, "--resolution", "Refunded"), ("close", case_id)):
        assert cli(*args, cwd=root, env=env).code == 0
    later = _env(keys, CMTOOL_NOW="2026-02-01T09:00:00+00:00")
    refused = cli(
        "privacy",
        "erase",
        "--customer",
        "Amy Pond",
        "--legal-basis",
        "GDPR art. 17",
        "--actor",
        "dana",
        cwd=root,
        env=later,
    )
    assert refused.code == 4
    # DISP 1.9.1R: three years after closing on 2025-11-03 -> kept until 2028-11-03.
    assert "until 2028-11-03" in refused.err and "privacy.retention.fca_disp" in refused.err
    assert "Amy Pond" in cli("show", case_id, "--json", cwd=root, env=later).out
    allowed = cli(
        "privacy",
        "erase",
        "--customer",
        "Amy Pond",
        "--legal-basis",
        "court order 2026/17",
        "--actor",
        "omar",
        cwd=root,
        env=later,
    )
    assert allowed.code == 0, allowed.err
    shown = json.loads(cli("show", case_id, "--json", cwd=root, env=later).out)
    assert shown["customer"] == "[sealed]" and shown["events"][-1]["override"] == "manager"
    assert cli("audit", "verify", cwd=root, env=later).code == 0


def test_purge_from_cron_destroys_keys_past_retention_only(cli, tmp_path):
    keys = tmp_path / "keys.sqlite"
    root = sealed_workspace(cli, tmp_path, keys)
    first, second = file_story(cli, root, keys)  # first closed 2025-11-06, second open
    env = _env(keys, CMTOOL_ALLOW_FUTURE="1")  # cron years later: --now past this machine's clock
    quiet = cli(
        "privacy", "purge", "--now", "2028-11-05T09:00:00+08:00", "--actor", "cmtool", cwd=root, env=env
    )
    assert quiet.code == 0 and quiet.out == ""  # default retention: 3 years after closing
    done = cli(
        "privacy", "purge", "--now", "2028-11-06T09:00:00+08:00", "--actor", "cmtool", cwd=root, env=env
    )
    assert done.code == 0 and first in done.out and second not in done.out
    shown = json.loads(cli("show", first, "--json", cwd=root, env=env).out)
    assert shown["customer"] == "[sealed]" and shown["events"][-1]["action"] == "privacy_purge"
    assert json.loads(cli("show", second, "--json", cwd=root, env=env).out)["customer"] == OTHER
    again = cli(
        "privacy", "purge", "--now", "2029-01-01T09:00:00+08:00", "--actor", "cmtool", cwd=root, env=env
    )
    assert again.code == 0 and again.out == ""
    report = json.loads(cli("privacy", "report", "--json", cwd=root, env=env).out)
    states = {row["case_id"]: row for row in report["cases"]}
    assert states[first]["key"] == "destroyed" and states[first]["keep_until"] == "2028-11-06"
    assert states[second]["key"] == "held" and states[second]["keep_until"] == "while open"
    assert OTHER not in json.dumps(report, ensure_ascii=False)
    assert cli("audit", "verify", cwd=root, env=env).code == 0


def test_subject_access_export_has_everything_of_that_person_and_nothing_else(cli, tmp_path):
    keys = tmp_path / "keys.sqlite"
    root = sealed_workspace(cli, tmp_path, keys)
    first, second = file_story(cli, root, keys)
    out = tmp_path / "sar"
    out.mkdir()
    env = _env(keys, CMTOOL_NOW="2025-11-20T09:00:00+08:00")
    refused = cli(
        "privacy", "export", "--customer", NAME, "--out", str(out), "--actor", "alice", cwd=root, env=env
    )
    assert refused.code == 4 and "need_to_know" in refused.err  # agents see only some fields
    done = cli(
        "privacy", "export", "--customer", NAME, "--out", str(out), "--actor", "dana", cwd=root, env=env
    )
    assert done.code == 0, done.err
    document = json.loads(next(out.glob("*.json")).read_text())
    assert [c["id"] for c in document["cases"]] == [first]
    record = document["cases"][0]
    assert record["fields"]["customer"] == NAME and SENTENCE in record["fields"]["description"]
    assert record["fields"]["contact"] == "zhang.wei@example.com"
    notes = [e.get("note") for e in record["events"]]
    assert NOTE in notes and record["events"][-1]["action"] == "privacy_export"
    history = json.loads(cli("show", first, "--json", cwd=root, env=env).out)["events"]
    assert [e["action"] for e in record["events"]] == [e["action"] for e in history]
    text = json.dumps(document, ensure_ascii=False) + next(out.glob("*.md")).read_text()
    assert OTHER not in text and "Parcel" not in text and second not in text
    assert PHONE in text  # the contact's earlier value is in its history
    assert cli("audit", "verify", cwd=root, env=env).code == 0


def test_the_demo_shows_an_erased_customer(cli, tmp_path):
    done = cli("demo", str(tmp_path / "demo"))
    assert done.code == 0, done.err
    line = done.out.strip().splitlines()[-1]
    assert line.startswith("privacy erase: C-")
    case_id = line.split()[2]
    root = tmp_path / "demo"
    shown = json.loads(cli("show", case_id, "--json", cwd=root).out)
    assert shown["customer"] == shown["description"] == "[sealed]"
    assert shown["events"][-1]["action"] == "privacy_erase"
    assert b"Wang Xiaoming" not in every_object(root)
    assert cli("audit", "verify", cwd=root).code == 0
    assert (tmp_path / "demo-keys.sqlite").exists() and not list(root.glob("*keys*"))


def test_purge_on_the_real_clock(cli, tmp_path, monkeypatch):
    keys = tmp_path / "keys.sqlite"
    root = sealed_workspace(cli, tmp_path, keys)
    env = _env(keys, CMTOOL_ACTOR="alice")
    old = cli(
        "file",
        "--title",
        "Old case",
        "--customer",
        "Old Customer",
        cwd=root,
        env={**env, "CMTOOL_NOW": "2020-03-02T09:00:00+08:00"},
    )
    recent = cli(
        "file",
        "--title",
        "Recent case",
        "--customer",
        "New Customer",
        cwd=root,
        env={**env, "CMTOOL_NOW": "2020-03-03T09:00:00+08:00"},
    )
    closing = {**env, "CMTOOL_NOW": "2020-03-10T09:00:00+08:00"}
    for args in (("resolve", old.out.strip(), "--resolution", "Refunded"), ("close", old.out.strip())):
        assert cli(*args, cwd=root, env=closing).code == 0
    monkeypatch.delenv("CMTOOL_NOW")
    done = cli("privacy", "purge", "--actor", "cmtool", "--json", cwd=root, env=_env(keys))
    assert done.code == 0, done.err
    # Closed 2020-03-10 + 3 years < today; the other case is still open.
    assert json.loads(done.out) == [{"case_id": old.out.strip(), "key_destroyed": True, "rule": "default"}]
    assert "New Customer" in cli("show", recent.out.strip(), "--json", cwd=root, env=_env(keys)).out
    assert cli("audit", "verify", cwd=root, env=_env(keys)).code == 0
