"""`cmtool privacy migrate`: seal what a workspace wrote in clear before it had a
key store.

Step 1 (``seal_files``) seals the current case files in place, in one
``privacy_migrate`` commit: each clear personal value, in the state and in the
committed events, becomes a sealed string, nothing else changes (``audit
verify`` checks exactly that). The older commits still hold the clear text.

Step 2 (``rewrite_history``, only with the current HEAD typed as confirmation)
rewrites every commit of the current branch so that every version of every case
file is sealed, with the same sealed strings HEAD holds, so HEAD's files do not
change. Authors, dates and messages stay; commit ids change. Seal tags of the
old history are deleted (they vouch for commits that no longer exist) and a new
seal records the old head's id. Old objects are pruned from this repository;
every other clone and remote must be replaced (docs/privacy.md).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from typing import IO, Any

from cmtool.audit.trailers import parse_trailers
from cmtool.errors import DataError, GitError, InvalidTransition, UsageError
from cmtool.model.ids import is_valid_id
from cmtool.model.privacy import MIGRATE_ACTION, SEALED
from cmtool.services.context import Context, commit_message
from cmtool.services.privacy import _working_sealer, clear_personal_fields
from cmtool.store import gitread, index
from cmtool.store.casefiles import iter_case_paths
from cmtool.store.gitenv import git_environ
from cmtool.store.sealing import Sealer, is_token, open_value
from cmtool.store.workspace import Workspace
from cmtool.store.yamlio import load, render

Cache = dict[tuple[str, str, str], str]


@dataclass
class MigrateReport:
    sealed: list[str] = field(default_factory=list)  # cases sealed in the current files
    history_commits: int = 0  # commits that changed case files before the migration
    old_head: str | None = None
    new_head: str | None = None
    seal: str | None = None
    dropped_tags: list[str] = field(default_factory=list)
    other_refs: list[str] = field(default_factory=list)  # refs that still reach the old history


def clear_cases(ws: Workspace, sealer: Sealer) -> list[str]:
    return [p.stem for p in iter_case_paths(ws) if clear_personal_fields(ws, p.stem, sealer)]


def seal_files(ctx: Context, dry_run: bool = False) -> MigrateReport:
    """Seal the current case files in one commit; say how much history holds clear text."""
    ws = ctx.ws
    sealer = _working_sealer(ws)
    report = MigrateReport(history_commits=_case_commits(ws))
    report.sealed = clear_cases(ws, sealer)
    report.new_head = gitread.rev_parse(ws.root, "HEAD")
    if dry_run or not report.sealed:
        return report
    cache: Cache = {}
    with ctx.transaction() as tx:
        for case_id in report.sealed:
            _case, text = tx.load(case_id)  # refuses a file with uncommitted hand edits
            data = load(text, ws.case_relpath(case_id))
            tx.put_file(
                ws.case_relpath(case_id), render(sealer.seal_in_place(data, ctx.now_text, cache), None)
            )
        summary = f"privacy_migrate: {len(report.sealed)} case(s) sealed in place"
        tx.commit(
            commit_message(summary, MIGRATE_ACTION, ctx.actor, report.sealed), ctx.identity, ctx.now_text
        )
    index.refresh(ws)
    report.new_head = gitread.rev_parse(ws.root, "HEAD")
    return report


def _case_commits(ws: Workspace) -> int:
    if gitread.rev_parse(ws.root, "HEAD") is None:
        return 0
    return int(gitread.run_git(ws.root, "rev-list", "--count", "HEAD", "--", "cases").strip() or 0)


def rewrite_history(ctx: Context, confirm: str, sign: bool = False) -> MigrateReport:
    """Re-seal every commit of the current branch; ``confirm`` must be HEAD's id."""
    ws = ctx.ws
    sealer = _working_sealer(ws)
    head = gitread.rev_parse(ws.root, "HEAD")
    if head is None:
        raise UsageError("nothing to rewrite: the workspace has no commits")
    if len(confirm) < 7 or not head.startswith(confirm.lower()):
        raise UsageError(
            "rewriting history needs --confirm with the current HEAD's id",
            hint=f"see docs/privacy.md, then: cmtool privacy migrate --rewrite-history --confirm {head[:12]}",
        )
    if clear_cases(ws, sealer):
        raise InvalidTransition("seal the current files first", hint="cmtool privacy migrate")
    if gitread.run_git(ws.root, "status", "--porcelain", "--untracked-files=no").strip():
        raise InvalidTransition("the work tree has uncommitted changes", hint="commit or discard them first")
    branch = gitread.run_git(ws.root, "symbolic-ref", "-q", "HEAD", check=False).strip()
    if not branch:
        raise InvalidTransition("HEAD is detached", hint="check out the branch to rewrite")
    report = MigrateReport(old_head=head)
    cache = _tokens_at_head(ws, sealer)
    with ctx.transaction():
        _fast_rewrite(ws, branch, sealer, cache, ctx.now_text)
        report.new_head = gitread.rev_parse(ws.root, "HEAD")
        if gitread.run_git(ws.root, "diff", "--name-only", head, "HEAD").strip():
            raise GitError(f"the rewrite changed HEAD's files; the old history is still at {head}")
        report.dropped_tags = _drop_seal_tags(ws)
        report.other_refs = _refs_reaching(ws, head)
    from cmtool.services.audit import seal

    moved = f"; seal tags dropped: {', '.join(report.dropped_tags)}" if report.dropped_tags else ""
    note = f"privacy migrate: history rewritten to seal personal data; old head {head}{moved}"
    report.seal = seal(ctx, note, sign=sign).name
    _prune(ws)
    index.rebuild(ws)
    return report


def _tokens_at_head(ws: Workspace, sealer: Sealer) -> Cache:
    """The sealed strings HEAD's files hold, by (case, field, value): older versions
    get the same strings, so HEAD's files stay byte for byte the same."""
    cache: Cache = {}
    for path in iter_case_paths(ws):
        data = load(path.read_text(encoding="utf-8"), str(path))
        if not isinstance(data, dict):
            continue
        case_id = str(data.get("id"))
        _remember(data, case_id, sealer, cache)
    return cache


def _remember(data: dict[str, Any], case_id: str, sealer: Sealer, cache: Cache) -> None:
    def note(value: Any, field: str) -> None:
        if is_token(value):
            plain = open_value(value, case_id, field, sealer.keys)
            if plain != SEALED:
                cache.setdefault(
                    (case_id, field, json.dumps(plain, ensure_ascii=False, sort_keys=True)), value
                )

    def walk(name: str, value: Any) -> None:
        if isinstance(value, dict) and name == "extra":
            for k, v in value.items():
                note(v, f"extra.{k}")
        else:
            note(value, name)

    for name, value in data.items():
        if name != "events":
            walk(name, value)
    for event in data.get("events") or []:
        if isinstance(event, dict):
            note(event.get("note"), "note")
            for name, pair in (event.get("changes") or {}).items():
                for value in pair if isinstance(pair, list) else ():
                    walk(name, value)


def _fast_rewrite(ws: Workspace, branch: str, sealer: Sealer, cache: Cache, at: str) -> None:
    """``git fast-export`` the branch, seal each case-file blob, ``fast-import`` it back."""
    export = subprocess.Popen(
        [
            "git",
            "fast-export",
            "--signed-tags=strip",
            "--tag-of-filtered-object=drop",
            "--reencode=no",
            branch,
        ],
        cwd=ws.root,
        stdout=subprocess.PIPE,
        env=git_environ(),
    )
    imp = subprocess.Popen(
        ["git", "fast-import", "--force", "--quiet"],
        cwd=ws.root,
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=git_environ(),
    )
    assert export.stdout is not None and imp.stdin is not None
    try:
        _transform(export.stdout, imp.stdin, sealer, cache, at)
    finally:
        imp.stdin.close()
    errors = imp.stderr.read().decode("utf-8", "replace") if imp.stderr else ""
    if export.wait() != 0 or imp.wait() != 0:
        raise GitError(f"history rewrite failed: {errors.strip()[:300]}")
    gitread.run_git(ws.root, "reset", "-q", "--hard", "HEAD")


def _transform(source: IO[bytes], sink: IO[bytes], sealer: Sealer, cache: Cache, at: str) -> None:
    """Copy the stream; the data of a blob is sealed, the message of a commit
    loses any free text its summary carried (older versions wrote notes there)."""
    kind = b""
    while True:
        line = source.readline()
        if not line:
            return
        if line.startswith(b"data ") and not line.startswith(b"data <<"):
            body = source.read(int(line[5:].strip()))
            if kind == b"blob":
                body = _seal_blob(body, sealer, cache, at)
            elif kind == b"commit":
                body = _neutral_message(body)
            sink.write(b"data %d\n" % len(body) + body)
            kind = b""
            continue
        if line == b"blob\n" or line.startswith(b"commit "):
            kind = line.split()[0]
        sink.write(line)


def _neutral_message(body: bytes) -> bytes:
    """``<action> <case>`` (or ``<action>: N case(s)``) above the same trailers."""
    message = body.decode("utf-8", "replace")
    trailers = parse_trailers(message)
    if not trailers.present or not trailers.action or trailers.problems or not trailers.cases:
        return body
    cases = trailers.cases
    summary = (
        f"{trailers.action} {cases[0]}" if len(cases) == 1 else f"{trailers.action}: {len(cases)} case(s)"
    )
    last = message.strip().split("\n\n")[-1]
    return f"{summary}\n\n{last}\n".encode()


def _seal_blob(body: bytes, sealer: Sealer, cache: Cache, at: str) -> bytes:
    try:
        text = body.decode("utf-8")
        data = load(text, "blob") if "events:" in text else None
    except (UnicodeDecodeError, DataError):  # not a case file: keep it as it is
        return body
    if not isinstance(data, dict) or not is_valid_id(str(data.get("id"))) or "events" not in data:
        return body
    sealed = sealer.seal_in_place(data, at, cache)
    return body if sealed == data else render(sealed, None).encode("utf-8")


def _drop_seal_tags(ws: Workspace) -> list[str]:
    tags = gitread.run_git(ws.root, "tag", "--list", "cmtool-seal-*").split()
    for tag in tags:
        gitread.run_git(ws.root, "tag", "-d", tag)
    return tags


def _refs_reaching(ws: Workspace, old_head: str) -> list[str]:
    out = gitread.run_git(ws.root, "for-each-ref", "--contains", old_head, "--format=%(refname)")
    return [ref for ref in out.split() if ref]


def _prune(ws: Workspace) -> None:
    """Drop the old commits' objects from this repository (other refs permitting)."""
    (ws.git_dir / "cmtool" / "history.sqlite").unlink(missing_ok=True)
    for args in (("reflog", "expire", "--expire=now", "--all"), ("gc", "-q", "--prune=now")):
        gitread.run_git(ws.root, *args, check=False)  # a failed gc only leaves more to prune later
