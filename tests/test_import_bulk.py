"""The bulk write path: one commit for many files, the same canonical bytes, all or nothing."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

import pytest
from conftest import git

from cmtool.errors import GitError
from cmtool.model.case import Case
from cmtool.model.events import Event
from cmtool.store import git as gitops
from cmtool.store import transaction as txmod
from cmtool.store.workspace import Workspace
from cmtool.store.yamlio import roundtrip_dump
from cmtool.store.yamlstyle import _ESCAPES, _printable, double_quoted, dump


def slow_double_quoted(text: str) -> str:
    """The escaping rule character by character, as the emitter had it before its fast path."""
    out = ['"']
    for ch in text:
        if ch in _ESCAPES:
            out.append("\\" + _ESCAPES[ch])
        elif _printable(ch):
            out.append(ch)
        elif ch <= "\xff":
            out.append(f"\\x{ord(ch):02X}")
        elif ch <= "\uffff":
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(f"\\U{ord(ch):08X}")
    return "".join(out) + '"'


def test_double_quoted_fast_path_writes_the_same_bytes_for_every_code_point():
    # Escaping is per character, so agreeing on each code point alone is agreeing on all text.
    for point in range(0x110000):
        ch = chr(point)
        assert double_quoted(ch) == slow_double_quoted(ch), hex(point)
    assert double_quoted("sha 7f99 \u4e2d") == '"sha 7f99 \u4e2d"'


def cases(count: int) -> list[Case]:
    made = []
    for number in range(count):
        event = Event(
            "2024-03-05T09:00:00+08:00",
            "importer",
            "file",
            MappingProxyType({"title": (None, f'Case {number}: "quoted" 7f99'), "status": (None, "new")}),
        )
        made.append(Case(f"C-240305-0{number:06d}"[:16], MappingProxyType({}), ()).with_event(event))
    return made


@pytest.mark.parametrize("count", [60, gitops.BULK_BLOBS + 200])  # loose objects / one pack
def test_bulk_commit_writes_canonical_files_in_one_commit(ws, count):
    workspace = Workspace(ws)
    before = git(ws, "rev-parse", "HEAD").strip()
    made = cases(count)
    with txmod.transaction(workspace) as tx:
        for case in made:
            tx.put(case, None)
        tx.commit("bulk\n", gitops.Identity("t", "t@example.com"), "2024-03-05T09:00:00+08:00")
    assert git(ws, "rev-parse", "HEAD~1").strip() == before
    assert len(git(ws, "show", "--name-only", "--format=", "HEAD").split()) == count
    for case in made[:60]:
        text = (ws / workspace.case_relpath(case.id)).read_text()
        assert text == dump(case.to_dict()) == roundtrip_dump(case.to_dict())
        assert git(ws, "show", f"HEAD:{workspace.case_relpath(case.id)}") == text
    assert git(ws, "status", "--porcelain") == ""
    git(ws, "fsck", "--strict")  # raises on any broken object


def test_failed_bulk_commit_rolls_back(ws, monkeypatch):
    workspace = Workspace(ws)
    head = git(ws, "rev-parse", "HEAD")

    def broken(*_args, **_kwargs):
        raise GitError("git commit-tree failed: disk full")

    monkeypatch.setattr(gitops, "commit_changes", broken)
    with pytest.raises(GitError), txmod.transaction(workspace) as tx:
        for case in cases(40):
            tx.put(case, None)
        tx.commit("bulk\n", gitops.Identity("t", "t@example.com"), "2024-03-05T09:00:00+08:00")
    assert git(ws, "rev-parse", "HEAD") == head
    assert not list(Path(ws, "cases").rglob("C-*.yaml"))
    assert not (workspace.git_dir / txmod.JOURNAL).exists()
