"""The disposable index: refreshed from git and the work tree, rebuilt when in doubt."""

from __future__ import annotations

import json
import sqlite3

from conftest import git

from cmtool.store import index
from cmtool.store.workspace import Workspace


def file_case(cli, ws, title="Charger overheats") -> str:
    result = cli("file", "--title", title, "--channel", "email", cwd=ws)
    assert result.code == 0, result.err
    return result.out.strip()


def titles(cli, ws) -> dict[str, str]:
    result = cli("list", "--json", cwd=ws)
    assert result.code == 0, result.err
    return {row["id"]: row["title"] for row in json.loads(result.out)}


def test_index_follows_commits_made_outside_cmtool(cli, ws):
    case_id = file_case(cli, ws)
    assert titles(cli, ws) == {case_id: "Charger overheats"}
    path = ws / f"cases/2025/11/{case_id}.yaml"
    path.write_text(path.read_text().replace("Charger overheats", "Charger melts"))
    assert titles(cli, ws)[case_id] == "Charger melts"  # uncommitted hand edit is seen
    git(ws, "commit", "-qam", "hand edit")
    assert titles(cli, ws)[case_id] == "Charger melts"
    git(ws, "revert", "--no-edit", "HEAD")
    assert titles(cli, ws)[case_id] == "Charger overheats"
    path.unlink()
    assert titles(cli, ws) == {}  # a deleted file disappears from the listing


def test_rewritten_history_triggers_a_rebuild(cli, ws):
    first = file_case(cli, ws, "First")
    titles(cli, ws)
    second = file_case(cli, ws, "Second")
    assert set(titles(cli, ws)) == {first, second}
    git(ws, "reset", "-q", "--hard", "HEAD~1")  # the indexed commit is no longer in history
    assert set(titles(cli, ws)) == {first}
    _, status = index.refresh(Workspace(ws))
    assert not status.rebuilt  # and the next refresh is incremental again


def test_corrupt_or_old_index_is_rebuilt_without_a_wrong_answer(cli, ws):
    case_id = file_case(cli, ws)
    titles(cli, ws)
    db = ws / ".git" / "cmtool" / "index.sqlite"
    for suffix in ("-wal", "-shm"):
        (db.parent / (db.name + suffix)).unlink(missing_ok=True)
    db.write_bytes(b"this is not a database" * 100)
    assert titles(cli, ws) == {case_id: "Charger overheats"}
    conn = sqlite3.connect(db)
    conn.execute("UPDATE meta SET value = '0' WHERE key = 'format'")
    conn.execute("UPDATE cases SET title = 'WRONG'")
    conn.commit()
    conn.close()
    assert titles(cli, ws) == {case_id: "Charger overheats"}


def test_stale_rows_are_detected_by_blob_id(cli, ws):
    case_id = file_case(cli, ws)
    titles(cli, ws)
    db = ws / ".git" / "cmtool" / "index.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("UPDATE cases SET title = 'WRONG', blob = 'x'")
    conn.commit()
    conn.close()
    # The indexed commit equals HEAD, so only the full check finds this row.
    status = cli("index", "status", "--json", cwd=ws)
    assert status.code == 1
    assert json.loads(status.out)["stale"] == [f"cases/2025/11/{case_id}.yaml"]
    assert cli("index", "rebuild", cwd=ws).code == 0
    assert cli("index", "status", cwd=ws).code == 0
    assert titles(cli, ws) == {case_id: "Charger overheats"}


def test_broken_file_is_named_and_skipped(cli, ws):
    """Degrade, don't die: the listing goes on with the other cases, names the file
    (path:line, code) and exits 1."""
    case_id = file_case(cli, ws)
    other = file_case(cli, ws, "Kettle leaks")
    titles(cli, ws)
    (ws / f"cases/2025/11/{case_id}.yaml").write_text("id: [broken\n")
    result = cli("list", "--json", cwd=ws)
    assert result.code == 1
    assert f"skipped cases/2025/11/{case_id}.yaml:2: CASE_YAML" in result.err
    assert [row["id"] for row in json.loads(result.out)] == [other]


def test_two_processes_refreshing_at_once_agree(cli, ws):
    import subprocess
    import sys

    ids = {file_case(cli, ws, f"Case {n}") for n in range(3)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "cmtool", "list", "--json"], cwd=ws, stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    outputs = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
    assert all({row["id"] for row in out} == ids for out in outputs)


def test_search_rows_are_replaced_by_rowid_never_left_behind(cli, ws):
    """Each file has one full-text row, found by its rowid (a delete by path would scan
    every row: quadratic on a rebuild), through edits, deletions and rebuilds."""
    kept = file_case(cli, ws, "Kettle leaks")
    gone = file_case(cli, ws, "Toaster sparks")
    assert cli("note", kept, "customer sent photos", cwd=ws).code == 0
    path = ws / f"cases/2025/11/{kept}.yaml"
    path.write_text(path.read_text().replace("Kettle leaks", "Kettle leaks badly"))
    (ws / f"cases/2025/11/{gone}.yaml").unlink()
    conn, _ = index.refresh(Workspace(ws))
    rows = conn.execute("SELECT path, id, title FROM case_text ORDER BY id").fetchall()
    assert rows == [(f"cases/2025/11/{kept}.yaml", kept, "Kettle leaks badly")]
    mapped = conn.execute(
        "SELECT r.path FROM case_text_rows r JOIN case_text t ON t.rowid = r.row"
    ).fetchall()
    assert mapped == [(f"cases/2025/11/{kept}.yaml",)]
    index.rebuild(Workspace(ws))
    conn = sqlite3.connect(index.db_path(Workspace(ws)))
    assert conn.execute("SELECT count(*) FROM case_text").fetchone() == (1,)
    assert conn.execute("SELECT count(*) FROM case_text_rows").fetchone() == (1,)
    found = cli("search", "photos", "--json", cwd=ws)
    assert found.code == 0 and [hit["id"] for hit in json.loads(found.out)] == [kept]
