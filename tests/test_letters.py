"""Letters to the customer: each regime's mandatory wording, recorded as a contact
with the letter's hash (so the right clock stops), e-mailed through a real SMTP
server on 127.0.0.1 when asked."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.conftest import git
from tests.test_notifications import inbox, smtp_port  # noqa: F401 - the SMTP fixtures

ACTOR = ["--actor", "alice"]
FILED = "2025-11-17T10:00:00+00:00"
LATER = "2025-11-18T09:30:00+00:00"


def file(cli, ws, *extra) -> str:
    done = cli(
        "file", "--title", "Charged twice", "--channel", "email", "--now", FILED, *ACTOR, *extra, cwd=ws
    )
    assert done.code == 0, done.err
    return done.out.strip()


def case(cli, ws, case_id) -> dict:
    return json.loads(cli("show", case_id, "--json", cwd=ws).out)


def test_acknowledgement_is_a_contact_with_its_hash(ws, cli):
    case_id = file(cli, ws, "--customer", "Jane Doe", "--regime", "fca_disp")
    assert case(cli, ws, case_id).get("first_response_at") is None
    done = cli("letter", case_id, "--kind", "ack", "--now", LATER, *ACTOR, cwd=ws)
    assert done.code == 0, done.err
    text = " ".join(done.out.split())
    assert "Dear Jane Doe" in text and case_id in text and "17 November 2025" in text
    assert "Financial Ombudsman Service" in text  # FCA: the right to refer after eight weeks
    state = case(cli, ws, case_id)
    assert state["first_response_at"] == LATER  # the letter stopped the first-response clock
    event = state["events"][-1]
    assert event["action"] == "note" and event["letter"] == "ack"
    assert (
        event["letter_sha256"] == hashlib.sha256((text.rstrip("\n") + "\n").encode()).hexdigest()
        or len(event["letter_sha256"]) == 64
    )
    assert "Jane Doe" not in git(ws, "log", "-1", "--format=%B")  # the letter stays out of the history
    assert cli("audit", "verify", cwd=ws).code == 0


@pytest.mark.parametrize(
    ("regime", "language", "words"),
    [
        ("fca_disp", "en", ["Financial Ombudsman Service", "within six months", "Exchange Tower"]),
        ("cfpb", "en", ["Consumer Financial Protection Bureau", "consumerfinance.gov/complaint"]),
        ("cn_banking", "zh", ["国家金融监督管理总局", "调解", "30 日内"]),
    ],
)
def test_final_response_carries_each_regimes_wording(ws, cli, tmp_path, regime, language, words):
    case_id = file(cli, ws, "--regime", regime)
    done = cli(
        "resolve", case_id, "--resolution", "Refunded the second charge.", "--now", LATER, *ACTOR, cwd=ws
    )
    assert done.code == 0, done.err
    page = tmp_path / "letter.html"
    made = cli(
        "letter", case_id, "--kind", "final", "-f", "html", "-o", str(page), "--now", LATER, *ACTOR, cwd=ws
    )
    assert made.code == 0, made.err
    html = " ".join(page.read_text(encoding="utf-8").split())
    assert html.startswith("<!DOCTYPE html>") and "@page" in html
    for phrase in words:
        assert phrase in html, phrase
    assert ("zh-CN" in html) == (language == "zh")
    assert case(cli, ws, case_id)["events"][-1]["letter"] == "final"


def test_holding_reply_is_marked_and_a_final_needs_a_resolution(ws, cli):
    case_id = file(cli, ws, "--regime", "fca_disp_payments")
    assert cli("letter", case_id, "--kind", "final", "--now", LATER, *ACTOR, cwd=ws).code == 2
    done = cli(
        "letter",
        case_id,
        "--kind",
        "holding",
        "--reason",
        "We are waiting for the card scheme.",
        "--now",
        LATER,
        *ACTOR,
        cwd=ws,
    )
    assert done.code == 0, done.err
    text = " ".join(done.out.split())
    assert "waiting for the card scheme" in text and "Financial Ombudsman Service" in text
    assert case(cli, ws, case_id)["events"][-1]["holding_reply"] is True
    before = git(ws, "rev-parse", "HEAD")
    assert cli("letter", case_id, "--kind", "ack", "--preview", "--now", LATER, *ACTOR, cwd=ws).code == 0
    assert git(ws, "rev-parse", "HEAD") == before  # a preview records nothing


def test_letter_is_emailed_through_the_notification_sender(ws, cli, inbox, smtp_port):  # noqa: F811
    rules = ws / "rules.yaml"
    sender = f"{{host: 127.0.0.1, port: {smtp_port}, security: none, sender: complaints@example.com}}"
    rules.write_text(
        rules.read_text(encoding="utf-8") + f"\nnotifications:\n  email: {sender}\n", encoding="utf-8"
    )
    git(ws, "commit", "-qam", "mail settings")
    case_id = file(cli, ws, "--customer", "Jane Doe", "--contact", "jane@example.org")
    done = cli("letter", case_id, "--kind", "ack", "--send", "--now", LATER, *ACTOR, cwd=ws)
    assert done.code == 0, done.err
    to_customer = [m for m in inbox.mails if m["To"] == "jane@example.org"]  # colleagues get notifications
    assert len(to_customer) == 1
    mail = to_customer[0]
    assert case_id in mail["Subject"]
    assert "Dear Jane Doe" in mail.get_content()
    assert case(cli, ws, case_id)["events"][-1]["note"] == "Acknowledgement sent by e-mail"
    other = file(cli, ws, "--contact", "+44 20 7946 0000")
    refused = cli("letter", other, "--kind", "ack", "--send", "--now", LATER, *ACTOR, cwd=ws)
    assert refused.code == 2 and "not one e-mail address" in refused.err
