"""A team's daily moves at the terminal: search, bulk changes, undo and corrections,
each through the real CLI on a real workspace, each leaving the audit clean."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from tests.conftest import git

ACTOR = ["--actor", "alice"]


def file(cli, ws, title, description="", **fields) -> str:
    args = ["file", "--title", title, "--channel", "phone", *ACTOR]
    if description:
        args += ["--description", description]
    for name, value in fields.items():
        args += [f"--{name.replace('_', '-')}", value]
    done = cli(*args, cwd=ws)
    assert done.code == 0, done.err
    return done.out.strip()


def rows(done) -> list[dict]:
    assert done.code in (0, 1), done.err
    return json.loads(done.out)


def audit_clean(cli, ws) -> None:
    done = cli("audit", "verify", cwd=ws)
    assert done.code == 0, done.out + done.err


@pytest.fixture
def team(ws):
    """A new workspace, as `cmtool init` makes it; alice and bob act in it."""
    return ws


def test_search_finds_english_and_chinese_with_snippets(ws, cli):
    kettle = file(cli, ws, "电水壶底座漏电", "烧水时手碰到底座金属边有明显的麻感，担心触电。")
    charger = file(cli, ws, "Charger overheats", "The X1 charger got hot enough to smell after two days.")
    file(cli, ws, "Parcel late", "Courier missed the delivery window twice.")
    assert cli("note", charger, "Customer sent photos of the scorched plug", cwd=ws).code == 0

    found = rows(cli("search", "触电", "--json", cwd=ws))
    assert [r["id"] for r in found] == [kettle] and "[触电]" in found[0]["snippet"]
    found = rows(cli("search", "scorched plug", "--json", cwd=ws))  # words of a note
    assert [r["id"] for r in found] == [charger]
    assert rows(cli("search", "CHARGER", "--json", cwd=ws))[0]["id"] == charger  # any case
    assert rows(cli("search", "麻感", "--json", cwd=ws))[0]["id"] == kettle  # two characters: no trigram
    assert rows(cli("search", "refund", "--json", cwd=ws)) == []
    # list --text combines with the other filters.
    listed = rows(cli("list", "--text", "charger", "--status", "open", "--json", cwd=ws))
    assert [r["id"] for r in listed] == [charger]
    # Piped, one line per hit with the ID first.
    assert cli("search", "漏电", cwd=ws).out.splitlines()[1].split("\t")[0] == kettle


def test_similar_lists_resolved_cases_with_their_resolutions(ws, cli):
    old = file(cli, ws, "Charger overheats and smells", "The charger gets very hot while charging the phone.")
    assert (
        cli("resolve", old, "--resolution", "Replaced the charger (batch 2506 recall)", *ACTOR, cwd=ws).code
        == 0
    )
    other = file(cli, ws, "Parcel arrived damaged", "The box was crushed and the lamp inside broken.")
    assert cli("resolve", other, "--resolution", "Sent a new lamp", *ACTOR, cwd=ws).code == 0
    new = file(cli, ws, "Charger too hot", "My new charger overheats when charging.")
    similar = rows(cli("search", "--similar", new, "--json", cwd=ws))
    assert similar[0]["id"] == old and similar[0]["resolution"].startswith("Replaced the charger")
    assert new not in [r["id"] for r in similar]


def test_similar_leaves_out_cases_sharing_only_common_words(ws, cli):
    """Resolved cases whose notes share the usual phrases (已向客户道歉) but whose
    complaint is about something else are noise, in Chinese as in English."""
    reply = "已向客户道歉并说明处理进度。"
    hot = file(cli, ws, "充电器发烫冒烟", "新买的充电器用了一天就发烫冒烟。")
    late = file(cli, ws, "快递延误一周", "包裹迟迟没有送到。")
    for case_id, fix in ((hot, "已更换充电器。"), (late, "已补偿运费。")):
        assert cli("note", case_id, reply, *ACTOR, cwd=ws).code == 0
        assert cli("resolve", case_id, "--resolution", fix, *ACTOR, cwd=ws).code == 0
    new = file(cli, ws, "充电器过热", "充电器充电时很烫手。")
    assert cli("note", new, reply, *ACTOR, cwd=ws).code == 0
    assert [r["id"] for r in rows(cli("search", "--similar", new, "--json", cwd=ws))] == [hot]


def test_bulk_edit_is_one_commit_naming_every_case(team, cli):
    ws = team
    ids = sorted(file(cli, ws, f"Imported complaint {n}", category="billing") for n in range(4))
    keep = file(cli, ws, "Unrelated", category="logistics")
    before = git(ws, "rev-parse", "HEAD").strip()

    dry = cli(
        "bulk",
        "edit",
        "--where",
        "category=billing",
        "--category",
        "product_quality",
        "--dry-run",
        "--json",
        *ACTOR,
        cwd=ws,
    )
    assert [r["id"] for r in rows(dry) if r["result"] == "changed"] == ids
    assert git(ws, "rev-parse", "HEAD").strip() == before  # a dry run changes nothing

    done = cli(
        "bulk",
        "edit",
        "--where",
        "category=billing",
        "--category",
        "product_quality",
        "--reason",
        "mapped on import",
        *ACTOR,
        cwd=ws,
    )
    assert done.code == 0, done.err
    assert git(ws, "rev-list", "--count", f"{before}..HEAD").strip() == "1"
    message = git(ws, "log", "-1", "--format=%B")
    assert "Cmtool-Action: bulk" in message
    assert (
        sorted(line.split(": ")[1] for line in message.splitlines() if line.startswith("Cmtool-Case:")) == ids
    )
    changed = git(ws, "show", "--name-only", "--format=", "HEAD").split()
    assert len(changed) == 4 and not any(keep in path for path in changed)
    for case_id in ids:
        case = json.loads(cli("show", case_id, "--json", cwd=ws).out)
        assert case["category"] == "product_quality"
        assert case["events"][-1]["action"] == "edit" and case["events"][-1]["note"] == "mapped on import"
    assert cli("validate", cwd=ws).code == 0
    audit_clean(cli, ws)


def test_bulk_refuses_and_lists_what_a_transition_does_not_allow(team, cli):
    ws = team
    done_case = file(cli, ws, "Resolved one")
    assert cli("resolve", done_case, "--resolution", "Refunded", *ACTOR, cwd=ws).code == 0
    open_case = file(cli, ws, "Still open")
    # IDs from a pipe: the first column of `cmtool list`, header and all.
    listing = cli("list", cwd=ws).out
    closed = cli("bulk", "close", "-", *ACTOR, cwd=ws, input=listing)
    assert closed.code == 1
    result = {r.split("\t")[0]: r.split("\t")[1:] for r in closed.out.splitlines()[1:]}
    assert result[done_case][0] == "changed"
    assert result[open_case][0] == "refused" and "resolve it first" not in result[open_case][1]
    assert "cannot close" in result[open_case][1]
    assert json.loads(cli("show", done_case, "--json", cwd=ws).out)["status"] == "closed"
    # Tags: added and removed, the others kept.
    tagged = cli("bulk", "tag", done_case, open_case, "--add", "q4-review", *ACTOR, cwd=ws)
    assert tagged.code == 0, tagged.out + tagged.err
    untag = cli("bulk", "tag", open_case, "--remove", "q4-review", "--add", "urgent", *ACTOR, cwd=ws)
    assert untag.code == 0
    assert json.loads(cli("show", open_case, "--json", cwd=ws).out)["tags"] == ["urgent"]
    assert cli("bulk", "close", "--where", "colour=red", *ACTOR, cwd=ws).code == 2
    audit_clean(cli, ws)


def test_bulk_edit_of_a_thousand_cases_is_one_commit(ws, cli):
    """Cases made with the fast-import generator the benchmarks use. How long it
    takes is the benchmark script's business (the target is 10 s), not a test's."""
    import subprocess
    import sys
    from pathlib import Path

    bench = Path(__file__).resolve().parents[1] / "benchmarks" / "generate.py"
    target = ws.parent / "big"
    made = subprocess.run(
        [sys.executable, str(bench), str(target), "--cases", "1000"], capture_output=True, text=True
    )
    if made.returncode != 0:
        pytest.skip(f"generator: {made.stderr[-300:]}")
    before = git(target, "rev-parse", "HEAD").strip()
    done = cli(
        "bulk",
        "tag",
        "--where",
        "status=new,assigned,in_progress,waiting,resolved,closed",
        "--add",
        "migrated",
        *ACTOR,
        cwd=target,
    )
    assert done.code == 0, done.err[-500:]
    assert git(target, "rev-list", "--count", f"{before}..HEAD").strip() == "1"
    assert len(done.out.splitlines()) == 1001


def test_undo_reverts_the_last_action_and_names_it(team, cli):
    ws = team
    case_id = file(cli, ws, "Wrong case resolved")
    routed = json.loads(cli("show", case_id, "--json", cwd=ws).out)  # rules.yaml may route it at filing
    other = "bob" if routed.get("assignee") != "bob" else "alice"
    assert cli("assign", case_id, "--to", other, *ACTOR, cwd=ws).code == 0
    assert cli("resolve", case_id, "--resolution", "Refunded", *ACTOR, cwd=ws).code == 0
    resolved_at = len(routed["events"]) + 2  # the number of the resolve event
    done = cli("undo", case_id, "--reason", "resolved the wrong case", *ACTOR, cwd=ws)
    assert done.code == 0, done.err
    case = json.loads(cli("show", case_id, "--json", cwd=ws).out)
    assert case["status"] != "resolved" and case.get("resolution") is None and case.get("resolved_at") is None
    last = case["events"][-1]
    assert (
        last["action"] == "undo"
        and last["reverts"] == resolved_at
        and "resolved the wrong case" in last["note"]
    )
    assert case["events"][resolved_at - 1]["action"] == "resolve"  # history keeps what was undone
    # Again: the assignment before it, and the state is as it was after filing.
    assert cli("undo", case_id, *ACTOR, cwd=ws).code == 0
    case = json.loads(cli("show", case_id, "--json", cwd=ws).out)
    assert case["events"][-1]["reverts"] == resolved_at - 1
    assert {k: case.get(k) for k in ("status", "assignee")} == {
        k: routed.get(k) for k in ("status", "assignee")
    }
    # Undo walks back to the filing, which cannot be undone.
    for _ in range(len(routed["events"]) - 1):
        assert cli("undo", case_id, *ACTOR, cwd=ws).code == 0
    refused = cli("undo", case_id, *ACTOR, cwd=ws)
    assert refused.code == 2 and "cannot be undone" in refused.err
    assert json.loads(cli("show", case_id, "--json", cwd=ws).out)["status"] == "new"
    assert cli("history", case_id, cwd=ws).out.count("undo") >= 2
    assert cli("validate", cwd=ws).code == 0
    audit_clean(cli, ws)


def test_correct_records_the_mistake_and_its_reason(team, cli):
    ws = team
    case_id = file(cli, ws, "Product mix-up", product="X1 charger")
    assert cli("edit", case_id, "--product", "X2 charger", "--correct", *ACTOR, cwd=ws).code == 2  # no reason
    done = cli(
        "edit",
        case_id,
        "--product",
        "X2 charger",
        "--correct",
        "--reason",
        "typed from the wrong form",
        *ACTOR,
        cwd=ws,
    )
    assert done.code == 0, done.err
    last = json.loads(cli("show", case_id, "--json", cwd=ws).out)["events"][-1]
    assert last["action"] == "correct" and last["corrects"] == 1
    assert last["changes"]["product"] == ["X1 charger", "X2 charger"]
    assert cli("validate", cwd=ws).code == 0
    audit_clean(cli, ws)


def test_attach_stores_evidence_by_hash_and_audit_checks_it(team, cli, tmp_path):
    ws = team
    case_id = file(cli, ws, "Kettle base gives shocks")
    photo = tmp_path / "kettle base.jpg"
    photo.write_bytes(bytes(range(256)) * 40)
    letter = tmp_path / "letter.pdf"
    letter.write_bytes(b"%PDF-1.4 letter from the customer")
    done = cli("attach", case_id, str(photo), str(letter), "--note", "photos and letter", *ACTOR, cwd=ws)
    assert done.code == 0, done.err
    sha = hashlib.sha256(photo.read_bytes()).hexdigest()
    stored = ws / "attachments" / sha[:2] / sha
    assert stored.read_bytes() == photo.read_bytes()
    event = json.loads(cli("show", case_id, "--json", cwd=ws).out)["events"][-1]
    assert event["action"] == "attach" and event["note"] == "photos and letter"
    assert event["files"][0] == {
        "name": "kettle base.jpg",
        "size": 10240,
        "type": "image/jpeg",
        "sha256": sha,
    }
    assert "kettle base.jpg  10,240 bytes  image/jpeg" in cli("show", case_id, cwd=ws).out
    assert git(ws, "status", "--porcelain") == ""
    assert len(git(ws, "show", "--name-only", "--format=", "HEAD").split()) == 3  # two files and the case
    # The same photo on a second case is stored once.
    other = file(cli, ws, "Second kettle")
    assert cli("attach", other, str(photo), *ACTOR, cwd=ws).code == 0
    assert [
        p for p in git(ws, "show", "--name-only", "--format=", "HEAD").split() if p.startswith("attach")
    ] == []
    audit_clean(cli, ws)
    # Links, folders and files over the limit are refused before anything is written.
    link = tmp_path / "passwd"
    link.symlink_to("/etc/passwd")
    assert cli("attach", case_id, str(link), *ACTOR, cwd=ws).code == 2
    rules = ws / "rules.yaml"
    rules.write_text(
        rules.read_text(encoding="utf-8").replace("max_size_mb: 25", "max_size_mb: 0.001"), "utf-8"
    )
    big = cli("attach", case_id, str(photo), *ACTOR, cwd=ws)
    assert big.code == 2 and "over the limit" in big.err
    git(ws, "checkout", "rules.yaml")
    # A stored file changed behind cmtool's back is caught.
    stored.write_bytes(b"not the photo")
    git(ws, "commit", "-qam", "touch up")
    report = cli("audit", "verify", "--json", cwd=ws)
    assert report.code == 1 and "ATTACHMENT_HASH" in report.out
    # A file attached since the last check, then deleted by hand: the case files read
    # again are the changed ones (the check keeps what it read), and both are caught.
    third = file(cli, ws, "Third kettle")
    letter = tmp_path / "letter.txt"
    letter.write_text("Dear team")
    assert cli("attach", third, str(letter), *ACTOR, cwd=ws).code == 0
    git(ws, "rm", "-rq", str(stored), f"attachments/{hashlib.sha256(b'Dear team').hexdigest()[:2]}")
    git(ws, "commit", "-qm", "tidy up")
    items = json.loads(cli("audit", "verify", "--json", cwd=ws).out)["items"]
    missing = sorted(i["case_id"] for i in items if i["code"] == "ATTACHMENT_MISSING")
    assert missing == sorted([case_id, other, third])
    # What the check keeps is the clone's own: damaged, it is read afresh.
    (ws / ".git" / "cmtool" / "attachments-cited.json").write_text('{"tree": "--all", "cited": {"x": [1]}}')
    items = json.loads(cli("audit", "verify", "--json", cwd=ws).out)["items"]
    assert sorted(i["case_id"] for i in items if i["code"] == "ATTACHMENT_MISSING") == missing
    # A record of a tree this clone no longer has (pruned): read afresh as well.
    (ws / ".git" / "cmtool" / "attachments-cited.json").write_text(f'{{"tree": "{"0" * 40}", "cited": {{}}}}')
    items = json.loads(cli("audit", "verify", "--json", cwd=ws).out)["items"]
    assert sorted(i["case_id"] for i in items if i["code"] == "ATTACHMENT_MISSING") == missing


def test_attachments_go_through_git_lfs_when_the_workspace_tracks_them(team, cli, tmp_path):
    if shutil.which("git-lfs") is None:
        pytest.skip("git-lfs is not installed (.ci/run installs Debian's git-lfs)")
    ws = team
    git(ws, "lfs", "install", "--local")
    git(ws, "lfs", "track", "attachments/**")
    git(ws, "add", ".gitattributes")
    git(ws, "commit", "-qm", "attachments in Git LFS")
    case_id = file(cli, ws, "Call recording")
    recording = tmp_path / "call.wav"
    recording.write_bytes(b"RIFF" + bytes(5000))
    assert cli("attach", case_id, str(recording), *ACTOR, cwd=ws).code == 0
    sha = hashlib.sha256(recording.read_bytes()).hexdigest()
    pointer = git(ws, "cat-file", "-p", f"HEAD:attachments/{sha[:2]}/{sha}")
    assert pointer.startswith("version https://git-lfs.github.com/spec/v1") and f"oid sha256:{sha}" in pointer
    assert (ws / "attachments" / sha[:2] / sha).read_bytes() == recording.read_bytes()
    assert git(ws, "status", "--porcelain") == ""
    done = cli("audit", "verify", cwd=ws)
    assert "ATTACHMENT" not in done.out, done.out
    audit_clean(cli, ws)


def test_link_shows_on_both_cases_and_a_duplicate_counts_once(team, cli):
    ws = team
    earlier = "2025-11-20T10:00:00+08:00"  # received before the report's as-at moment
    first = file(cli, ws, "Refund missing", "Returned the parcel, no refund yet.", now=earlier)
    again = file(cli, ws, "Refund missing (sent again by e-mail)", "Same refund, same parcel.", now=earlier)
    stats = json.loads(cli("stats", "--period", "2025-11", "--json", cwd=ws).out)
    done = cli(
        "link", again, first, "--as", "duplicate", "--note", "same customer, same order", *ACTOR, cwd=ws
    )
    assert done.code == 0, done.err
    a = json.loads(cli("show", again, "--json", cwd=ws).out)
    b = json.loads(cli("show", first, "--json", cwd=ws).out)
    assert a["links"] == [f"duplicate_of:{first}"] and b["links"] == [f"duplicated_by:{again}"]
    assert a["events"][-1]["action"] == b["events"][-1]["action"] == "link"
    message = git(ws, "log", "-1", "--format=%B")
    assert f"Cmtool-Case: {first}" in message and f"Cmtool-Case: {again}" in message
    after = json.loads(cli("stats", "--period", "2025-11", "--json", cwd=ws).out)
    assert stats["received"] == 2 and after["received"] == 1
    assert cli("link", again, first, "--as", "duplicate", *ACTOR, cwd=ws).code == 2  # recorded already
    assert cli("link", first, first, *ACTOR, cwd=ws).code == 2
    assert cli("link", first, again, "--as", "twin", *ACTOR, cwd=ws).code == 2
    assert cli("validate", cwd=ws).code == 0
    audit_clean(cli, ws)
