"""Need-to-know wherever a case leaves the tool, and exports that open personal data
recorded in the history."""

from __future__ import annotations

import csv
import io
import json
import subprocess

from privacy_helpers import NAME, NOTE, PHONE, SENTENCE, file_story, sealed_workspace

AGENT_RIGHTS = "    agent: [customer, contact, description, notes, resolution]\n"


def _git(root, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout


def _agents_see_only_contacts(root) -> None:
    """Agents (alice) may read the contact only; the lead (dana) reads everything."""
    rules = root / "rules.yaml"
    text = rules.read_text()
    assert AGENT_RIGHTS in text
    rules.write_text(text.replace(AGENT_RIGHTS, "    agent: [contact]\n"))
    _git(root, "commit", "-qam", "rules: agents see contacts only")


def test_a_role_sees_and_finds_only_what_it_may_read(cli, tmp_path):
    keys = tmp_path / "keys.sqlite"
    root = sealed_workspace(cli, tmp_path, keys)
    first, second = file_story(cli, root, keys)
    _agents_see_only_contacts(root)
    env = {"CMTOOL_KEY_STORE": str(keys), "CMTOOL_NOW": "2025-11-20T09:00:00+08:00"}

    def run(*args: str, actor: str = "alice"):
        return cli(*args, "--actor", actor, cwd=root, env=env)

    listed = run("list", "--json")
    assert listed.code == 0, listed.err
    rows = {r["id"]: r for r in json.loads(listed.out)}
    assert rows[first]["customer"] == "[masked]" and NAME not in listed.out
    assert json.loads(run("list", "--json", actor="dana").out)[0]["customer"] == NAME
    piped = run("list")  # tab-separated lines in a pipe
    assert NAME not in piped.out and "[masked]" in piped.out
    refused = run("list", "--customer", "zhang")
    assert refused.code == 4 and "customer" in refused.err and "need_to_know" in refused.err
    assert run("list", "--sort", "customer").code == 4
    # Words only a hidden field holds find nothing, in `search` and `list --text`.
    assert json.loads(run("search", "burning", "--json").out) == []
    assert json.loads(run("list", "--text", "burning", "--json").out) == []
    assert json.loads(run("search", "courier", "--json").out) == []  # the note's words
    titled = json.loads(run("search", "Charger", "--json").out)
    assert [h["id"] for h in titled] == [first] and SENTENCE not in titled[0]["snippet"]
    found = json.loads(run("search", "burning", "--json", actor="dana").out)
    assert [h["id"] for h in found] == [first] and "[bur" in found[0]["snippet"]
    assert [h["id"] for h in json.loads(run("list", "--text", "courier", "--json", actor="dana").out)] == [
        first
    ]
    # The history masks the notes and the values of hidden fields, not the contact.
    history = run("history", first, "--json")
    assert NOTE not in history.out and NAME not in history.out and "[masked]" in history.out
    assert "zhang.wei@example.com" in history.out
    assert NOTE in run("history", first, "--json", actor="dana").out
    # A report shows the reader's hidden fields masked; --show-pii needs the right to read them.
    report = run("report", "compliance", "--period", "2025-11", "-f", "csv")
    assert report.code == 0, report.err
    assert "[masked]" in report.out and "Z. W." not in report.out  # not even its initials
    assert "Z. W." in run("report", "compliance", "--period", "2025-11", "-f", "csv", actor="dana").out
    pii = run("report", "compliance", "--period", "2025-11", "--show-pii")
    assert pii.code == 4 and "customer" in pii.err
    # A letter that would name the customer cannot be issued by someone who may not read the name.
    letter = run("letter", first, "--kind", "final")
    assert letter.code == 4 and "need_to_know" in letter.err
    assert "[masked]" in run("letter", first, "--kind", "final", "--preview").out
    head = _git(root, "rev-parse", "HEAD")
    assert run("letter", first, "--kind", "final", "--preview", actor="dana").out.count(NAME) >= 1
    assert _git(root, "rev-parse", "HEAD") == head
    due = run("survey", "due", "--json")  # the invitation names and greets the customer
    assert due.code == 0 and json.loads(due.out)[0]["customer"] == "[masked]" and NAME not in due.out
    assert run("survey", "due", "--render", "-").code == 4
    noted = run("note", second, "Called the courier", "--json")  # a command's --json answer too
    assert noted.code == 0 and json.loads(noted.out)["customer"] == "[masked]"
    # A report that prints names is an export of them: recorded on each case it names.
    named = run("report", "compliance", "--period", "2025-11", "-f", "csv", "--show-pii", actor="dana")
    assert named.code == 0 and NAME in named.out
    log = _git(root, "log", "-1", "--format=%B")
    assert "Cmtool-Action: privacy_export" in log and f"Cmtool-Case: {second}" in log
    event = json.loads(run("show", first, "--json", actor="dana").out)["events"][-1]
    assert event["purpose"] == "report" and event["fields"] == ["contact", "customer"]
    assert cli("audit", "verify", cwd=root, env=env).code == 0


def test_export_masks_personal_data_unless_opened_and_records_who_opened_it(cli, tmp_path):
    keys = tmp_path / "keys.sqlite"
    root = sealed_workspace(cli, tmp_path, keys)
    first, second = file_story(cli, root, keys)
    _agents_see_only_contacts(root)
    env = {"CMTOOL_KEY_STORE": str(keys), "CMTOOL_NOW": "2025-11-20T09:00:00+08:00"}
    head = _git(root, "rev-parse", "HEAD")

    masked = cli("export", "-f", "csv", "--actor", "dana", cwd=root, env=env)
    assert masked.code == 0, masked.err
    rows = list(csv.DictReader(io.StringIO(masked.out)))
    assert {r["customer"] for r in rows} == {r["contact"] for r in rows} == {"[masked]"}
    assert NAME not in masked.out and PHONE not in masked.out and SENTENCE not in masked.out
    assert _git(root, "rev-parse", "HEAD") == head  # nothing opened, nothing recorded

    target = tmp_path / "cases.json"
    opened = cli("export", "-o", str(target), "--show-pii", "--actor", "alice", cwd=root, env=env)
    assert opened.code == 0, opened.err
    text = target.read_text()
    data = {c["id"]: c for c in json.loads(text)}
    assert data[first]["contact"] == "zhang.wei@example.com" and data[first]["customer"] == "[masked]"
    assert NAME not in text and SENTENCE not in text and NOTE not in text
    log = _git(root, "log", "-1", "--format=%B")
    assert "Cmtool-Action: privacy_export" in log and "Cmtool-Actor: alice" in log
    assert f"Cmtool-Case: {first}" in log and f"Cmtool-Case: {second}" in log  # one commit for both
    assert NAME not in log
    shown = json.loads(cli("show", first, "--json", "--actor", "dana", cwd=root, env=env).out)
    event = shown["events"][-1]
    assert event["action"] == "privacy_export" and event["actor"] == "alice"
    assert event["at"] == "2025-11-20T09:00:00+08:00"
    assert event["purpose"] == "export" and event["format"] == "json" and event["fields"] == ["contact"]

    everything = cli("export", "-f", "json", "--show-pii", "--actor", "dana", cwd=root, env=env)
    assert NAME in everything.out and SENTENCE in everything.out
    assert json.loads(cli("show", first, "--json", cwd=root, env=env).out)["events"][-1]["fields"] == [
        "contact",
        "customer",
        "description",
        "extra",
        "notes",
        "resolution",
        "survey_comment",
    ]
    assert cli("audit", "verify", cwd=root, env=env).code == 0


def test_attachment_names_are_masked_where_the_notes_are(cli, tmp_path):
    """A file's name (a customer's letter) is sealed with the notes, so a role that
    may not read the notes sees it masked in show, history and attachments."""
    keys = tmp_path / "keys.sqlite"
    root = sealed_workspace(cli, tmp_path, keys)
    first, _second = file_story(cli, root, keys)
    _agents_see_only_contacts(root)
    letter = tmp_path / "Zhang-Wei-complaint-letter.txt"
    letter.write_text("Dear team, my charger burned.\n", encoding="utf-8")
    env = {"CMTOOL_KEY_STORE": str(keys), "CMTOOL_NOW": "2025-11-20T09:00:00+08:00"}

    def run(*args: str, actor: str = "alice"):
        done = cli(*args, "--actor", actor, cwd=root, env=env)
        assert done.code == 0, done.err
        return done.out

    run("attach", first, str(letter), actor="dana")
    for shown in (
        run("show", first, "--json"),
        run("history", first, "--json"),
        run("attachments", first, "--json"),
    ):
        assert letter.name not in shown and "[masked]" in shown
    assert letter.name in run("attachments", first, "--json", actor="dana")
    assert letter.name in run("show", first, "--json", actor="dana")
    assert cli("audit", "verify", cwd=root, env=env).code == 0
