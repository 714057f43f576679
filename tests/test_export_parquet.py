"""`cmtool export --format parquet`: real exports of the demo workspace, read back
with pyarrow and queried with DuckDB as a warehouse would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from cmtool.model.enums import OPEN_STATUSES
from tests.conftest import git

UTC_TIME = pa.timestamp("us", tz="UTC")
WORDS = pa.dictionary(pa.int32(), pa.string())
PERSONAL = ("customer", "contact", "description", "resolution", "survey_comment")


@pytest.fixture(scope="module")
def demo_master(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("parquet") / "demo"
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


@pytest.fixture
def demo(demo_master, tmp_path) -> Path:
    root = tmp_path / "demo"
    shutil.copytree(demo_master, root, symlinks=True)
    return root


def case_files(root: Path) -> dict[str, dict]:
    return {
        p.stem: yaml.safe_load(p.read_text(encoding="utf-8"))
        for p in sorted((root / "cases").rglob("*.yaml"))
    }


def export(cli, root: Path, out: Path, *args: str, env: dict | None = None) -> tuple[pa.Table, pa.Table]:
    done = cli("export", "--format", "parquet", "-o", str(out), *args, cwd=root, env=env)
    assert done.code == 0, done.err
    cases = sorted(out.glob("cases-*.parquet"), key=os.path.getmtime)[-1]
    events = sorted(out.glob("events-*.parquet"), key=os.path.getmtime)[-1]
    return pq.read_table(cases), pq.read_table(events)


def test_every_case_and_event_with_exact_types(cli, demo, tmp_path):
    files = case_files(demo)
    cases, events = export(cli, demo, tmp_path / "out", env={"CMTOOL_ACTOR": "dana"})
    assert cases.num_rows == len(files)
    assert sorted(cases.column("id").to_pylist()) == sorted(files)
    assert events.num_rows == sum(len(f["events"]) for f in files.values())

    for name in ("filed_at", "closed_at", "last_event_at", "responded_at"):
        assert cases.schema.field(name).type == UTC_TIME, name
    assert cases.schema.field("filed_at_offset").type == pa.int16()
    assert cases.schema.field("redress").type == pa.decimal128(18, 4)
    for name in ("status", "priority", "channel", "redress_currency", "team", "assignee", "data_commit"):
        assert cases.schema.field(name).type == WORDS, name
    assert cases.schema.field("tags").type == pa.list_(pa.string())
    clock = cases.schema.field("clocks").type.value_type
    assert clock.field("due_at").type == UTC_TIME and clock.field("advisory").type == pa.bool_()
    assert events.schema.field("event_at").type == UTC_TIME
    assert events.schema.field("action").type == WORDS

    # One case read by hand from its file: the instant, the offset it was written with.
    by_id = {row["id"]: row for row in cases.to_pylist()}
    for case_id, data in files.items():
        row = by_id[case_id]
        written = datetime.fromisoformat(data["filed_at"])
        assert row["filed_at"] == written and row["filed_at"].utcoffset() == timedelta(0)
        assert row["filed_at_offset"] * 60 == written.utcoffset().total_seconds()
        assert row["status"] == data["status"] and row["event_count"] == len(data["events"])
    # Money: exact decimals, never floats, each with its currency: the case's own, else
    # its first regime's with a currency, else the workspace's (rules.yaml reporting).
    rules = yaml.safe_load((demo / "rules.yaml").read_text(encoding="utf-8"))
    regime_currency = {name: spec.get("currency") for name, spec in rules["regimes"].items()}
    paid = {k: d for k, d in files.items() if d.get("redress") is not None}
    assert paid, "the demo pays redress on some cases"
    for case_id, data in paid.items():
        row = by_id[case_id]
        assert row["redress"] == Decimal(str(data["redress"]))
        regimes = [regime_currency[r] for r in data.get("regimes") or [] if regime_currency.get(r)]
        expected = data.get("redress_currency") or (regimes or [rules["reporting"]["currency"]])[0]
        assert row["redress_currency"] == expected, case_id
    assert {by_id[k]["redress_currency"] for k in paid} >= {"GBP", "CNY"}

    meta = pq.read_schema(next((tmp_path / "out").glob("cases-*.parquet"))).metadata
    head = git(demo, "rev-parse", "HEAD").strip()
    assert meta[b"cmtool.data_commit"] == head.encode()
    assert int(meta[b"cmtool.data_generation"]) == int(git(demo, "rev-list", "--count", "HEAD"))
    assert head[:12] in next((tmp_path / "out").glob("cases-*.parquet")).name
    assert set(cases.column("data_commit").to_pylist()) == {head}


def test_events_keep_order_changes_and_rule_notes(cli, demo, tmp_path):
    files = case_files(demo)
    _, events = export(cli, demo, tmp_path / "out")
    rows = events.to_pylist()
    some = next(iter(files))
    timeline = [r for r in rows if r["case_id"] == some]
    assert [r["seq"] for r in timeline] == list(range(1, len(files[some]["events"]) + 1))
    for row, event in zip(timeline, files[some]["events"], strict=True):
        written = datetime.fromisoformat(event["at"])
        assert row["event_at"] == written
        assert row["event_at_offset"] * 60 == written.utcoffset().total_seconds()
        assert row["action"] == event["action"] and row["actor"] == event["actor"]
        assert [c["field"] for c in row["changes"]] == list(event.get("changes") or {})
    # A note a rule wrote is not personal; a person's note is masked.
    by_rule = [r for r in rows if r["rule"] and r["note"]]
    assert by_rule and all(r["note"] != "[masked]" for r in by_rule)
    assert any(r["note"] == "[masked]" for r in rows if not r["rule"])


def test_personal_fields_are_masked_unless_opened_for_the_role(cli, demo, tmp_path):
    files = case_files(demo)
    masked, masked_events = export(cli, demo, tmp_path / "masked", env={"CMTOOL_ACTOR": "dana"})
    for name in PERSONAL:
        values = {v for v in masked.column(name).to_pylist() if v is not None}
        assert values <= {"[masked]"}, name
    notes = {v for v in masked_events.column("note").to_pylist() if v}
    names = {d["customer"] for d in files.values() if d.get("customer") and d["customer"] != "[sealed]"}
    assert names and not names & notes
    for changes in masked_events.column("changes").to_pylist():
        for change in changes:
            if change["field"] in PERSONAL and change["new"] is not None:
                assert change["new"] == '"[masked]"'

    before = git(demo, "rev-parse", "HEAD").strip()
    opened, opened_events = export(cli, demo, tmp_path / "opened", "--show-pii", env={"CMTOOL_ACTOR": "dana"})
    shown = {v for v in opened.column("customer").to_pylist() if v}
    assert names & shown  # a lead reads every personal field (no need_to_know for the role)
    # Opening is recorded first, one privacy_export event per case disclosed, in one
    # commit, and the export holds that commit (its events included).
    head = git(demo, "rev-parse", "HEAD").strip()
    assert git(demo, "rev-parse", "HEAD~1").strip() == before
    assert set(opened.column("data_commit").to_pylist()) == {head}
    recorded = {r["case_id"] for r in opened_events.to_pylist() if r["action"] == "privacy_export"}
    # (an erased customer's case reads [sealed]: nothing of it goes out, nothing to record)
    clear = {r["id"] for r in opened.to_pylist() if any(r[f] not in (None, "[sealed]") for f in PERSONAL)}
    clear |= {
        r["case_id"]
        for r in opened_events.to_pylist()
        if r["note"] not in (None, "[sealed]") and not r["rule"] and r["action"] != "privacy_export"
    }
    assert clear and recorded == clear
    assert {r["actor"] for r in opened_events.to_pylist() if r["action"] == "privacy_export"} == {"dana"}
    verify = cli("audit", "verify", cwd=demo)
    assert verify.code == 0, verify.out + verify.err

    # The demo's agents may read some personal fields only (privacy.need_to_know):
    # the rest stays masked, even with --show-pii.
    rules = yaml.safe_load((demo / "rules.yaml").read_text(encoding="utf-8"))
    readable = set(rules["privacy"]["need_to_know"]["agent"])
    assert {"customer"} <= readable and set(PERSONAL) - readable, "the sample's agents read some fields"
    agent, agent_events = export(cli, demo, tmp_path / "agent", "--show-pii", env={"CMTOOL_ACTOR": "alice"})
    for name in PERSONAL:
        values = {v for v in agent.column(name).to_pylist() if v}
        assert values, f"the demo has a {name}"
        assert (values == {"[masked]"}) == (name not in readable), name
    notes = set(agent_events.column("note").to_pylist())
    assert ("[masked]" in notes) == ("notes" not in readable)


def test_incremental_export_holds_exactly_the_changed_cases(cli, demo, tmp_path):
    out = tmp_path / "warehouse"
    full, _ = export(cli, demo, out)
    first = next(out.glob("cases-*.parquet"))
    open_rows = sorted(
        (r for r in full.to_pylist() if r["status"] in {s.value for s in OPEN_STATUSES}),
        key=lambda r: r["id"],
    )
    assigned = next(r["id"] for r in open_rows if r["team"] == "quality" and r["assignee"] != "alice")
    noted, gone = [r["id"] for r in open_rows if r["id"] != assigned][:2]
    actor = {"CMTOOL_ACTOR": "dana"}
    assert cli("note", noted, "called back", cwd=demo, env=actor).code == 0
    assert cli("assign", assigned, "--to", "alice", cwd=demo, env=actor).code == 0
    filed = cli("file", "--title", "Kettle leaks", "--channel", "email", "--json", cwd=demo, env=actor)
    assert filed.code == 0, filed.err
    new_id = json.loads(filed.out)["id"]
    path = next(demo.glob(f"cases/*/*/{gone}.yaml")).relative_to(demo)
    git(demo, "rm", "-q", str(path))
    git(demo, "commit", "-qm", "remove a case filed by mistake")

    cases, events = export(cli, demo, out, "--since", str(first))
    present = {r["id"] for r in cases.to_pylist() if not r["removed"]}
    assert present == {noted, assigned, new_id}
    assert [r["id"] for r in cases.to_pylist() if r["removed"]] == [gone]
    assert set(events.column("case_id").to_pylist()) == {noted, assigned, new_id}
    meta = pq.read_schema(sorted(out.glob("cases-*since*.parquet"))[0]).metadata
    assert meta[b"cmtool.since"] == pq.read_schema(first).metadata[b"cmtool.data_commit"]

    # The warehouse keeps each case's row of the highest generation; the result is
    # what a full export at the new commit holds.
    warehouse = duckdb.connect()
    latest = warehouse.execute(
        f"""
        SELECT id, status, assignee, event_count FROM '{out}/cases-*.parquet'
        QUALIFY row_number() OVER (PARTITION BY id ORDER BY data_generation DESC) = 1
            AND NOT removed
        ORDER BY id
        """
    ).fetchall()
    again, again_events = export(cli, demo, tmp_path / "again")
    assert latest == [
        (r["id"], r["status"], r["assignee"], r["event_count"])
        for r in sorted(again.to_pylist(), key=lambda r: r["id"])
    ]
    kept_events = warehouse.execute(
        f"""
        SELECT count(*) FROM '{out}/events-*.parquet' e
        JOIN (SELECT id, max(data_generation) AS g FROM '{out}/cases-*.parquet' GROUP BY id) l
          ON e.case_id = l.id AND e.data_generation = l.g
        WHERE e.case_id <> '{gone}'
        """
    ).fetchall()[0][0]
    assert kept_events == again_events.num_rows

    # Nothing changed since: empty tables that still name their commit.
    newest = sorted(out.glob("cases-*since*.parquet"))[0]
    none, no_events = export(cli, demo, tmp_path / "none", "--since", str(newest))
    assert none.num_rows == 0 and no_events.num_rows == 0

    # Opened and incremental: only the changed case goes out, and only it records so.
    assert cli("note", assigned, "sent the label", cwd=demo, env=actor).code == 0
    opened, opened_events = export(cli, demo, out, "--since", str(newest), "--show-pii", env=actor)
    assert opened.column("id").to_pylist() == [assigned]
    assert opened_events.to_pylist()[-1]["action"] == "privacy_export"
    assert git(demo, "show", "--name-only", "--format=", "HEAD").split() == [
        str(next(demo.glob(f"cases/*/*/{assigned}.yaml")).relative_to(demo))
    ]


def test_refusals_say_what_to_do(cli, demo, tmp_path):
    out = tmp_path / "out"
    done = cli("export", "-f", "parquet", "-o", str(tmp_path / "cases.parquet"), cwd=demo)
    assert done.code == 2 and "give a folder" in done.err
    done = cli("export", "-f", "parquet", "-o", str(out), "--since", "HEAD~3", "--status", "open", cwd=demo)
    assert done.code == 2 and "no filter" in done.err
    done = cli("export", "-f", "parquet", "-o", str(out), "--since", "no-such-commit", cwd=demo)
    assert done.code == 3
    done = cli("export", "-f", "csv", "--since", "HEAD", cwd=demo)
    assert done.code == 2 and "parquet" in done.err
    case = next((demo / "cases").rglob("*.yaml"))
    case.write_text(case.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    done = cli("export", "-f", "parquet", "-o", str(out), cwd=demo)
    assert done.code == 6 and "commit or restore" in done.err
    assert not out.exists() or not list(out.iterdir())


def test_filters_and_the_real_clock(cli, demo, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "CMTOOL_NOW"}
    before = datetime.now(timezone.utc).replace(microsecond=0)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cmtool",
            "export",
            "-f",
            "parquet",
            "-o",
            str(tmp_path / "o"),
            "--status",
            "open",
        ],
        cwd=demo,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    path = next((tmp_path / "o").glob("cases-*.parquet"))
    exported = datetime.fromisoformat(pq.read_schema(path).metadata[b"cmtool.exported_at"].decode())
    assert before <= exported <= datetime.now(timezone.utc) + timedelta(seconds=1)
    statuses = set(pq.read_table(path).column("status").to_pylist())
    assert statuses and statuses <= {s.value for s in OPEN_STATUSES}


def test_without_pyarrow_the_command_says_how_to_install_it(demo, tmp_path):
    code = (
        "import sys; sys.modules['pyarrow'] = None\n"
        "from cmtool.cli.app import main\n"
        f"sys.argv = ['cmtool', 'export', '-f', 'parquet', '-o', {str(tmp_path / 'o')!r}]\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=demo, capture_output=True, text=True)
    assert done.returncode == 2
    assert "pip install 'cmtool[parquet]'" in done.stderr


DOC = Path(__file__).resolve().parent.parent / "docs" / "import.md"
LABELS = {
    "text": "string",
    "enum": "dictionary string",
    "time": "timestamp[us, tz=UTC]",
    "offset": "int16",
    "int32": "int32",
    "int64": "int64",
    "bool": "bool",
    "money": "decimal128(18, 4)",
    "list": "list<string>",
    "json": "string (JSON)",
    "clocks": "list<struct>",
    "changes": "list<struct>",
}


def documented_columns(title: str) -> list[tuple[str, str]]:
    text = DOC.read_text(encoding="utf-8")
    table = text[text.index(title) :].split("\n\n")[1]
    rows = [line.split("|")[1:3] for line in table.splitlines()[2:]]
    return [(name.strip().strip("`"), kind.strip().replace("\\", "")) for name, kind in rows]


def test_docs_list_every_column_with_its_type():
    from cmtool.exporting.parquet import CASE_COLUMNS, EVENT_COLUMNS

    for title, columns in (
        ("Columns of `cases-*.parquet`:", CASE_COLUMNS),
        ("Columns of `events-*.parquet`:", EVENT_COLUMNS),
    ):
        assert documented_columns(title) == [(c.name, LABELS[c.kind]) for c in columns]


def test_the_documented_duckdb_queries_run_on_real_exports(cli, demo, tmp_path, monkeypatch):
    export(cli, demo, tmp_path / "warehouse")
    files = case_files(demo)
    closed = next(k for k, d in files.items() if d["status"] == "resolved")
    assert cli("close", closed, cwd=demo, env={"CMTOOL_ACTOR": "dana"}).code == 0
    first = sorted((tmp_path / "warehouse").glob("cases-*.parquet"))[-1]
    export(cli, demo, tmp_path / "warehouse", "--since", str(first))
    text = DOC.read_text(encoding="utf-8")
    sql = text[text.index("```sql") + len("```sql") : text.index("```", text.index("```sql") + 6)]
    monkeypatch.chdir(tmp_path)
    warehouse = duckdb.connect()
    results = [warehouse.execute(s).fetchall() for s in sql.split(";") if s.strip().strip("-").strip()]
    assert warehouse.execute("SELECT count(*) FROM cases").fetchall() == [(len(files),)]
    assert warehouse.execute(f"SELECT status FROM cases WHERE id = '{closed}'").fetchall() == [("closed",)]
    events = sum(len(d["events"]) for d in files.values()) + 1
    assert warehouse.execute("SELECT count(*) FROM events").fetchall() == [(events,)]
    paid, missed = results[-2], results[-1]
    assert paid and all(isinstance(amount, Decimal) for _month, _currency, amount in paid)
    assert missed and all(count > 0 for _team, _clock, count in missed)


def test_imported_columns_keep_their_names_and_mask_their_values(cli, ws, tmp_path):
    sheet = tmp_path / "old.csv"
    sheet.write_text(
        "Title,Customer,Channel,Received,Home address\n"
        "Kettle leaks,Ana Lima,email,2025-11-03,1 Rua Augusta\n",
        encoding="utf-8",
    )
    done = cli("import", str(sheet), "--no-rules", cwd=ws)
    assert done.code == 0, done.err
    cases, events = export(cli, ws, tmp_path / "out")
    (row,) = cases.to_pylist()
    extra = json.loads(row["extra"])
    assert extra and set(extra.values()) == {"[masked]"}
    assert row["customer"] == "[masked]"
    opened, _ = export(cli, ws, tmp_path / "opened", "--show-pii")
    assert "1 Rua Augusta" in json.loads(opened.to_pylist()[0]["extra"]).values()
    for change in (c for r in events.to_pylist() for c in r["changes"]):
        if change["field"] == "extra":
            assert set(json.loads(change["new"]).values()) == {"[masked]"}


def test_clock_facts_are_the_clocks_timed_at_the_export(cli, demo, tmp_path):
    """The facts kept in the index, and a paused case timed at the export's moment,
    give what timing every clock in full gives."""
    from cmtool.model.timefmt import parse_time
    from cmtool.rules.loader import load_rules
    from cmtool.sla.clocks import case_clocks
    from cmtool.store.catalog import all_cases
    from cmtool.store.workspace import Workspace
    from tests.conftest import FIXED_NOW

    cases, _ = export(cli, demo, tmp_path / "out")
    exported = {r["id"]: r for r in cases.to_pylist()}
    rules = load_rules(demo / "rules.yaml")
    now = parse_time(FIXED_NOW)
    paused = 0
    for case in all_cases(Workspace(demo)):
        expected = [
            (
                s.clock,
                parse_time(s.due_at) if s.due_at else None,
                s.state if s.state in ("met", "missed") else None,
            )
            for s in case_clocks(case, rules, now)
        ]
        row = exported[case.id]
        assert [(c["clock"], c["due_at"], c["stopped"]) for c in row["clocks"]] == expected, case.id
        paused += row["clocks_paused"]
    assert paused, "the demo has a case waiting on its customer"


def test_an_action_during_the_export_is_never_half_in_it(cli, demo, tmp_path, monkeypatch):
    """The files hold exactly their data commit: when another command commits between
    reading HEAD and reading the index, the export stops (exit 5: run it again)."""
    from cmtool.errors import Busy
    from cmtool.services.context import make_context
    from cmtool.services.export_parquet import export_parquet
    from cmtool.services.query import CaseFilter
    from cmtool.store import index

    some = next(iter(case_files(demo)))
    real_refresh = index.refresh

    def refresh_after_an_action(*args, **kwargs):
        assert cli("note", some, "meanwhile", cwd=demo, env={"CMTOOL_ACTOR": "dana"}).code == 0
        monkeypatch.setattr(index, "refresh", real_refresh)
        return real_refresh(*args, **kwargs)

    monkeypatch.setattr(index, "refresh", refresh_after_an_action)
    with pytest.raises(Busy):
        export_parquet(make_context(demo, "dana"), tmp_path / "out", CaseFilter())
    assert not list((tmp_path / "out").iterdir())
    cases, _ = export(cli, demo, tmp_path / "again")  # and again it works
    assert set(cases.column("data_commit").to_pylist()) == {git(demo, "rev-parse", "HEAD").strip()}
