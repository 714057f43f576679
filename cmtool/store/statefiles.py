"""State a clone keeps for itself, never shared and never in the work tree:
``.git/cmtool/<name>``. The SLA sweep's ledger (what the previous sweep saw) and
the record of notifications sent live here, so `git status` stays clean and a
clone of the workspace starts with neither."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cmtool.errors import DataError
from cmtool.store.workspace import Workspace

MAX_STATE_BYTES = 64 * 1024 * 1024


def state_dir(ws: Workspace) -> Path:
    return ws.git_dir / "cmtool"


def read_json(ws: Workspace, name: str, default: Any) -> Any:
    """The JSON document ``name``, or ``default`` when there is none yet."""
    path = state_dir(ws) / name
    try:
        if path.stat().st_size > MAX_STATE_BYTES:
            raise DataError(
                f"{path}: larger than {MAX_STATE_BYTES} bytes", hint=f"delete {path} to start afresh"
            )
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not readable JSON ({exc})", hint=f"delete {path} to start afresh") from None


def write_json(ws: Workspace, name: str, data: Any) -> None:
    """Replace ``name`` atomically: a reader sees the old document or the new one."""
    folder = state_dir(ws)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    temp = folder / f".{name}.tmp-{os.getpid()}"
    temp.write_text(json.dumps(data, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    os.replace(temp, target)


def append_lines(ws: Workspace, name: str, records: list[dict[str, Any]]) -> None:
    """Append JSON lines to ``name`` (one write, so concurrent appends do not interleave)."""
    if not records:
        return
    folder = state_dir(ws)
    folder.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records)
    with open(folder / name, "a", encoding="utf-8") as handle:
        handle.write(text)


def read_lines(ws: Workspace, name: str) -> list[dict[str, Any]]:
    """The JSON lines of ``name`` (a torn last line from a crash is ignored)."""
    path = state_dir(ws) / name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    records = []
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records
