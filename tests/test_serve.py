"""`cmtool serve` over real HTTP on 127.0.0.1: the form, the API with its token,
limits, the customer status page; and a real headless Chromium filling the form."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import git

TOKEN = "s3cret-token-for-tests"
PUBLIC = "https://complaints.example.test"


def start(ws: Path, rate_limit: int = 30) -> tuple[subprocess.Popen, str]:
    rules = ws / "rules.yaml"
    rules.write_text(
        rules.read_text() + f"\nintake:\n  web:\n    public_url: {PUBLIC}\n    token_env: CMTOOL_TEST_TOKEN\n"
        f"    max_body_kb: 4\n    rate_limit: {rate_limit}\n"
    )
    git(ws, "commit", "-qam", "web intake settings")
    env = {k: v for k, v in os.environ.items() if k != "CMTOOL_NOW"}  # the real clock, as a server runs
    env["CMTOOL_TEST_TOKEN"] = TOKEN
    proc = subprocess.Popen(
        [sys.executable, "-m", "cmtool", "serve", "--port", "0"],
        cwd=ws,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    assert match, line + proc.stderr.read()
    return proc, f"http://127.0.0.1:{match.group(1)}"


@pytest.fixture
def server(ws):
    proc, base = start(ws)
    yield base
    proc.terminate()
    proc.wait(10)


def request(url: str, data: bytes | None = None, headers: dict | None = None) -> tuple[int, str, dict]:
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read().decode("utf-8"), dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8"), dict(err.headers)


def post_form(base: str, **fields: str) -> tuple[int, str, dict]:
    body = urllib.parse.urlencode(fields).encode()
    return request(base + "/complaints", body, {"Content-Type": "application/x-www-form-urlencoded"})


def post_api(base: str, payload: dict, token: str | None = TOKEN) -> tuple[int, str, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return request(base + "/api/complaints", json.dumps(payload).encode(), headers)


def test_form_api_and_status_over_http(ws, cli, server):
    status, page, headers = request(server + "/")
    assert (
        status == 200
        and '<html lang="en">' in page
        and "default-src 'none'" in headers["Content-Security-Policy"]
    )
    for name in ("name", "contact", "subject", "description"):
        assert f'<label for="{name}">' in page and f'id="{name}" name="{name}"' in page
    assert "<script" not in page
    status, page, _ = request(server + "/?lang=zh")
    assert '<html lang="zh-CN">' in page and "提交投诉" in page

    # the web form: a Chinese complaint becomes one case, filed as web-intake
    status, page, _ = post_form(
        server,
        lang="zh",
        name="王芳",
        contact="wang.fang@example.cn",
        subject="理财产品销售误导",
        description="销售人员未说明风险。",
    )
    assert status == 201, page
    case_id = re.search(r'id="case-id">(C-[0-9A-Z-]+)<', page).group(1)
    code = re.search(r'id="status-code">([A-Z0-9-]+)<', page).group(1)
    case = json.loads(cli("show", case_id, "--json", cwd=ws).out)
    assert (case["title"], case["customer"], case["channel"]) == ("理财产品销售误导", "王芳", "web")
    assert git(ws, "log", "-1", "--format=%an %s").startswith("web-intake file " + case_id)

    head = git(ws, "rev-parse", "HEAD")
    status, page, _ = post_form(server, lang="en", name="", contact="x@example.com", subject="Late fee")
    assert status == 400 and "Your name: required" in page and 'value="Late fee"' in page
    assert git(ws, "rev-parse", "HEAD") == head  # nothing filed

    # the API: a token is needed, and it files an app complaint
    payload = {"title": "App login fails", "customer": "Li Lei", "contact": "+86 138 0000 0000"}
    assert post_api(server, payload, token=None)[0] == 401
    assert post_api(server, payload, token="wrong")[0] == 401
    status, body, _ = post_api(server, payload)
    assert status == 201, body
    made = json.loads(body)
    assert made["status_url"] == f"{PUBLIC}/status?id={made['id']}" and len(made["status_code"]) == 19
    assert json.loads(cli("show", made["id"], "--json", cwd=ws).out)["channel"] == "app"
    assert post_api(server, {**payload, "password": "x"})[0] == 400
    status, body, _ = request(
        server + "/api/complaints",
        b"{" + b" " * 5000 + b"}",
        {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
    )
    assert status == 413

    # the acknowledgement prints the status address and code; the page lists the letter
    real_clock = {"CMTOOL_NOW": ""}
    letter = cli(
        "letter", case_id, "--kind", "ack", "--language", "en", "--actor", "alice", cwd=ws, env=real_clock
    )
    assert letter.code == 0, letter.err
    assert f"{PUBLIC}/status?id={case_id}" in letter.out and code in letter.out
    query = urllib.parse.urlencode({"id": case_id, "code": code.lower().replace("-", " ")})
    status, page, _ = request(f"{server}/status?{query}")
    assert (
        status == 200 and "acknowledgement" in page and "being looked into" in page
    )  # the letter was a contact
    deadline = re.search(r"<dt>We will answer by</dt><dd>(\d{4}-\d\d-\d\d)</dd>", page).group(1)
    assert deadline >= case["filed_at"][:10]
    assert "王芳" not in page and "wang.fang" not in page and "理财" not in page and "alice" not in page
    other = json.loads(cli("show", made["id"], "--json", cwd=ws).out)["id"]
    for wrong in ({"id": case_id, "code": "AAAA-BBBB-CCCC-DDDD"}, {"id": other, "code": code}):
        status, page, _ = request(f"{server}/status?{urllib.parse.urlencode(wrong)}")
        assert status == 404 and "Li Lei" not in page
    done = cli("audit", "verify", cwd=ws, env=real_clock)
    assert done.code == 0, done.out + done.err
    assert git(ws, "status", "--porcelain") == ""


def test_rate_limit_per_client(ws):
    proc, base = start(ws, rate_limit=2)
    try:
        payload = {"title": "Fee", "customer": "A", "contact": "a@example.com"}
        assert [post_api(base, payload)[0] for _ in range(3)] == [201, 201, 429]
        status, _, headers = request(base + "/status?id=C-251121-AAAAAAA&code=x")
        assert status == 429 and headers["Retry-After"] == "60"
    finally:
        proc.terminate()
        proc.wait(10)


class DevTools:
    """Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe:
    commands on fd 3, replies on fd 4, each a JSON message ended by a NUL byte)."""

    def __init__(self, browser: str, flags: list[str]) -> None:
        to_browser, self.commands = os.pipe()
        self.replies, from_browser = os.pipe()

        def wire() -> None:  # in the child: the pipe ends become fds 3 and 4
            os.dup2(to_browser, 3)
            os.dup2(from_browser, 4)

        self.proc = subprocess.Popen(
            [browser, *flags, "--remote-debugging-pipe", "about:blank"],
            preexec_fn=wire,
            close_fds=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser)
        os.close(from_browser)
        self.buffer, self.next_id, self.events = b"", 0, []

    def send(self, method: str, session: str | None = None, **params) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self.commands, json.dumps(message).encode() + b"\0")
        while True:
            reply = self.receive()
            if reply.get("id") == self.next_id:
                assert "error" not in reply, reply
                return reply["result"]
            self.events.append(reply)

    def receive(self, timeout: float = 30) -> dict:
        import select

        while b"\0" not in self.buffer:
            ready, _, _ = select.select([self.replies], [], [], timeout)
            assert ready, "chromium did not answer"
            chunk = os.read(self.replies, 65536)
            assert chunk, "chromium closed the pipe"
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def wait_for(self, method: str) -> None:
        while True:
            found = next((e for e in self.events if e.get("method") == method), None)
            if found:
                self.events.remove(found)
                return
            self.events.append(self.receive())

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(10)
        os.close(self.commands)
        os.close(self.replies)


def test_a_real_browser_fills_in_and_sends_the_form(ws, cli, server):
    import shutil

    from tests.test_dashboard import CHROMIUM_FLAGS

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (.ci/run installs Debian's chromium)")
    tools = DevTools(browser, CHROMIUM_FLAGS)
    try:
        target = tools.send("Target.createTarget", url="about:blank")["targetId"]
        session = tools.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        tools.send("Page.enable", session)
        tools.send("Page.navigate", session, url=server + "/?lang=zh")
        tools.wait_for("Page.loadEventFired")

        def evaluate(expression: str):
            return tools.send("Runtime.evaluate", session, expression=expression, returnByValue=True)[
                "result"
            ].get("value")

        assert evaluate("document.documentElement.lang") == "zh-CN"
        # every visible control has exactly one label naming it
        assert evaluate(
            "Array.from(document.querySelectorAll('input:not([type=hidden]), textarea'))"
            ".every(e => e.labels.length === 1 && e.labels[0].textContent.trim().length > 0)"
        )
        for field, text in (
            ("name", "赵敏"),
            ("contact", "zhao.min@example.cn"),
            ("subject", "信用卡年费未经同意扣收"),
            ("description", "我从未同意开通收费服务。"),
        ):
            evaluate(f"document.getElementById('{field}').focus()")
            tools.send("Input.insertText", session, text=text)  # typed, as a person does
        evaluate("document.querySelector('button[type=submit]').click()")
        tools.wait_for("Page.loadEventFired")
        case_id = evaluate("document.getElementById('case-id').textContent")
        code = evaluate("document.getElementById('status-code').textContent")
    finally:
        tools.close()
    case = json.loads(cli("show", case_id, "--json", cwd=ws).out)
    assert (case["title"], case["customer"], case["contact"], case["channel"]) == (
        "信用卡年费未经同意扣收",
        "赵敏",
        "zhao.min@example.cn",
        "web",
    )
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", code)
