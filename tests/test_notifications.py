"""Notifications that arrive: a real SMTP server (aiosmtpd) and a real HTTP server
on 127.0.0.1 receive exactly one message per new rung across sweeps; a failed
delivery is reported and retried by the next sweep; --dry-run sends nothing."""

from __future__ import annotations

import email
import json
import socket
import threading
from collections.abc import Iterator
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import git, put_rules_sections

FILED = "2025-11-21T17:30:00+08:00"  # critical: first response due 19:30 (2 h, 24x7)
WARN_AT = "2025-11-21T19:10:00+08:00"  # past 80 % (19:06): the warn rung
QUIET_AT = "2025-11-21T19:20:00+08:00"  # same rung: nothing new
BREACH_AT = "2025-11-21T20:30:00+08:00"  # past 19:30: the breach rung
SHAPES = ("generic", "dingtalk", "wecom", "slack", "teams")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    def __init__(self) -> None:
        self.mails: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.mails.append(message)
        return "250 OK"


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def inbox(smtp_port) -> Iterator[Inbox]:
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield box
    controller.stop()


class Hooks:
    def __init__(self) -> None:
        self.posts: list[tuple[str, dict]] = []
        self.fail_next: dict[str, int] = {}


@pytest.fixture
def hooks() -> Iterator[tuple[Hooks, int]]:
    seen = Hooks()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if seen.fail_next.get(self.path, 0) > 0:
                seen.fail_next[self.path] -= 1
                self.send_response(503)
                self.end_headers()
                return
            seen.posts.append((self.path, body))
            reply = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield seen, server.server_address[1]
    server.shutdown()
    server.server_close()


def configure(ws, smtp_port: int, http_port: int) -> None:
    hooks = "\n".join(
        f"    - {{name: {shape}-chat, shape: {shape}, url: 'http://127.0.0.1:{http_port}/{shape}'}}"
        for shape in SHAPES
    )
    rules = ws / "rules.yaml"
    rules.write_text(
        rules.read_text(encoding="utf-8")
        + f"""
notifications:
  language: en
  email:
    host: 127.0.0.1
    port: {smtp_port}
    security: none
    sender: Complaints <complaints@example.com>
  webhooks:
{hooks}
""",
        encoding="utf-8",
    )
    git(ws, "commit", "-qam", "notifications")


@pytest.fixture
def critical(ws, cli, smtp_port, hooks):
    """Filed (and routed to alice) before notifications are set up, then set up."""
    result = cli("file", "--title", "Kettle caught fire", "--channel", "phone", "--actor", "alice", cwd=ws)
    assert result.code == 0, result.err
    case_id = result.out.strip()
    assert "safety" in cli("show", case_id, cwd=ws).out
    configure(ws, smtp_port, hooks[1])
    return case_id


def sweep(cli, ws, now, *extra):
    result = cli("sla", "check", "--apply", "--jsonl", "--actor", "sla-bot", "--now", now, *extra, cwd=ws)
    records = [json.loads(line) for line in result.out.splitlines()]
    return result, [r for r in records if r["type"] == "notification"], records[-1]


def test_one_message_per_new_rung_across_three_sweeps(ws, cli, inbox, hooks, critical):
    seen, _port = hooks
    _result, sent, summary = sweep(cli, ws, WARN_AT)
    assert {(n["channel"], n["recipient"], n["status"]) for n in sent} == {
        ("email", "alice@example.com", "sent"),
        *((f"webhook:{s}-chat", f"{s}-chat", "sent") for s in SHAPES),
    }
    assert summary["notifications"]["sent"] == 6
    _result, sent, _summary = sweep(cli, ws, QUIET_AT)
    assert sent == []
    _result, sent, _summary = sweep(cli, ws, BREACH_AT)
    assert {n["recipient"] for n in sent if n["channel"] == "email"} == {
        "alice@example.com",
        "dana@example.com",
    }

    # What arrived: alice got the warning and the breach, dana (the team lead) the breach.
    got = sorted((str(m["To"]), str(m["Subject"])) for m in inbox.mails)
    assert got == [
        ("alice@example.com", f"[SLA breach] {critical}: first_response"),
        ("alice@example.com", f"[SLA warning] {critical}: first_response"),
        ("dana@example.com", f"[SLA breach] {critical}: first_response"),
    ]
    breach = next(m for m in inbox.mails if str(m["To"]) == "dana@example.com")
    assert str(breach["From"]) == "Complaints <complaints@example.com>"
    body = breach.get_content()
    assert "Kettle caught fire" in body and "2025-11-21T19:30:00+08:00" in body

    # Each webhook: two posts (warning, breach), in its own shape.
    by_path: dict[str, list[dict]] = {}
    for path, payload in seen.posts:
        by_path.setdefault(path, []).append(payload)
    assert {path: len(posts) for path, posts in by_path.items()} == {f"/{s}": 2 for s in SHAPES}
    generic = by_path["/generic"][1]
    assert (generic["case_id"], generic["clock"], generic["rung"], generic["state"]) == (
        critical,
        "first_response",
        "breach",
        "breached",
    )
    assert generic["notify"] == ["alice", "dana"]
    for shape in ("dingtalk", "wecom"):
        assert by_path[f"/{shape}"][1]["msgtype"] == "text"
        assert by_path[f"/{shape}"][1]["text"]["content"].startswith(f"[SLA breach] {critical}")
    assert by_path["/slack"][1]["text"].startswith(f"[SLA breach] {critical}")
    card = by_path["/teams"][1]["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["body"][0]["text"] == f"[SLA breach] {critical}: first_response"

    # the record is the clone's own; history stays clean and verified
    assert git(ws, "status", "--porcelain") == ""
    assert cli("audit", "verify", cwd=ws).code == 0


def test_a_failed_delivery_is_reported_and_retried_next_sweep(ws, cli, smtp_port, hooks, critical):
    seen, _port = hooks
    seen.fail_next["/slack"] = 1  # the chat service is down for the first sweep
    result, sent, summary = sweep(cli, ws, WARN_AT)  # and no SMTP server listens yet
    failed = {(n["channel"], n["status"]) for n in sent if n["status"] != "sent"}
    assert failed == {("email", "failed"), ("webhook:slack-chat", "failed")}
    assert summary["notifications"]["failed"] == 2
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        result, sent, _summary = sweep(cli, ws, QUIET_AT)  # nothing new is due: only the retries
        assert sorted((n["channel"], n["status"]) for n in sent) == [
            ("email", "sent"),
            ("webhook:slack-chat", "sent"),
        ]
        result, sent, _summary = sweep(cli, ws, QUIET_AT)
        assert sent == []
    finally:
        controller.stop()
    assert [(str(m["To"]), str(m["Subject"])) for m in box.mails] == [
        ("alice@example.com", f"[SLA warning] {critical}: first_response")
    ]
    assert [path for path, _body in seen.posts].count("/slack") == 1


def test_dry_run_shows_what_would_be_sent_and_sends_nothing(ws, cli, inbox, hooks, critical):
    seen, _port = hooks
    before = git(ws, "rev-parse", "HEAD")
    result = cli("sla", "check", "--apply", "--dry-run", "--now", WARN_AT, cwd=ws)
    assert result.code == 0, result.err
    assert "would notify alice@example.com (email)" in result.err
    assert f"would apply warn to {critical} first_response" in result.err
    assert git(ws, "rev-parse", "HEAD") == before
    assert inbox.mails == [] and seen.posts == []


def test_assign_and_escalate_tell_the_new_owner(ws, cli, inbox, hooks, critical):
    # routing at filing assigns: the second safety case goes to chen.jie (quality's
    # round robin: alice has a case, chen.jie none yet), who hears of it
    filed = cli("file", "--title", "Charger caught fire", "--channel", "phone", "--actor", "alice", cwd=ws)
    assert filed.code == 0 and "notified chen.jie@example.com (email)" in filed.err
    second = filed.out.strip()
    assert [(str(m["To"]), str(m["Subject"])) for m in inbox.mails] == [
        ("chen.jie@example.com", f"Assigned to you: {second} Charger caught fire")
    ]
    inbox.mails.clear()
    done = cli("assign", critical, "--to", "bob", "--actor", "dana", cwd=ws)
    assert done.code == 0, done.err
    assert "notified bob@example.com (email)" in done.err
    done = cli("escalate", critical, "--to", "omar", "--reason", "fire risk", "--actor", "dana", cwd=ws)
    assert done.code == 0, done.err
    subjects = [(str(m["To"]), str(m["Subject"])) for m in inbox.mails]
    assert subjects == [
        ("bob@example.com", f"Assigned to you: {critical} Kettle caught fire"),
        ("omar@example.com", f"Escalated to you: {critical} Kettle caught fire"),
    ]
    assert "Reason: fire risk" in inbox.mails[1].get_content()


def test_the_notifications_section_is_validated_with_line_numbers(ws, cli):
    rules = ws / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    rules.write_text(
        text + "notifications:\n  email:\n    host: smtp.example.com\n    sender: nobody\n"
        "    pasword_env: SMTP_PASSWORD\n  webhooks:\n    - {name: chat, shape: telegram}\n",
        encoding="utf-8",
    )
    start = text.count("\n") + 1
    result = cli("validate", cwd=ws)
    assert result.code == 1
    assert f"rules.yaml:{start + 3}: RULES_INVALID notifications.email.sender:" in result.out
    assert f"rules.yaml:{start + 4}: RULES_UNKNOWN_KEY notifications.email.pasword_env:" in result.out
    assert "notifications.webhooks[0].shape: 'telegram' is not one of" in result.out
    assert "give exactly one of url: or url_env:" in result.out


def test_the_documented_example_is_valid(ws, cli):
    """The copyable notifications: example of docs/sla.md passes validate as written."""
    import re
    from pathlib import Path

    docs = (Path(__file__).resolve().parent.parent / "docs" / "sla.md").read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(notifications:\n.*?)```", docs, re.DOTALL)
    assert example
    rules = ws / "rules.yaml"
    put_rules_sections(rules, example.group(1))
    result = cli("validate", cwd=ws)
    assert result.code == 0, result.out + result.err


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for 127.0.0.1, trusted by the CLI through SSL_CERT_FILE."""
    import shutil
    import subprocess

    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed: cannot make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_email_over_tls_with_a_password_from_the_environment(ws, cli, certificate, security):
    import ssl

    from aiosmtpd.smtp import AuthResult, LoginPassword

    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    logins = []

    def authenticator(server, session, envelope, mechanism, data):
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"complaints", b"s3cret")
        logins.append((mechanism, ok))
        return AuthResult(success=ok)

    box, port = Inbox(), free_port()
    # aiosmtpd cannot tell an implicit-TLS (ssl) session is encrypted, so it is
    # told to offer AUTH there; with starttls it refuses AUTH before the upgrade.
    if security == "starttls":
        tls = {"tls_context": context, "require_starttls": True, "auth_require_tls": True}
    else:
        tls = {"ssl_context": context, "auth_require_tls": False}
    controller = Controller(box, hostname="127.0.0.1", port=port, authenticator=authenticator, **tls)
    case_id = cli("file", "--title", "Parcel lost", "--actor", "alice", cwd=ws).out.strip()
    rules = ws / "rules.yaml"
    rules.write_text(
        rules.read_text(encoding="utf-8")
        + f"""
notifications:
  email:
    host: 127.0.0.1
    port: {port}
    security: {security}
    sender: complaints@example.com
    username: complaints
    password_env: CMTOOL_SMTP_PASSWORD
""",
        encoding="utf-8",
    )
    git(ws, "commit", "-qam", "notifications over TLS")
    env = {"SSL_CERT_FILE": str(cert), "CMTOOL_SMTP_PASSWORD": "s3cret"}
    controller.start()
    try:
        done = cli("assign", case_id, "--to", "bob", "--actor", "dana", cwd=ws, env=env)
        wrong = cli(
            "assign",
            case_id,
            "--to",
            "alice",
            "--actor",
            "dana",
            cwd=ws,
            env={**env, "CMTOOL_SMTP_PASSWORD": "x"},
        )
    finally:
        controller.stop()
    assert done.code == 0 and "notified bob@example.com (email)" in done.err, done.err
    assert [str(m["To"]) for m in box.mails] == ["bob@example.com"]
    assert wrong.code == 0  # the assignment stands; the message failed and says why
    assert "notification to alice@example.com (email) failed: SMTP" in wrong.err
    assert [ok for _mechanism, ok in logins] == [True, False]
    assert "s3cret" not in git(ws, "log", "-p", "--all")


def test_a_failed_message_whose_channel_left_the_rules_is_dropped_once(ws, cli, inbox, hooks, critical):
    seen, _port = hooks
    seen.fail_next["/teams"] = 1
    _result, sent, _summary = sweep(cli, ws, WARN_AT)
    assert [n["status"] for n in sent if n["channel"] == "webhook:teams-chat"] == ["failed"]
    rules = ws / "rules.yaml"
    rules.write_text(
        "\n".join(line for line in rules.read_text(encoding="utf-8").splitlines() if "teams-chat" not in line)
        + "\n",
        encoding="utf-8",
    )
    git(ws, "commit", "-qam", "no more Teams")
    _result, sent, summary = sweep(cli, ws, QUIET_AT)
    assert [(n["channel"], n["status"]) for n in sent] == [("webhook:teams-chat", "dropped")]
    _result, sent, _summary = sweep(cli, ws, QUIET_AT)
    assert sent == []
    assert [path for path, _body in seen.posts].count("/teams") == 0


def test_each_reader_is_told_only_what_their_role_may_read(ws, cli, inbox, hooks, critical):
    """privacy.need_to_know reaches notifications: an agent who may not read the
    customer's details or the notes gets them masked, a manager (no limit) in
    clear, and a chat channel, whose readers are unknown, what every role may read."""
    rules = ws / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    assert "    agent: [customer, contact, description, notes, resolution]\n" in text
    rules.write_text(
        text.replace("agent: [customer, contact, description, notes", "agent: [description"), "utf-8"
    )
    messages = ws / "templates" / "messages"
    messages.mkdir(parents=True, exist_ok=True)
    (messages / "assigned.en.txt.j2").write_text(
        "Subject: {{ case.id }} to {{ case.assignee }}\n\n"
        "Customer: {{ case.customer }} / {{ case.contact }}\nReason: {{ reason }}\n",
        encoding="utf-8",
    )
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "agents see no customer details; a template that would show them")
    filed = cli(
        "file",
        "--title",
        "Kettle sparks",
        "--channel",
        "phone",
        "--customer",
        "Zhang Wei",
        "--contact",
        "13800138000",
        "--actor",
        "dana",
        cwd=ws,
    )
    assert filed.code == 0, filed.err
    case_id = filed.out.strip()
    inbox.mails.clear()
    hooks[0].posts.clear()
    for to in ("li.na", "omar"):
        done = cli(
            "escalate", case_id, "--to", to, "--reason", "Zhang Wei rang twice", "--actor", "dana", cwd=ws
        )
        assert done.code == 0 and f"notified {to}@example.com (email)" in done.err, done.err
    bodies = {str(m["To"]): m.get_content().replace("\r\n", "\n") for m in inbox.mails}
    assert "Customer: [masked] / [masked]\nReason: [masked]" in bodies["li.na@example.com"]
    assert "Customer: Zhang Wei / 13800138000\nReason: Zhang Wei rang twice" in bodies["omar@example.com"]
    posted = json.dumps([body for _path, body in hooks[0].posts], ensure_ascii=False)
    assert hooks[0].posts and "[masked]" in posted
    assert "Zhang Wei" not in posted and "13800138000" not in posted
    assert cli("audit", "verify", cwd=ws).code == 0
