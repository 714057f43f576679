"""The dashboard as a manager opens it: the demo writes one self-contained HTML
page, and a real browser (Debian's chromium, headless) draws its charts."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
]
BLUE, GREEN = (0x2F, 0x6F, 0xB0), (0x2E, 0x8B, 0x57)  # the received and closed bars


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    import os
    import sys

    root = tmp_path_factory.mktemp("dash") / "demo"
    env = {k: v for k, v in os.environ.items() if k != "CMTOOL_NOW"}
    done = subprocess.run(
        [sys.executable, "-m", "cmtool", "demo", str(root)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return root


def test_demo_writes_a_self_contained_dashboard(demo):
    page = next((demo / "reports").glob("dashboard-*.html"))
    html = page.read_text(encoding="utf-8")
    parser = Tags()
    parser.feed(html)
    tags = [t for t, _ in parser.tags]
    # Nothing to fetch: no script, no external style sheet, image or font.
    assert "script" not in tags and "link" not in tags and "img" not in tags
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", html)
    assert "@import" not in html and "url(" not in html
    assert tags.count("svg") >= 4 and tags.count("rect") >= 10
    # What it stands on: period, as-at, data commit, the audit line.
    commit = re.search(r"Data commit <code>([0-9a-f]{12})</code>", html)
    assert commit and "As at" in html and "audit verify at" in html
    exists = subprocess.run(["git", "cat-file", "-e", f"{commit.group(1)}^{{commit}}"], cwd=demo)
    assert exists.returncode == 0  # a commit of the workspace's history
    # The same figures as `cmtool stats` for the period.
    period = page.stem.removeprefix("dashboard-")
    as_at = re.search(r"As at (\S+) \(", html).group(1)
    asked = ["cmtool", "stats", "--period", period, "--now", as_at, "--as-of", commit.group(1), "--json"]
    stats = json.loads(subprocess.run(asked, cwd=demo, capture_output=True, text=True, check=True).stdout)
    tiles = {
        label: value
        for value, label in re.findall(r'<div class="n">([^<]+)</div><div class="k">([^<]+)</div>', html)
    }
    assert [tiles["Received"], tiles["Closed"], tiles["Open at end"]] == [
        str(stats["received"]),
        str(stats["closed"]),
        str(stats["open_at_end"]),
    ]
    # Customer details are masked: no contact of the sample appears.
    assert "+86 138" not in html and "@" not in re.sub(r"<[^>]+>", "", html).replace("@import", "")


def test_a_real_browser_draws_the_dashboard(demo, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (.ci/run installs Debian's chromium)")
    from PIL import Image

    page = next((demo / "reports").glob("dashboard-*.html"))
    shot = tmp_path / "dashboard.png"
    done = subprocess.run(
        [
            browser,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1280,1400",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shot.exists(), done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == [], console
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 1400)
    colours = image.getcolors(maxcolors=1 << 20) or []
    count = {rgb: n for n, rgb in colours}
    # The bars are there in their colours: drawn, not just written.
    assert count.get(BLUE, 0) > 2000 and count.get(GREEN, 0) > 500, sorted(colours)[-5:]
