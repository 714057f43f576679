"""The bundled sample (top-level cases/): varied, valid, consistent with rules.yaml,
reproducible by scripts/build_sample.py, and shipped inside the wheel."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import venv
from collections import Counter
from pathlib import Path

import pytest
import yaml
from conftest import FIXED_NOW, git

from cmtool.model.enums import Status
from cmtool.model.timefmt import parse_time

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "cases"
CJK = re.compile(r"[\u4e00-\u9fff]")
CATEGORIES = {
    "product_quality",
    "service_attitude",
    "logistics",
    "billing",
    "false_advertising",
    "privacy",
    "safety",
}


def sample_files() -> list[Path]:
    return sorted(SAMPLE.glob("*/*/C-*.yaml"))


@pytest.fixture(scope="module")
def sample() -> list[dict]:
    return [yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) for path in sample_files()]


def test_sample_is_large_and_covers_every_status(sample):
    assert len(sample) >= 40
    assert {case["status"] for case in sample} == {status.value for status in Status}
    reopened = [case for case in sample if any(event["action"] == "reopen" for event in case["events"])]
    assert len(reopened) >= 3
    # Reopened cases end in different places: still open, resolved again, closed again.
    assert len({case["status"] for case in reopened}) >= 3


def test_sample_mixes_languages_channels_and_categories(sample):
    titles = [case["title"] for case in sample]
    assert sum(bool(CJK.search(title)) for title in titles) >= 10
    assert sum(not CJK.search(title) for title in titles) >= 10
    assert any(CJK.search(case.get("description") or "") for case in sample)
    channels = Counter(case["channel"] for case in sample)
    assert {"phone", "email", "web", "app", "social", "regulator", "letter"} <= set(channels)
    assert {case["category"] for case in sample} == CATEGORIES
    assert {case["priority"] for case in sample} == {"low", "normal", "high", "critical"}
    assert any(c["priority"] == "critical" and c["category"] == "safety" for c in sample)
    assert sum(case.get("customer_tier") == "vip" for case in sample) >= 3
    regions = {case["region"] for case in sample}
    assert {"Shanghai", "Beijing", "Guangzhou", "London", "Manchester", "New York"} <= regions
    regimes = {regime for case in sample for regime in case.get("regimes") or ()}
    assert {"fca_disp", "cfpb", "cn_banking"} <= regimes


def test_sample_outcomes_are_realistic(sample):
    done = [case for case in sample if case["status"] in ("resolved", "closed")]
    assert {case.get("upheld") for case in done} >= {True, False}
    assert sum(isinstance(case.get("redress"), (int, float)) for case in done) >= 5
    assert all(case.get("resolution") for case in done)
    assert sum(bool(case.get("root_cause")) for case in done) >= 10
    assert any(case.get("escalation_level") for case in sample)
    surveyed = [case for case in sample if case.get("surveyed_at")]
    assert len(surveyed) >= 5
    assert {case["status"] for case in surveyed} == {"closed"}
    assert all(case["csat"] in range(1, 6) and case["nps"] in range(11) for case in surveyed)
    assert any(CJK.search(case.get("survey_comment") or "") for case in surveyed)
    waiting = [case for case in sample if case["status"] == "waiting"]
    assert waiting and all(case.get("waiting_reason") for case in waiting)
    # Open cases that were contacted carry the first-response time; new ones have no owner.
    for case in sample:
        if case["status"] == "new":
            assert case.get("assignee") is None, case["id"]
        if case["status"] in ("in_progress", "waiting", "resolved", "closed"):
            assert case.get("first_response_at"), case["id"]


def test_sample_timelines_fit_the_test_clock(sample):
    now = parse_time(FIXED_NOW)
    months = set()
    for case in sample:
        filed = parse_time(case["filed_at"])
        months.add((filed.year, filed.month))
        times = [parse_time(event["at"]) for event in case["events"]]
        assert times == sorted(times), case["id"]
        assert times[-1] <= now, f"{case['id']} has an event after the tests' fixed clock"
        assert case["events"][0]["action"] == "file"
        assert case["id"].startswith("C-" + filed.strftime("%y%m%d"))
    assert months == {(2025, month) for month in range(6, 12)}


def test_sample_agrees_with_bundled_rules(sample):
    """Teams, people, categories and regimes in the sample are the ones rules.yaml defines."""
    rules = yaml.safe_load((REPO / "rules.yaml").read_text(encoding="utf-8")) or {}
    if not rules.get("teams") or not rules.get("people"):
        pytest.skip("rules.yaml defines no teams/people yet")
    teams, people = set(rules["teams"]), set(rules["people"])
    system = set((rules.get("audit") or {}).get("system_actors") or ["cmtool"])
    for case in sample:
        where = f"{case['id']} ({case['title']})"
        assert case["category"] in rules["categories"], where
        assert case["team"] in teams, where
        assert rules["categories"][case["category"]].get("team") == case["team"] or any(
            event["action"] == "edit" and "team" in (event.get("changes") or {}) for event in case["events"]
        ), where
        assert case.get("assignee") in people | {None}, where
        assert {event["actor"] for event in case["events"]} <= people | system, where
        assert set(case.get("regimes") or ()) <= set(rules.get("regimes") or {}), where


def test_no_placeholder_and_bundled_link_points_at_the_sample():
    assert not (SAMPLE / ".gitkeep").exists()
    bundled = REPO / "cmtool" / "bundled" / "cases"
    assert bundled.resolve() == SAMPLE.resolve()


def test_tour_names_real_sample_cases():
    """docs/tour.md pastes output from the demo: its IDs must be the sample's (rebuilding
    the sample changes every ID, and the tour must then be re-run)."""
    tour = (REPO / "docs" / "tour.md").read_text(encoding="utf-8")
    tour = re.sub(r"IDs look like C-\S+", "", tour)  # the error message's example ID
    named = set(re.findall(r"C-\d{6}-[0-9A-HJKMNP-TV-Z]{7}", tour))
    unknown = named - {path.stem for path in sample_files()}
    assert len(named) >= 5
    assert len(unknown) <= 1, f"not in the sample (only the case the tour files may be): {unknown}"


def test_init_sample_validates_clean_and_commits_every_case(cli, tmp_path):
    root = tmp_path / "team"
    result = cli("init", "--sample", str(root))
    assert result.code == 0, result.err
    result = cli("validate", "--json", "--workspace", str(root))
    assert result.code == 0, result.out + result.err
    report = json.loads(result.out)
    assert report["problems"] == []
    assert report["checked"] == len(sample_files())
    assert git(root, "status", "--porcelain") == ""
    trailers = git(root, "log", "-1", "--format=%(trailers:key=Cmtool-Case,valueonly)")
    assert set(trailers.split()) == {path.stem for path in sample_files()}
    listed = cli("list", "--json", "--status", "waiting", "--workspace", str(root))
    assert listed.code == 0, listed.err
    waiting = json.loads(listed.out)
    assert waiting and {row["status"] for row in waiting} == {"waiting"}


def test_demo_builds_from_the_sample(cli, tmp_path):
    result = cli("demo", str(tmp_path / "demo"))
    assert result.code == 0, result.err
    assert f"{len(sample_files())} case files" in result.out
    assert "0 problems" in result.out


def test_build_script_plays_stories_through_the_services(tmp_path):
    """A few real stories (reopened, surveyed, waiting, new) rebuilt from scratch."""
    stories = yaml.safe_load((REPO / "scripts" / "sample_stories.yaml").read_text("utf-8"))
    picked = [
        next(s for s in stories if "reopen" in s and s["status"] == "closed"),
        next(s for s in stories if "survey" in s),
        next(s for s in stories if s["status"] == "waiting"),
        next(s for s in stories if s["status"] == "new"),
    ]
    subset = tmp_path / "stories.yaml"
    subset.write_text(yaml.safe_dump(picked, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "cases"
    out.mkdir()
    (out / ".gitkeep").write_text("")
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "build_sample.py"),
            "--stories",
            str(subset),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "4 sample cases written" in done.stdout
    assert not (out / ".gitkeep").exists()
    built = {}
    for path in out.glob("*/*/C-*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        built[data["title"]] = data
    assert [built[s["title"]]["status"] for s in picked] == ["closed", "closed", "waiting", "new"]
    reopened = built[picked[0]["title"]]
    actions = [event["action"] for event in reopened["events"]]
    assert actions.count("resolve") == 2 and actions.count("close") == 2
    assert reopened["redress"] == picked[0]["reopen"]["redress"]
    surveyed = built[picked[1]["title"]]
    assert [e["action"] for e in surveyed["events"]][-2:] == ["survey_invite", "survey"]
    assert (surveyed["csat"], surveyed["nps"]) == (picked[1]["survey"]["csat"], picked[1]["survey"]["nps"])


WHERE_FROM = """
import json, importlib
names = ["cmtool", "typer", "ruamel.yaml", "yaml", "git", "jinja2", "openpyxl", "holidays", "rich"]
print(json.dumps({n: importlib.import_module(n).__file__ for n in names}))
"""


def test_sample_works_from_an_installed_wheel(tmp_path):
    """The wheel carries rules.yaml, templates and the sample (bundled/ is symlinks)."""
    # Build from a snapshot: colleagues may be editing or building in the checkout.
    source = tmp_path / "source"
    shutil.copytree(
        REPO,
        source,
        symlinks=True,
        ignore=shutil.ignore_patterns(
            ".git",
            ".venv",
            "build",
            "dist",
            "*.egg-info",
            "__pycache__",
            ".*_cache",
            "bench-work",
            "cmtool-demo",
        ),
    )
    wheels = tmp_path / "wheels"
    pip = [sys.executable, "-m", "pip"]
    build = subprocess.run(
        [*pip, "wheel", "--no-deps", "-q", "-w", str(wheels), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = wheels.glob("cmtool-*.whl")
    # A venv of its own, as on a machine whose Python has only pip: the wheel's
    # dependencies come from the package index pip is configured with, never from
    # the interpreter running the tests.
    env_dir = tmp_path / "venv"
    venv.create(env_dir, system_site_packages=False, with_pip=False)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [*pip, "--python", str(python), "install", "-q", str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr
    outside = tmp_path / "elsewhere"  # not the checkout, so the checkout cannot be imported
    outside.mkdir()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    where = subprocess.run(
        [str(python), "-c", WHERE_FROM],
        cwd=outside,
        env=clean,
        capture_output=True,
        text=True,
    )
    assert where.returncode == 0, where.stderr
    for name, origin in json.loads(where.stdout).items():
        assert origin.startswith(str(env_dir)), f"{name} imported from {origin}, outside the venv"

    root = outside / "ws"
    done = subprocess.run(
        [str(env_dir / "bin" / "cmtool"), "init", "--sample", str(root)],
        cwd=outside,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    copied = sorted(path.relative_to(root) for path in (root / "cases").glob("*/*/C-*.yaml"))
    assert copied == sorted(path.relative_to(source) for path in source.glob("cases/*/*/C-*.yaml"))
    assert len(copied) >= 40
    assert (root / "rules.yaml").read_bytes() == (source / "rules.yaml").read_bytes()
    templates = sorted(p.relative_to(source) for p in (source / "templates").rglob("*") if p.is_file())
    assert templates, "the project ships templates"
    for rel in templates:
        assert (root / rel).read_bytes() == (source / rel).read_bytes(), rel
    check = subprocess.run(
        [str(env_dir / "bin" / "cmtool"), "validate", "-w", str(root)],
        cwd=outside,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr
