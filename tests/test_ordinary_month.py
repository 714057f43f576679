"""An ordinary month of a team of five, through the real CLI, ending on the real clock.

One shared bare remote and two clones (head office and a branch office) work
offline and sync: a spreadsheet import, cases filed in English and Chinese, the
same case edited on both sides (one field contested, one change agreed), cron
sweeps (`sla check --apply` as sla-bot) between syncs, a survey, reports, a
clock extension with approval, a seal. Then: `audit verify` gives 0 findings on
every clone and on a fresh clone of the remote, `validate` is clean, `git fsck`
is clean, and every name in the history is in the registry.

Then each tampering the audit exists for is made by hand on a copy, and caught.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from cmtool.audit.trailers import TRAILER_RE
from cmtool.model.registry import COMMIT_ACTIONS, COMMIT_TRAILERS, EVENT_KINDS
from cmtool.store.yamlio import load
from cmtool.store.yamlstyle import dump

TEAM = (
    "mia:agent:service",
    "noah:agent:quality",
    "olga:agent:logistics",
    "pat:lead:quality",
    "quinn:manager",
)


def run(*args: str, cwd: Path, now: datetime | None = None, ok: tuple[int, ...] = (0,)) -> str:
    """The real CLI; ``now`` None = the real clock (CMTOOL_NOW unset)."""
    env = {k: v for k, v in os.environ.items() if k != "CMTOOL_NOW"}
    extra = ["--now", now.isoformat(timespec="seconds")] if now is not None else []
    done = subprocess.run(
        [sys.executable, "-m", "cmtool", *args, *extra],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode in ok, (args, done.returncode, done.stdout, done.stderr)
    return done.stdout


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


def verify(cwd: Path) -> dict:
    out = run("audit", "verify", "--json", cwd=cwd, ok=(0, 1))
    return json.loads(out)


def case_file(ws: Path, case_id: str) -> Path:
    return next((ws / "cases").rglob(f"{case_id}.yaml"))


def events(ws: Path, case_id: str) -> list[dict]:
    return load(case_file(ws, case_id).read_text(encoding="utf-8"), "case")["events"]


def _sheet(path: Path, start: datetime) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Title", "Customer", "Channel", "Received", "Description"])
    rows = [
        ("Blender lid cracked", "Ana Lima", "email", 1, "The lid cracked on first use"),
        ("扫地机器人不充电", "赵敏", "phone", 2, "充电座指示灯不亮"),
        ("Refund still missing", "Tom Reed", "web", 3, "Returned the kettle two weeks ago"),
    ]
    for title, customer, channel, days, description in rows:
        sheet.append(
            [title, customer, channel, (start - timedelta(days=days)).date().isoformat(), description]
        )
    book.save(path)


@pytest.fixture(scope="module")
def month(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("month")
    real = datetime.now().astimezone().replace(microsecond=0)
    day = (real - timedelta(days=30)).replace(hour=9, minute=0, second=0)

    def at(days: float, hours: float = 0) -> datetime:
        moment = day + timedelta(days=days, hours=hours)
        assert moment < real
        return moment

    hq, branch, remote = root / "hq", root / "branch", root / "remote.git"
    run("init", str(hq), *[arg for person in TEAM for arg in ("--person", person)], cwd=root, now=at(0))
    git(root, "init", "-q", "--bare", "-b", "main", str(remote))
    git(hq, "remote", "add", "origin", str(remote))
    run("sync", "--actor", "sync-bot", cwd=hq, now=at(0, 0.1))
    git(root, "clone", "-q", str(remote), str(branch))
    run("install", cwd=branch)

    # Week 1: the old spreadsheet comes in; new cases in English and Chinese.
    _sheet(root / "old-complaints.xlsx", at(0))
    run("import", str(root / "old-complaints.xlsx"), "--actor", "mia", cwd=hq, now=at(0, 1))
    kettle = run(
        "file",
        "--title",
        "Kettle leaks at the base",
        "--channel",
        "phone",
        "--customer",
        "Li Wei",
        "--actor",
        "mia",
        cwd=hq,
        now=at(1),
    ).strip()
    parcel = run(
        "file",
        "--title",
        "快递三天了还没收到",
        "--channel",
        "app",
        "--customer",
        "王芳",
        "--actor",
        "olga",
        cwd=branch,
        now=at(1, 1),
    ).strip()
    for ws in (hq, branch, hq):
        run("sync", "--actor", "sync-bot", cwd=ws, now=at(1, 2))
    run("assign", kettle, "--to", "noah", "--actor", "pat", cwd=hq, now=at(2))
    run("note", kettle, "Called back: asked for photos", "--actor", "noah", cwd=hq, now=at(2, 1))
    run(
        "resolve",
        kettle,
        "--resolution",
        "Replaced the kettle",
        "--redress",
        "30",
        "--actor",
        "noah",
        cwd=hq,
        now=at(2, 2),
    )
    run("sla", "check", "--apply", "--actor", "sla-bot", cwd=hq, now=at(3), ok=(0, 1))  # the cron sweep
    for ws in (hq, branch):
        run("sync", "--actor", "sync-bot", cwd=ws, now=at(3, 1))

    # Week 2, offline: both offices work the parcel case (a contested priority) and
    # both close the kettle case (agreement: no contest, the first closure stands).
    run("assign", parcel, "--to", "mia", "--actor", "pat", cwd=hq, now=at(8))
    run("edit", parcel, "--priority", "high", "--actor", "pat", cwd=hq, now=at(8, 1))
    run("close", kettle, "--actor", "pat", cwd=hq, now=at(8, 2))
    run("note", parcel, "已联系快递公司催件", "--actor", "olga", cwd=branch, now=at(8, 3))
    run("edit", parcel, "--priority", "low", "--actor", "olga", cwd=branch, now=at(8, 4))
    run("close", kettle, "--actor", "noah", cwd=branch, now=at(8, 5))
    run("sla", "check", "--apply", "--actor", "sla-bot", cwd=hq, now=at(9), ok=(0, 1))
    for ws in (hq, branch, hq):
        run("sync", "--actor", "sync-bot", cwd=ws, now=at(9, 1))

    # Week 3: a survey, a regulated case with an approved extension, reports.
    run("survey", "record", kettle, "--csat", "4", "--nps", "9", "--actor", "mia", cwd=hq, now=at(15))
    bank = run(
        "file",
        "--title",
        "理财产品赎回纠纷",
        "--channel",
        "web",
        "--regime",
        "cn_banking",
        "--actor",
        "mia",
        cwd=hq,
        now=at(15, 1),
    ).strip()
    extend = ("sla", "extend", bank, "--clock", "cn_banking.decision")
    run(*extend, "--reason", "complex case", "--actor", "pat", cwd=hq, now=at(16))
    run(
        *extend,
        "--reason",
        "needs the product team",
        "--approved-by",
        "quinn",
        "--actor",
        "pat",
        cwd=hq,
        now=at(16, 1),
    )
    run("resolve", parcel, "--resolution", "Re-sent the parcel", "--actor", "olga", cwd=branch, now=at(16, 2))
    run("sla", "check", "--apply", "--actor", "sla-bot", cwd=hq, now=at(17), ok=(0, 1))
    for ws in (hq, branch, hq):
        run("sync", "--actor", "sync-bot", cwd=ws, now=at(17, 1))
    period = at(17).strftime("%Y-%m")
    run("report", "compliance", "--period", period, "-f", "xlsx", "-o", str(root / "compliance.xlsx"), cwd=hq)
    run("stats", "--json", cwd=hq)

    # Week 4: the month is sealed; then today's work, on the real clock.
    run("audit", "seal", "-m", "month closed", "--actor", "quinn", cwd=hq, now=at(24))
    run("note", bank, "Called the customer with the timeline", "--actor", "mia", cwd=hq)
    run("sla", "check", "--apply", "--actor", "sla-bot", cwd=branch, ok=(0, 1))
    for ws in (branch, hq, branch):
        run("sync", "--actor", "sync-bot", cwd=ws)
    fresh = root / "auditor"
    git(root, "clone", "-q", str(remote), str(fresh))
    return {
        "root": root,
        "hq": hq,
        "branch": branch,
        "remote": remote,
        "auditor": fresh,
        "kettle": kettle,
        "parcel": parcel,
        "bank": bank,
    }


def test_the_month_leaves_zero_findings_everywhere(month):
    heads = {git(month[name], "rev-parse", "HEAD") for name in ("hq", "branch", "auditor")}
    assert len(heads) == 1  # everyone has everything
    for name in ("hq", "branch", "auditor"):
        report = verify(month[name])
        assert report["findings"] == 0, (name, report["items"])
        assert report["seals_checked"] == 1
        run("validate", cwd=month[name])  # exit 0: no problems
        git(month[name], "fsck", "--strict")
    git(month["remote"], "fsck", "--strict")


def test_the_merges_kept_every_event_and_told_the_truth(month):
    hq = month["hq"]
    parcel = events(hq, month["parcel"])
    contests = [e for e in parcel if e["action"] == "merge_contest"]
    assert len(contests) == 1 and contests[0]["contested"][0]["field"] == "priority"
    assert {contests[0]["contested"][0]["kept"], contests[0]["contested"][0]["overridden"]} == {"high", "low"}
    kettle = events(hq, month["kettle"])
    closes = [e for e in kettle if e["action"] == "close"]
    assert len(closes) == 2 and not [e for e in kettle if e["action"] == "merge_contest"]
    state = load(case_file(hq, month["kettle"]).read_text(encoding="utf-8"), "k")
    assert state["closed_at"] == min(e["at"] for e in closes)  # the first closure stands
    shown = json.loads(run("history", month["parcel"], "--json", cwd=hq))
    assert "REMOVED" not in json.dumps(shown)


def test_every_name_in_the_history_is_registered(month):
    log = git(month["hq"], "log", "--format=%B%x00")
    for message in log.split("\x00"):
        for line in message.strip().splitlines():
            match = TRAILER_RE.match(line.strip())
            if match and match.group(1).startswith("Cmtool-"):
                assert match.group(1) in COMMIT_TRAILERS, line
                if match.group(1) == "Cmtool-Action":
                    assert match.group(2).strip() in COMMIT_ACTIONS, line
    for path in (month["hq"] / "cases").rglob("C-*.yaml"):
        for event in load(path.read_text(encoding="utf-8"), str(path))["events"]:
            assert event["action"] in EVENT_KINDS, (path, event["action"])


# ---------------------------------------------------------------- tampering


@pytest.fixture
def copy(month, tmp_path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(month["hq"], target, symlinks=True)
    git(target, "config", "user.name", "Eve")
    git(target, "config", "user.email", "eve@example.com")
    return target


def _edit_case(ws: Path, case_id: str, change) -> None:
    path = case_file(ws, case_id)
    data = load(path.read_text(encoding="utf-8"), str(path))
    change(data)
    path.write_text(dump(data), encoding="utf-8")


def _forged_commit(ws: Path, action: str, actor: str, cases: list[str]) -> None:
    """A commit that claims to be cmtool's (trailers and all) but was made by hand."""
    trailers = "".join(f"Cmtool-Case: {c}\n" for c in cases)
    message = f"{action}\n\nCmtool-Action: {action}\nCmtool-Actor: {actor}\n{trailers}"
    git(ws, "-c", f"user.name={actor}", "commit", "-qam", message)


def _codes(ws: Path) -> set[str]:
    report = verify(ws)
    return {item["code"] for item in report["items"]}


def test_a_hand_edit_of_a_state_is_caught(copy, month):
    _edit_case(copy, month["parcel"], lambda d: d.update(status="closed"))
    git(copy, "commit", "-qam", "fix status")
    assert {"HAND_EDIT", "CASE_STATE_MISMATCH"} <= _codes(copy)


def test_a_deleted_event_is_caught(copy, month):
    _edit_case(copy, month["bank"], lambda d: d["events"].pop(1))
    _forged_commit(copy, "edit", "pat", [month["bank"]])
    assert "EVENT_REMOVED" in _codes(copy)


def test_a_shifted_event_time_is_caught(copy, month):
    def shift(data):
        event = data["events"][1]
        event["at"] = (datetime.fromisoformat(event["at"]) - timedelta(hours=3)).isoformat()

    _edit_case(copy, month["kettle"], shift)
    _forged_commit(copy, "edit", "pat", [month["kettle"]])
    assert "EVENT_REWRITTEN" in _codes(copy)


def test_a_deleted_case_is_caught(copy, month):
    git(copy, "rm", "-q", str(case_file(copy, month["parcel"]).relative_to(copy)))
    git(copy, "commit", "-qm", "tidy up")
    assert "CASE_DELETED" in _codes(copy)


def test_a_commit_naming_one_case_but_touching_two_is_caught(copy, month):
    def internal_note(data):
        data["events"].append(
            {"at": data["events"][-1]["at"], "actor": "pat", "action": "internal_note", "note": "x"}
        )

    for case_id in (month["kettle"], month["parcel"]):
        _edit_case(copy, case_id, internal_note)
    _forged_commit(copy, "internal_note", "pat", [month["kettle"]])
    assert "TRAILER_UNNAMED_CASE" in _codes(copy)


def test_an_action_by_a_role_without_the_right_is_caught(copy, month):
    def settle(data):
        last = data["events"][-1]["at"]
        data["events"].append(
            {
                "at": last,
                "actor": "mia",
                "action": "edit",
                "changes": {"redress": [data.get("redress"), 9000]},
            }
        )
        data["redress"] = 9000

    _edit_case(copy, month["bank"], settle)
    _forged_commit(copy, "edit", "mia", [month["bank"]])  # agents settle up to 5,000 yuan
    report = verify(copy)
    denied = [i for i in report["items"] if i["code"] == "ROLE_DENIED"]
    assert denied and "redress 9000 CNY (above roles.agent.max_redress 5000 CNY" in denied[0]["message"]


def test_rewritten_sealed_history_is_caught(copy):
    sealed = git(copy, "rev-parse", "cmtool-seal-1^{commit}").strip()
    squashed = git(copy, "commit-tree", "HEAD^{tree}", "-p", f"{sealed}^", "-m", "squash").strip()
    git(copy, "reset", "-q", "--hard", squashed)
    assert "SEAL_NOT_IN_HISTORY" in _codes(copy)


def test_an_altered_event_inside_a_merge_commit_is_caught(copy, month):
    parcel = month["parcel"]
    rel = str(case_file(copy, parcel).relative_to(copy))
    merges = git(copy, "log", "--merges", "--format=%H", "--", rel).split()
    merge = next(m for m in merges if "merge_contest" in git(copy, "show", f"{m}:{rel}"))
    text = git(copy, "show", f"{merge}:{rel}")
    data = load(text, rel)
    noted = next(e for e in data["events"] if e["action"] == "note")
    noted["note"] = "Customer withdrew the complaint"  # rewrites what olga wrote
    blob = subprocess.run(
        ["git", "hash-object", "-w", "--stdin"], cwd=copy, input=dump(data), capture_output=True, text=True
    ).stdout.strip()
    env = {**os.environ, "GIT_INDEX_FILE": str(copy / ".git" / "evil-index")}
    subprocess.run(["git", "read-tree", merge], cwd=copy, env=env, check=True)
    subprocess.run(
        ["git", "update-index", "--cacheinfo", f"100644,{blob},{rel}"], cwd=copy, env=env, check=True
    )
    tree = subprocess.run(
        ["git", "write-tree"], cwd=copy, env=env, capture_output=True, text=True
    ).stdout.strip()
    message = git(copy, "log", "-1", "--format=%B", merge)
    parents = git(copy, "log", "-1", "--format=%P", merge).split()
    args = [arg for parent in parents for arg in ("-p", parent)]
    evil = git(copy, "commit-tree", tree, *args, "-m", message).strip()
    git(copy, "reset", "-q", "--hard", evil)
    report = verify(copy)
    removed = [i for i in report["items"] if i["code"] == "EVENT_REMOVED" and i["commit"] == evil]
    assert removed and "lost or altered" in removed[0]["message"]
    assert [i for i in report["items"] if i["code"] == "MERGE_ADDED_EVENT"]
