"""E-mail in: a real Maildir and mbox built with the stdlib become cases and
customer notes, one commit per run, never the same message twice."""

from __future__ import annotations

import hashlib
import json
import mailbox
from email.header import Header
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.conftest import git

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def message(sender: str, subject: str | Header, body: str, msg_id: str, **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "complaints@bank.example"
    msg["Subject"] = subject
    msg["Message-ID"] = msg_id
    msg["Date"] = "Fri, 21 Nov 2025 09:00:00 +0000"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def gbk_mail() -> bytes:
    """A Chinese complaint as a Chinese mail client sends it: GBK body, RFC 2047 subject in GB2312."""
    subject = Header("信用卡被重复扣款", "gb2312").encode()
    body = "我的信用卡在11月20日被重复扣款两次，请尽快处理。".encode("gbk")
    return (
        b"From: =?GBK?B?"
        + __import__("base64").b64encode("张伟".encode("gbk"))
        + b"?= <zhang.wei@example.cn>\r\n"
        b"To: complaints@bank.example\r\nSubject: " + subject.encode() + b"\r\n"
        b"Message-ID: <gbk-1@example.cn>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=GBK\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body + b"\r\n"
    )


def gbk_only_subject() -> bytes:
    """'镕' is in GBK but not in GB2312: a subject labelled gb2312 that carries it must still read."""
    import base64

    word = base64.b64encode("朱镕基路网点服务差".encode("gbk")).decode()
    return (
        "From: li@example.cn\r\nSubject: =?gb2312?B?" + word + "?=\r\nMessage-ID: <gbk-2@example.cn>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n网点服务态度差。\r\n"
    ).encode()


def html_only() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Ann Lee <ann@example.com>"
    msg["Subject"] = "=?utf-8?q?Card_declined_abroad_=E2=80=94_again?="
    msg["Message-ID"] = "<html-1@example.com>"
    msg.set_content(
        "<html><head><style>p{color:red}</style></head><body><p>My card was <b>declined</b> in Paris.</p>"
        "<p>Fees: &euro;12 &amp; more</p><script>alert(1)</script></body></html>",
        subtype="html",
    )
    return msg


def with_attachment() -> EmailMessage:
    msg = message("Bob Stone <bob@example.com>", "Broken kettle", "Photo attached.", "<att-1@example.com>")
    msg.add_attachment(PNG, maintype="image", subtype="png", filename="kettle.png")
    return msg


def auto_reply() -> EmailMessage:
    return message(
        "ann@example.com", "Out of office", "I am away.", "<ooo-1@example.com>", Auto_Submitted="auto-replied"
    )


def bounce() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "MAILER-DAEMON@mx.example.com"
    msg["Subject"] = "Undelivered Mail Returned to Sender"
    msg["Message-ID"] = "<bounce-1@mx.example.com>"
    msg.set_content("delivery failed")
    msg.add_attachment("Status: 5.1.1\n", subtype="delivery-status")
    msg.replace_header("Content-Type", msg["Content-Type"].replace("multipart/mixed", "multipart/report"))
    return msg


def maildir_with(path: Path, *messages: EmailMessage | bytes) -> Path:
    box = mailbox.Maildir(path, create=True)
    for msg in messages:
        box.add(msg if isinstance(msg, bytes) else msg.as_bytes())
    return path


def run(cli, ws, *args: str):
    done = cli("intake", "mail", *args, "--json", cwd=ws)
    assert done.code == 0, done.err
    return json.loads(done.out)


def show(cli, ws, case_id: str) -> dict:
    return json.loads(cli("show", case_id, "--json", cwd=ws).out)


def test_maildir_becomes_cases_then_a_reply_a_note_and_nothing_twice(ws, cli, tmp_path):
    box = maildir_with(
        tmp_path / "Maildir",
        gbk_mail(),
        gbk_only_subject(),
        html_only(),
        with_attachment(),
        auto_reply(),
        bounce(),
    )
    head_before = git(ws, "rev-parse", "HEAD")
    report = run(cli, ws, "--maildir", str(box))
    assert len(report["filed"]) == 4 and report["replies"] == []
    reasons = sorted(r["reason"] for r in report["skipped"])
    assert reasons == ["auto-reply (Auto-Submitted: auto-replied)", "bounce (multipart/report)"]
    cases = {show(cli, ws, i)["title"]: show(cli, ws, i) for i in report["filed"]}
    assert set(cases) == {
        "信用卡被重复扣款",
        "朱镕基路网点服务差",
        "Card declined abroad — again",
        "Broken kettle",
    }
    chinese = cases["信用卡被重复扣款"]
    assert chinese["channel"] == "email" and chinese["customer"] == "张伟"
    assert chinese["contact"] == "zhang.wei@example.cn"
    assert "重复扣款两次" in chinese["description"]
    html = cases["Card declined abroad — again"]
    assert html["description"].rstrip() == "My card was declined in Paris.\n\nFees: €12 & more"
    assert html["customer"] == "Ann Lee"
    assert chinese["events"][0]["message_id"] == "<gbk-1@example.cn>"
    # the attachment is stored by its sha256 in the same commit, and recorded on the case
    kettle = cases["Broken kettle"]
    sha = hashlib.sha256(PNG).hexdigest()
    attach = next(e for e in kettle["events"] if e["action"] == "attach")
    assert attach["files"] == [{"name": "kettle.png", "size": len(PNG), "type": "image/png", "sha256": sha}]
    assert (ws / "attachments" / sha[:2] / sha).read_bytes() == PNG
    # one commit for the run, naming every case, by the system actor
    assert git(ws, "rev-list", "--count", f"{head_before.strip()}..HEAD").strip() == "1"
    trailers = git(ws, "log", "-1", "--format=%(trailers:key=Cmtool-Case,valueonly)").split()
    assert sorted(trailers) == sorted(report["filed"])
    assert f"attachments/{sha[:2]}/{sha}" in git(ws, "show", "--name-only", "--format=", "HEAD")
    assert git(ws, "log", "-1", "--format=%an").strip() == "mail-intake"
    assert git(ws, "status", "--porcelain") == ""

    # the customer answers: "Re: ... [ID]" in the subject, the case ID also in References
    case_id = kettle["id"]
    reply = message(
        "Bob Stone <bob@example.com>",
        f"Re: Broken kettle [{case_id}]",
        "Here is the receipt number 4711.",
        "<att-2@example.com>",
        In_Reply_To="<att-1@example.com>",
    )
    by_header = message(
        "bob@example.com",
        "one more thing",
        "It also leaks.",
        "<att-3@example.com>",
        References=f"<{case_id}@x>",
    )
    maildir_with(box, reply, by_header)
    again = run(cli, ws, "--maildir", str(box))
    assert again["filed"] == [] and again["replies"] == [case_id, case_id]
    events = show(cli, ws, case_id)["events"]
    notes = [e for e in events if e["action"] == "customer_note"]
    assert [n["note"] for n in notes] == ["Here is the receipt number 4711.", "It also leaks."]
    assert show(cli, ws, case_id).get("first_response_at") is None  # the customer's mail is not our answer
    assert git(ws, "log", "-1", "--format=%(trailers:key=Cmtool-Case,valueonly)").split() == [case_id]

    # a third run, and one without the ledger (the events decide): nothing new, no commit
    head = git(ws, "rev-parse", "HEAD")
    assert run(cli, ws, "--maildir", str(box))["filed"] == []
    ledger = Path(git(ws, "rev-parse", "--git-common-dir").strip())
    ledger = (ws / ledger if not ledger.is_absolute() else ledger) / "cmtool" / "mail-ledger.json"
    assert "<att-3@example.com>" in ledger.read_text()
    ledger.unlink()
    cli("note", case_id, "We are on it.", "--actor", "alice", cwd=ws)  # HEAD moves past the ledger
    third = run(cli, ws, "--maildir", str(box))
    assert third["filed"] == [] and third["replies"] == [] and len(third["duplicates"]) == 6
    assert git(ws, "rev-list", "--count", f"{head.strip()}..HEAD").strip() == "1"  # only the note
    done = cli("audit", "verify", cwd=ws)
    assert done.code == 0, done.out + done.err


def test_mbox_shares_the_ledger_and_lists_what_is_too_large(ws, cli, tmp_path):
    rules = ws / "rules.yaml"
    rules.write_text(rules.read_text().replace("max_size_mb: 25", "max_size_mb: 0.0005"))
    git(ws, "commit", "-qam", "small attachments")
    box = maildir_with(tmp_path / "Maildir", html_only())
    assert len(run(cli, ws, "--maildir", str(box))["filed"]) == 1
    mbox = mailbox.mbox(tmp_path / "inbox.mbox", create=True)
    for msg in (html_only(), with_attachment()):
        mbox.add(msg.as_bytes())
    mbox.flush()
    report = run(cli, ws, "--mbox", str(tmp_path / "inbox.mbox"))
    assert report["duplicates"] == ["mbox:1"] and len(report["filed"]) == 1
    assert report["not_kept"] == [{"case": report["filed"][0], "file": "kettle.png", "bytes": len(PNG)}]
    attach = next(e for e in show(cli, ws, report["filed"][0])["events"] if e["action"] == "attach")
    assert attach["files"] == [] and attach["not_kept"][0]["name"] == "kettle.png"
    assert not (ws / "attachments").exists()
    text = cli("intake", "mail", "--mbox", str(tmp_path / "inbox.mbox"), cwd=ws).out
    assert "0 filed, 0 replies, 2 already taken, 0 skipped" in text


def test_intake_settings_are_checked_with_line_numbers(ws, cli):
    rules = ws / "rules.yaml"
    text = rules.read_text()
    rules.write_text(
        text
        + "\nintake:\n  mail:\n    host: imap.example.com\n    port: 99999\n    username: c@example.com\n"
        "    password_env: not a name\n  web:\n    rate_limit: 0\n"
    )
    line = len(text.splitlines()) + 2
    done = cli("validate", cwd=ws)
    assert done.code != 0
    out = done.out + done.err
    assert f"rules.yaml:{line + 3}" in out and "intake.mail.port" in out
    assert f"rules.yaml:{line + 5}" in out and "intake.mail.password_env" in out
    assert "intake.web.rate_limit" in out
    git(ws, "checkout", "rules.yaml")
    missing = cli("intake", "mail", "--imap", cwd=ws)
    assert missing.code == 2 and "no intake.mail section" in missing.err


DOVECOT_CONF = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
first_valid_uid = 1
mail_location = maildir:{root}/Maildir
passdb {{
  driver = static
  args = password=imap-secret
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={root}/home
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


@pytest.fixture
def imap_server():
    """Debian's dovecot serving a Maildir on a free 127.0.0.1 port, as ``nobody``."""
    import os
    import shutil
    import socket
    import subprocess
    import tempfile
    import time

    dovecot = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
    if dovecot is None:
        pytest.skip("dovecot is not installed (.ci/run installs Debian's dovecot-imapd)")
    if os.geteuid() != 0:
        pytest.skip("dovecot's mail processes need root to switch to the mailbox's user")
    root = Path(tempfile.mkdtemp(prefix="imap", dir="/tmp"))  # short: dovecot's sockets live here
    root.chmod(0o755)  # the mailbox's user must reach its Maildir
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (root / "home").mkdir()
    box = mailbox.Maildir(root / "Maildir", create=True)
    (root / "dovecot.conf").write_text(DOVECOT_CONF.format(root=root, port=port))
    subprocess.run([dovecot, "-c", str(root / "dovecot.conf")], check=True)

    def deliver(*messages: EmailMessage) -> None:
        for msg in messages:
            box.add(msg.as_bytes())
        os.chown(root / "home", 65534, 65534)
        for folder in (root / "Maildir").rglob("*"):
            os.chown(folder, 65534, 65534)
        os.chown(root / "Maildir", 65534, 65534)

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as client:
            if client.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    yield port, deliver
    pid = (root / "run" / "master.pid").read_text().strip()
    subprocess.run(["kill", pid], check=False)
    shutil.rmtree(root, ignore_errors=True)


def test_imap_takes_new_mail_even_when_someone_read_it_first(ws, cli, imap_server):
    import imaplib

    port, deliver = imap_server
    rules = ws / "rules.yaml"
    rules.write_text(
        rules.read_text() + f"\nintake:\n  mail:\n    host: 127.0.0.1\n    port: {port}\n    security: none\n"
        "    username: complaints\n    password_env: TEST_IMAP_PASSWORD\n"
    )
    git(ws, "commit", "-qam", "imap intake")
    deliver(with_attachment(), auto_reply())
    wrong = cli("intake", "mail", "--imap", cwd=ws, env={"TEST_IMAP_PASSWORD": "wrong"})
    assert wrong.code == 2 and "IMAP 127.0.0.1" in wrong.err
    unset = cli("intake", "mail", "--imap", cwd=ws)
    assert unset.code == 2 and "TEST_IMAP_PASSWORD" in unset.err
    env = {"TEST_IMAP_PASSWORD": "imap-secret"}
    done = cli("intake", "mail", "--imap", "--json", cwd=ws, env=env)
    assert done.code == 0, done.err
    first = json.loads(done.out)
    assert len(first["filed"]) == 1 and [s["reason"] for s in first["skipped"]] == [
        "auto-reply (Auto-Submitted: auto-replied)"
    ]
    kettle = show(cli, ws, first["filed"][0])
    assert kettle["title"] == "Broken kettle" and kettle["channel"] == "email"
    server = imaplib.IMAP4("127.0.0.1", port)
    server.login("complaints", "imap-secret")
    server.select("INBOX")
    assert server.uid("SEARCH", None, "UNSEEN")[1] == [b""]  # both marked seen after the commit
    server.logout()
    deliver(
        message("Cai Wen <cai@example.cn>", "账单金额错误", "十一月账单多收了 30 元。", "<imap-2@example.cn>")
    )
    second = json.loads(cli("intake", "mail", "--imap", "--json", cwd=ws, env=env).out)
    assert len(second["filed"]) == 1 and second["skipped"] == [] and second["duplicates"] == []
    assert show(cli, ws, second["filed"][0])["title"] == "账单金额错误"
    # Someone opens a new complaint in their mail client before the cron run: it is
    # marked seen, and is taken all the same (new is what came after the last run).
    deliver(
        message("Dai Lu <dai@example.cn>", "Refund never arrived", "Still waiting.", "<imap-3@example.cn>"),
        message("Eli Ma <eli@example.cn>", "Wrong size", "Sent size M, ordered L.", "<imap-4@example.cn>"),
    )
    server = imaplib.IMAP4("127.0.0.1", port)
    server.login("complaints", "imap-secret")
    server.select("INBOX")
    unseen = server.uid("SEARCH", None, "UNSEEN")[1][0].split()
    assert len(unseen) == 2
    server.uid("STORE", unseen[0], "+FLAGS", "(\\Seen)")
    server.logout()
    third = json.loads(cli("intake", "mail", "--imap", "--json", cwd=ws, env=env).out)
    assert sorted(show(cli, ws, i)["title"] for i in third["filed"]) == ["Refund never arrived", "Wrong size"]
    fourth = json.loads(cli("intake", "mail", "--imap", "--json", cwd=ws, env=env).out)
    assert fourth["filed"] == [] and fourth["duplicates"] == [] and fourth["skipped"] == []
    assert cli("audit", "verify", cwd=ws).code == 0


def test_hostile_and_broken_mail_is_taken_safely_or_reported(ws, cli, tmp_path):
    no_id = (
        b"From: \xff\xfe<x@example.com>\r\nSubject: =?bogus-charset?B?SGVsbG8=?= \x1b[31mred"
        + "\u202e".encode()
        + b"\r\n\r\nbody\r\n"
    )
    shouting = message(
        "Eve <eve@example.com>",
        "A" * 5000 + "\u202egnp.exe",
        "text\x00with\x07controls",
        "<eve-1@example.com>",
    )
    broken_mime = (
        b"From: z@example.com\r\nMessage-ID: <mime-1@example.com>\r\nSubject: broken\r\n"
        b'Content-Type: multipart/mixed; boundary="never-closed"\r\n\r\n--never-closed\r\n'
        b"Content-Type: text/plain; charset=no-such-charset\r\n\r\n\xe4\xbd\xa0\xe5\xa5\xbd\r\n"
    )
    box = maildir_with(tmp_path / "Maildir", no_id, shouting, broken_mime)
    first = run(cli, ws, "--maildir", str(box))
    assert len(first["filed"]) == 3 and first["skipped"] == []
    titles = {show(cli, ws, i)["title"]: show(cli, ws, i) for i in first["filed"]}
    for title, case in titles.items():
        assert len(title) <= 200 and not any(ord(ch) < 32 or 0x202A <= ord(ch) <= 0x202E for ch in title)
        assert "\x00" not in (case.get("description") or "") and "\x07" not in (case.get("description") or "")
    assert (
        "broken" in titles and titles["broken"]["description"].strip() == "你好"
    )  # unknown charset: UTF-8 tried
    again = run(cli, ws, "--maildir", str(box))  # the mail without a Message-ID is known by its content
    assert again["filed"] == [] and len(again["duplicates"]) == 3
    assert cli("audit", "verify", cwd=ws).code == 0
