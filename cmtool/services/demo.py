"""`cmtool demo`: a workspace from the bundled sample, then the main job on it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

from cmtool.errors import UsageError
from cmtool.services.validation import validate_workspace
from cmtool.services.workspace_ops import create_workspace

MARKER = ".cmtool-demo"


def run_demo(directory: Path, now: str | None) -> Iterator[str]:
    target = directory.expanduser().resolve()
    if target.exists() and any(target.iterdir()):
        if not (target / MARKER).exists():
            raise UsageError(f"{target} exists and is not a cmtool demo; pick another folder")
        shutil.rmtree(target)  # a previous demo: safe to rebuild
    ws = create_workspace(target, "demo", now, with_sample=True)
    (ws.root / MARKER).write_text("built by cmtool demo; safe to delete\n")
    yield f"demo workspace: {ws.root}"
    checked, problems = validate_workspace(ws)
    yield f"validate: {checked} case files, {len(problems)} problems"
    for problem in problems:
        yield f"  {problem}"
