"""A key store shared by a team: each case key sealed under the team's key (KEK), the
KEK wrapped for each member's identity; removing a member replaces the KEK."""

from __future__ import annotations

import json
import shutil
import sqlite3
import stat
import subprocess

from privacy_helpers import NAME, NOTE, PHONE, SENTENCE, every_object, file_story, sealed_workspace

from cmtool.store.identity import load_identity, unwrap_with
from cmtool.store.keystore import SqliteKeyStore, key_opener, open_kek


def _people(tmp_path, keys):
    """Environments of two members of one team, each with their own identity file."""
    base = {"CMTOOL_KEY_STORE": str(keys), "CMTOOL_NOW": "2025-11-20T09:00:00+08:00"}
    return (
        {**base, "CMTOOL_IDENTITY": str(tmp_path / "dana" / "identity"), "CMTOOL_ACTOR": "dana"},
        {**base, "CMTOOL_IDENTITY": str(tmp_path / "omar" / "identity"), "CMTOOL_ACTOR": "omar"},
    )


def _keygen(cli, env) -> str:
    done = cli("privacy", "keygen", env=env)
    assert done.code == 0, done.err
    return done.out.strip()


def _customer(cli, root, case_id, env) -> str:
    done = cli("show", case_id, "--json", cwd=root, env=env)
    assert done.code == 0, done.err
    return json.loads(done.out)["customer"]


def _raw_rows(keys) -> dict[str, bytes]:
    with sqlite3.connect(keys) as conn:
        return {key_id: bytes(key) for key_id, key in conn.execute("SELECT id, key FROM keys")}


def test_removing_a_member_locks_them_out_and_the_team_keeps_working(cli, tmp_path):
    keys = tmp_path / "keys.sqlite"
    root = sealed_workspace(cli, tmp_path, keys)
    first, second = file_story(cli, root, keys)  # filed before the team had members
    dana, omar = _people(tmp_path, keys)
    raw_before = _raw_rows(keys)
    assert {len(k) for k in raw_before.values()} == {32}  # kept unwrapped, as before members

    dana_key = _keygen(cli, dana)
    identity = tmp_path / "dana" / "identity"
    assert stat.S_IMODE(identity.stat().st_mode) == 0o600
    assert _keygen(cli, dana) == dana_key  # run again: the same identity, its key shown again
    omar_key = _keygen(cli, omar)
    assert omar_key != dana_key and omar_key.startswith("cmtool-x25519:")

    # The first member must be the one enrolling: nobody could open the store otherwise.
    refused = cli("privacy", "members", "add", "omar", omar_key, cwd=root, env=dana)
    assert refused.code == 4 and "the first one must be you" in refused.err
    added = cli("privacy", "members", "add", "dana", dana_key, cwd=root, env=dana)
    assert added.code == 0, added.err
    assert "2 case key(s) sealed" in added.out
    stored = keys.read_bytes()
    for raw in raw_before.values():  # the unwrapped keys are gone from the file
        assert raw not in stored
    assert cli("privacy", "members", "add", "omar", omar_key, cwd=root, env=dana).code == 0
    listed = json.loads(cli("privacy", "members", "list", "--json", cwd=root, env=omar).out)
    assert [(m["name"], m["public_key"], m["you"], m["added_by"]) for m in listed] == [
        ("dana", dana_key, False, "dana"),
        ("omar", omar_key, True, "dana"),
    ]
    assert _customer(cli, root, first, omar) == NAME
    assert _customer(cli, root, first, dana) == NAME
    # What omar could have kept while a member: the team key and a copy of the store.
    old_kek = _kek(keys, tmp_path / "omar" / "identity")
    early_copy = tmp_path / "keys-copy.sqlite"
    shutil.copy(keys, early_copy)

    removed = cli("privacy", "members", "remove", "omar", cwd=root, env=dana)
    assert removed.code == 0, removed.err
    assert "2 case key(s) re-sealed, 1 member(s) left" in removed.out
    # Who could open the store, since when, and who said so: kept after the removal.
    logged = json.loads(cli("privacy", "members", "log", "--json", cwd=root, env=dana).out)
    assert [(e["action"], e["name"], e["public_key"], e["by"], e["at"]) for e in logged] == [
        ("add", "dana", dana_key, "dana", "2025-11-20T09:00:00+08:00"),
        ("add", "omar", omar_key, "dana", "2025-11-20T09:00:00+08:00"),
        ("remove", "omar", omar_key, "dana", "2025-11-20T09:00:00+08:00"),
    ]

    # Omar's identity opens nothing in the store, nor does the team key he kept.
    omar_identity = load_identity(tmp_path / "omar" / "identity")
    with sqlite3.connect(keys) as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM members")] == ["dana"]
        assert all(
            unwrap_with(omar_identity, bytes(w)) is None
            for (w,) in conn.execute("SELECT wrapped_kek FROM members")
        )
    opener = key_opener(old_kek)
    assert all(opener(key_id, wrapped) is None for key_id, wrapped in _raw_rows(keys).items())
    shown = cli("show", first, "--json", cwd=root, env=omar)
    assert json.loads(shown.out)["customer"] == "[sealed]"
    assert "is not a member of key store" in shown.err and "privacy members add YOURNAME" in shown.err
    refused = cli("note", first, "Called again", cwd=root, env=omar)
    assert refused.code == 4 and "not a member" in refused.err
    assert (
        subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True).stdout
        == ""
    )
    # ... while dana reads and writes as before.
    assert _customer(cli, root, first, dana) == NAME
    assert cli("note", second, "Courier booked", cwd=root, env=dana).code == 0
    # The copy made before the removal still opens with omar's identity: what docs/privacy.md
    # says about copies of the store (keep none, or for a short fixed time).
    assert SqliteKeyStore(early_copy, tmp_path / "omar" / "identity").get(first) is not None

    # Erasure still destroys the key (and its bytes in the file); the history stays whole.
    wrapped_first = _raw_rows(keys)[first]
    erased = cli(
        "privacy", "erase", "--case", first, "--legal-basis", "GDPR art. 17(1)(a)", cwd=root, env=dana
    )
    assert erased.code == 0, erased.err
    assert _customer(cli, root, first, dana) == "[sealed]"
    assert _customer(cli, root, second, dana) != "[sealed]"
    assert wrapped_first not in keys.read_bytes()
    objects = every_object(root)
    index = b"".join(p.read_bytes() for p in (root / ".git" / "cmtool").glob("index.sqlite*"))
    for secret in (NAME, PHONE, SENTENCE, NOTE):
        assert secret.encode() not in objects and secret.encode() not in index, secret
    verified = cli("audit", "verify", cwd=root, env=dana)
    assert verified.code == 0 and "no findings" in verified.err


def _kek(keys, identity) -> bytes:
    with sqlite3.connect(keys) as conn:
        return open_kek(conn, identity, keys)


def test_a_removed_members_clone_forgets_what_its_index_had_opened(cli, tmp_path):
    keys = tmp_path / "keys.sqlite"
    root = sealed_workspace(cli, tmp_path, keys)
    first, _second = file_story(cli, root, keys)
    dana, omar = _people(tmp_path, keys)
    assert cli("privacy", "members", "add", "dana", _keygen(cli, dana), cwd=root, env=dana).code == 0
    assert cli("privacy", "members", "add", "omar", _keygen(cli, omar), cwd=root, env=dana).code == 0
    clone = tmp_path / "omar-clone"
    subprocess.run(["git", "clone", "-q", str(root), str(clone)], check=True)
    assert NAME in cli("list", "--json", cwd=clone, env=omar).out
    index_files = lambda: b"".join(p.read_bytes() for p in (clone / ".git" / "cmtool").glob("index.sqlite*"))  # noqa: E731
    assert NAME.encode() in index_files()

    assert cli("privacy", "members", "remove", "omar", cwd=root, env=dana).code == 0
    listed = cli("list", "--json", cwd=clone, env=omar)
    assert listed.code == 0 and NAME not in listed.out and first in listed.out
    assert NAME.encode() not in index_files()
    report = json.loads(cli("privacy", "report", "--json", cwd=clone, env=omar).out)
    assert "locked" in report["key_store"] and "not a member" in report["key_store"]


def test_without_an_identity_everything_runs_sealed_and_writing_says_what_to_do(cli, tmp_path):
    keys = tmp_path / "keys.sqlite"
    root = sealed_workspace(cli, tmp_path, keys)
    first, second = file_story(cli, root, keys)
    dana, _omar = _people(tmp_path, keys)
    assert cli("privacy", "members", "add", "dana", _keygen(cli, dana), cwd=root, env=dana).code == 0
    stranger = {**dana, "CMTOOL_IDENTITY": str(tmp_path / "nobody" / "identity"), "CMTOOL_ACTOR": "alice"}
    for command in (
        ("list",),
        ("sla", "check"),
        ("validate",),
        ("report", "compliance", "--period", "2025-11"),
    ):
        done = cli(*command, cwd=root, env=stranger)
        assert done.code in (0, 1), (command, done.err)
        assert NAME not in done.out
    assert _customer(cli, root, second, stranger) == "[sealed]"
    refused = cli("file", "--title", "Broken kettle", "--customer", "Amy Pond", cwd=root, env=stranger)
    assert refused.code == 2
    assert "no identity at" in refused.err and "cmtool privacy keygen" in refused.err
    assert cli("audit", "verify", cwd=root, env=stranger).code == 0
    # Work on fields that are not personal goes on.
    assert cli("assign", second, "--to", "alice", "--actor", "dana", cwd=root, env=stranger).code == 0

    # An identity others can read is refused, with the fix.
    identity = tmp_path / "dana" / "identity"
    identity.chmod(0o644)
    loose = cli("show", first, cwd=root, env=dana)
    assert "chmod 600" in loose.err
    identity.chmod(0o600)
    assert _customer(cli, root, first, dana) == NAME


def test_cron_purges_a_wrapped_store_without_an_identity(cli, tmp_path):
    keys = tmp_path / "keys.sqlite"
    root = sealed_workspace(cli, tmp_path, keys)
    first, second = file_story(cli, root, keys)  # first closed on 2025-11-06
    dana, _omar = _people(tmp_path, keys)
    assert cli("privacy", "members", "add", "dana", _keygen(cli, dana), cwd=root, env=dana).code == 0
    wrapped = _raw_rows(keys)[first]
    # The cron job opens no key on purpose: destroying one needs write access to the file only.
    cron = {"CMTOOL_KEY_STORE": str(keys), "CMTOOL_IDENTITY": "none", "CMTOOL_ALLOW_FUTURE": "1"}
    # Three years after closing (rules.yaml retention default).
    now = "2028-11-06T09:00:00+08:00"
    done = cli("privacy", "purge", "--json", "--actor", "cmtool", "--now", now, cwd=root, env=cron)
    assert done.code == 0 and done.err == "", done.err
    assert [d["case_id"] for d in json.loads(done.out)] == [first]
    assert wrapped not in keys.read_bytes()
    assert set(_raw_rows(keys)) == {second}
    assert _customer(cli, root, first, dana) == "[sealed]"
    assert _customer(cli, root, second, dana) != "[sealed]"
    assert cli("audit", "verify", cwd=root, env=dana).code == 0


def test_a_key_made_while_the_kek_is_replaced_opens_for_the_team(tmp_path):
    """A filing that read the store before a member was removed seals its new key
    under the new KEK, not the one it had read."""
    from cmtool.store import keymembers
    from cmtool.store.identity import create_identity

    keys = tmp_path / "keys.sqlite"
    dana, _ = create_identity(tmp_path / "dana")
    omar, _ = create_identity(tmp_path / "omar")
    admin = SqliteKeyStore(keys, dana.path)
    admin.ensure()
    first = admin.create("C-251103-AAAAAAA", "2025-11-03T09:00:00+08:00")
    keymembers.add_member(admin, "dana", dana.public_text, "2025-11-03T09:00:00+08:00", "dana")
    keymembers.add_member(admin, "omar", omar.public_text, "2025-11-03T09:00:00+08:00", "dana")
    filing = SqliteKeyStore(keys, dana.path)
    assert filing.get("C-251103-AAAAAAA") == first  # read under the first KEK
    change = keymembers.remove_member(
        SqliteKeyStore(keys, dana.path), "omar", "2025-11-03T10:00:00+08:00", "dana"
    )
    assert (change.keys, change.members) == (1, 1)
    made = filing.create("C-251103-BBBBBBB", "2025-11-03T10:00:00+08:00")
    fresh = SqliteKeyStore(keys, dana.path)
    assert fresh.get("C-251103-BBBBBBB") == made and fresh.get("C-251103-AAAAAAA") == first
    assert SqliteKeyStore(keys, omar.path).get("C-251103-BBBBBBB") is None
    # The index's fingerprint changes only with what opens: not for a member, for omar now.
    assert fresh.label() == str(keys)
    assert SqliteKeyStore(keys, omar.path).label().startswith(f"{keys} (locked: your identity")


def test_member_commands_refuse_what_would_lose_keys(cli, tmp_path):
    keys = tmp_path / "keys.sqlite"
    root = sealed_workspace(cli, tmp_path, keys)
    dana, omar = _people(tmp_path, keys)
    dana_key = _keygen(cli, dana)
    empty = cli("privacy", "members", "list", cwd=root, env=dana)
    assert empty.code == 0 and "no members" in empty.err
    assert cli("privacy", "members", "add", "dana", dana_key, cwd=root, env=dana).code == 0
    last = cli("privacy", "members", "remove", "dana", cwd=root, env=dana)
    assert last.code == 4 and "the last member" in last.err
    unknown = cli("privacy", "members", "remove", "zoe", cwd=root, env=dana)
    assert unknown.code == 3 and "members: dana" in unknown.err
    again = cli("privacy", "members", "add", "dana2", dana_key, cwd=root, env=dana)
    assert again.code == 4 and "already enrolled, as dana" in again.err
    bad = cli("privacy", "members", "add", "omar", "ssh-ed25519 AAAA", cwd=root, env=dana)
    assert bad.code == 2 and "not a member's public key" in bad.err
    # Only a member can enrol someone.
    outsider = cli("privacy", "members", "add", "omar", _keygen(cli, omar), cwd=root, env=omar)
    assert outsider.code == 4 and "not a member" in outsider.err
    plain = tmp_path / "plain"
    assert cli("init", str(plain)).code == 0
    none = cli("privacy", "members", "list", cwd=plain, env=dana)
    assert none.code == 2 and "no key store" in none.err


def test_a_store_file_made_by_its_first_key_opens_that_key(tmp_path):
    """No file yet (a share just mounted): the first key made makes it, and opens."""
    store = SqliteKeyStore(tmp_path / "keys.sqlite")
    assert store.get("C-251103-AAAAAAA") is None and store.key_ids() == set()
    made = store.create("C-251103-AAAAAAA", "2025-11-03T09:00:00+08:00")
    assert len(made) == 32 and store.get("C-251103-AAAAAAA") == made
    assert SqliteKeyStore(tmp_path / "keys.sqlite").get("C-251103-AAAAAAA") == made


def test_doctor_says_when_this_clone_cannot_open_the_key_store(cli, tmp_path):
    keys = tmp_path / "keys.sqlite"
    root = sealed_workspace(cli, tmp_path, keys)
    file_story(cli, root, keys)
    dana, omar = _people(tmp_path, keys)

    def findings(env) -> dict[str, str]:
        done = cli("doctor", "--json", cwd=root, env=env)
        return {f["code"]: f["message"] for f in json.loads(done.out)["findings"]}

    assert "KEY_STORE_UNAVAILABLE" not in findings(dana)
    assert cli("privacy", "members", "add", "dana", _keygen(cli, dana), cwd=root, env=dana).code == 0
    assert "KEY_STORE_UNAVAILABLE" not in findings(dana)
    _keygen(cli, omar)  # an identity, but not a member
    locked = findings(omar)
    assert "not a member" in locked["KEY_STORE_UNAVAILABLE"]
    done = cli("doctor", cwd=root, env=omar)
    assert done.code == 1 and "privacy members add" in done.out + done.err
    elsewhere = findings({**dana, "CMTOOL_KEY_STORE": str(tmp_path / "share" / "keys.sqlite")})
    assert "does not exist" in elsewhere["KEY_STORE_UNAVAILABLE"]
