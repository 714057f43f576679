"""`cmtool audit verify` and `audit seal`: is the history what cmtool wrote?

Verification reads the history once: one ``git log --raw`` pass lists every
commit with the files it changed, and one ``git cat-file --batch`` process
streams every case-file blob those changes name, in the order they are
checked. Each blob is parsed once (the new version of one commit is the old
version of the next commit touching that case) and dropped after its last use.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache

from cmtool.audit.commits import (
    FileChange,
    FileVersion,
    check_commit_meta,
    check_file_change,
    check_merge_file,
    is_case_area,
)
from cmtool.audit.findings import Finding
from cmtool.audit.seals import (
    SealRecord,
    check_seals,
    parse_seal_message,
    seal_message,
    seal_number,
)
from cmtool.audit.trailers import parse_trailers
from cmtool.errors import DataError, InvalidTransition, NotFound, UsageError
from cmtool.model.events import Event
from cmtool.rules.access import AccessPolicy, read_access
from cmtool.services.audit_attachments import attachment_findings
from cmtool.services.context import Context
from cmtool.store import gitread, sealtags
from cmtool.store.gitread import ZERO, LogCommit
from cmtool.store.lock import workspace_lock
from cmtool.store.workspace import Workspace
from cmtool.store.yamlio import load, load_with_lines

RULES = "rules.yaml"
_MODES = {"120000": "a symbolic link", "160000": "a submodule"}  # never what cmtool writes


@dataclass(frozen=True)
class AppendedEvent:
    """An event and the commit that wrote it (collected for export)."""

    commit: LogCommit
    path: str
    case_id: str
    index: int  # position in the case's timeline, 0-based
    event: Event


@dataclass
class VerifyReport:
    head: str | None
    since: str | None
    commits: list[LogCommit] = field(default_factory=list)
    case_files: int = 0
    seals: int = 0
    findings: list[Finding] = field(default_factory=list)
    appended: list[AppendedEvent] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def summary(self) -> dict[str, object]:
        return {
            "head": self.head,
            "since": self.since,
            "commits_checked": len(self.commits),
            "case_files_checked": self.case_files,
            "seals_checked": self.seals,
            "findings": len(self.findings),
            "ok": self.ok,
        }


def verify(
    ws: Workspace, since: str | None = None, collect_events: bool = False, at: str = "HEAD"
) -> VerifyReport:
    """Check every commit up to ``at`` (or those after ``since``) and every seal;
    findings, not exceptions."""
    root = ws.root
    head = gitread.rev_parse(root, at)
    base = None
    if since:
        base = gitread.rev_parse(root, since)
        if base is None:
            raise UsageError(
                f"--since {since!r}: no such commit",
                hint="name a commit id, tag (e.g. cmtool-seal-3) or branch",
            )
    report = VerifyReport(head, base)
    report.findings += _override_findings(ws)
    if head is None:
        return report
    commits = gitread.read_log(root, [f"{base}..{head}" if base else head])
    report.commits = commits
    policies, rules_findings = _policies_in_force(ws, commits)
    if any(policy.require_signed for policy in policies.values()):
        _add_signatures(ws, commits, base, head)
    report.findings += _check_commits(ws, commits, policies, report, collect_events)
    report.findings += rules_findings
    head_policy = _policy_of_text(_read_text(ws, f"{head}:{RULES}"))[0]
    seal_records = _seal_records(ws, head)
    report.seals = len(seal_records)
    report.findings += check_seals(seal_records, head_policy.require_signed)
    report.findings += attachment_findings(ws, head)
    return report


def _override_findings(ws: Workspace) -> list[Finding]:
    """Replace refs and grafts: cmtool reads past them, but plain git shows what they say."""
    findings = []
    for kind, name in gitread.history_overrides(ws.root):
        if kind == "replace":
            target = name.removeprefix("refs/replace/")
            message = f"{name}: git shows another object in place of {target} (cmtool ignores it)"
            findings.append(Finding("REPLACE_REF", message))
        else:
            message = f"{name}: git shows other parents for some commits (cmtool ignores it)"
            findings.append(Finding("GRAFTS_FILE", message))
    return findings


def _check_commits(
    ws: Workspace,
    commits: list[LogCommit],
    policies: dict[str, AccessPolicy],
    report: VerifyReport,
    collect: bool,
) -> list[Finding]:
    changes = [
        (c, d, ch) for c in commits for d, diff in enumerate(c.diffs) for ch in diff if is_case_area(ch.path)
    ]
    blobs = _BlobStream(ws, [sha for _c, _d, ch in changes for sha in (ch.old_blob, ch.new_blob)])
    report.case_files = len({ch.path for _c, _d, ch in changes})
    by_commit: dict[str, list] = {}
    for item in changes:
        by_commit.setdefault(item[0].sha, []).append(item)
    found: list[Finding] = []
    for commit in commits:
        policy = policies[commit.sha]
        mine = by_commit.get(commit.sha, [])
        paths = sorted({ch.path for _c, _d, ch in mine})
        here = check_commit_meta(commit, parse_trailers(commit.message), paths, policy)
        here += [
            Finding("CASE_NOT_REGULAR_FILE", f"committed as {_MODES[ch.new_mode]}", commit.sha, ch.path)
            for _c, _d, ch in mine
            if ch.new_mode in _MODES
        ]
        if commit.is_merge:
            here += _check_merge(commit, mine, blobs, report if collect else None)
        for _c, _diff_index, ch in [] if commit.is_merge else mine:
            old = blobs.take(ch.old_blob, ch.path)
            new = blobs.take(ch.new_blob, ch.path)
            problems, appended = check_file_change(commit, FileChange(ch.path, ch.status, old, new), policy)
            here += problems
            if collect:
                report.appended += [
                    AppendedEvent(commit, ch.path, _case_id(ch.path), index, event)
                    for index, event in appended
                ]
        found += dict.fromkeys(here)
    return found


def _check_merge(
    commit: LogCommit, mine: list, blobs: _BlobStream, report: VerifyReport | None
) -> list[Finding]:
    """Each case file a merge changed (against any parent), judged by all its parents;
    a parent whose diff does not list the file had the merged version itself."""
    versions: dict[str, dict[int, FileVersion | None]] = {}
    merged: dict[str, FileVersion | None] = {}
    for _c, diff_index, ch in mine:
        versions.setdefault(ch.path, {})[diff_index] = blobs.take(ch.old_blob, ch.path)
        merged[ch.path] = blobs.take(ch.new_blob, ch.path)
    found: list[Finding] = []
    for path, olds in versions.items():
        new = merged[path]
        parents = [olds.get(index, new) for index in range(len(commit.parents))]
        problems, added = check_merge_file(commit, path, parents, new)
        found += problems
        if report is not None:
            report.appended += [AppendedEvent(commit, path, _case_id(path), i, e) for i, e in added]
    return found


def _case_id(path: str) -> str:
    return path.rsplit("/", 1)[-1].removesuffix(".yaml")


class _BlobStream:
    """Case-file blobs in the order the checks ask for them, each parsed once."""

    def __init__(self, ws: Workspace, order: list[str]) -> None:
        wanted = list(dict.fromkeys(sha for sha in order if sha != ZERO))
        self._remaining = {sha: 0 for sha in wanted}
        for sha in order:
            if sha != ZERO:
                self._remaining[sha] += 1
        self._pending = iter(wanted)
        self._source: Iterator[bytes | None] = gitread.read_blobs(ws.root, wanted)
        self._parsed: dict[str, FileVersion] = {}

    def take(self, sha: str, path: str) -> FileVersion | None:
        if sha == ZERO:
            return None
        while sha not in self._parsed:
            next_sha = next(self._pending)
            self._parsed[next_sha] = _parse(next(self._source), path)
        version = self._parsed[sha]
        self._remaining[sha] -= 1
        if not self._remaining[sha]:
            del self._parsed[sha]
        return version


def _parse(raw: bytes | None, path: str) -> FileVersion:
    if raw is None:
        return FileVersion(None, f"{path}: blob missing from the repository")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return FileVersion(None, f"{path}: not UTF-8 text (byte {exc.start})")
    try:
        data = load(text, path)
    except DataError as exc:
        return FileVersion(None, str(exc))
    return FileVersion(data, None, cache(lambda: load_with_lines(text, path)[1]))


def _policies_in_force(
    ws: Workspace, commits: list[LogCommit]
) -> tuple[dict[str, AccessPolicy], list[Finding]]:
    """Commit -> the policy of rules.yaml as its first parent had it (the rules in
    force when the action was taken), and findings for broken rules versions."""
    rules_after: dict[str, str | None] = {}
    by_blob: dict[str | None, AccessPolicy] = {None: AccessPolicy()}
    result: dict[str, AccessPolicy] = {}
    findings: list[Finding] = []
    for commit in commits:
        parent = commit.parents[0] if commit.parents else None
        if parent is None:
            before = None
        elif parent in rules_after:
            before = rules_after[parent]
        else:
            before = (
                gitread.run_git(
                    ws.root, "rev-parse", "-q", "--verify", f"{parent}:{RULES}", check=False
                ).strip()
                or None
            )
        if before not in by_blob:
            by_blob[before] = _policy_of_text(_read_text(ws, before))[0]
        result[commit.sha] = by_blob[before]
        after = before
        for change in commit.changes:
            if change.path == RULES:
                after = None if change.new_blob == ZERO else change.new_blob
        if after != before and after not in by_blob:
            policy, problems = _policy_of_text(_read_text(ws, after))
            by_blob[after] = policy
            findings += [Finding(p.code, p.message, commit.sha, RULES, p.line) for p in problems]
        rules_after[commit.sha] = after
    return result, findings


def _read_text(ws: Workspace, spec: str | None) -> str | None:
    if spec is None:
        return None
    with gitread.BlobReader(ws.root) as reader:
        raw = reader.read(spec)
    return raw.decode("utf-8", "replace") if raw is not None else None


def _policy_of_text(text: str | None) -> tuple[AccessPolicy, list]:
    from cmtool.model.problems import Problem

    if text is None:
        return AccessPolicy(), []
    try:
        data, lines = load_with_lines(text, RULES)
    except DataError as exc:
        return AccessPolicy(), [Problem("RULES_YAML", str(exc), RULES)]
    return read_access(data, RULES, lines)


def _add_signatures(ws: Workspace, commits: list[LogCommit], base: str | None, head: str) -> None:
    """Fill in git's signature status (%G?) with one more log pass."""
    out = gitread.run_git(ws.root, "log", "--format=%H %G?", f"{base}..{head}" if base else head)
    status = dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
    for commit in commits:
        commit.signature = status.get(commit.sha, "N")


def _seal_records(ws: Workspace, head: str | None) -> list[SealRecord]:
    records = []
    for tag in sealtags.read_seal_tags(ws.root):
        recorded = parse_seal_message(tag.message).get("Cmtool-Seal-Commit", "")
        exists, in_head = sealtags.commit_in_history(ws.root, recorded, head)
        records.append(
            SealRecord(
                tag.name,
                tag.object_type,
                tag.tag_object,
                tag.target,
                tag.message,
                tag.target_tree,
                exists,
                in_head,
                tag.signature_ok,
            )
        )
    return records


@dataclass(frozen=True)
class Seal:
    name: str
    tag_object: str
    commit: str
    tree: str


def seal(ctx: Context, note: str | None = None, sign: bool = False, force: bool = False) -> Seal:
    """Tag HEAD as ``cmtool-seal-<n>`` after checking the history since the last seal.

    Refuses (exit 4) when that check has findings, so a seal never vouches for
    a history already known to be tampered with; ``force`` seals anyway.
    """
    ws = ctx.ws
    with workspace_lock(ws.git_dir / "cmtool.lock"):
        head = gitread.rev_parse(ws.root, "HEAD")
        if head is None:
            raise NotFound("nothing to seal: the workspace has no commits")
        tags = sorted(sealtags.read_seal_tags(ws.root), key=lambda t: seal_number(t.name))
        last = tags[-1] if tags else None
        if last is not None and last.target == head:
            raise InvalidTransition(f"HEAD is already sealed by {last.name}")
        report = verify(ws, since=last.target if last else None)
        if report.findings and not force:
            raise InvalidTransition(
                f"not sealing: audit verify has {len(report.findings)} finding(s) since "
                f"{last.name if last else 'the first commit'}",
                hint="see them with: cmtool audit verify; seal anyway with --force",
            )
        number = (seal_number(last.name) if last else 0) + 1
        tree = gitread.run_git(ws.root, "rev-parse", f"{head}^{{tree}}").strip()
        name = f"{sealtags.SEAL_PREFIX}{number}"
        message = seal_message(note or "", number, head, tree, last.tag_object if last else None, ctx.actor)
        env = {
            "GIT_COMMITTER_NAME": ctx.actor,
            "GIT_COMMITTER_EMAIL": ctx.actor_email,
            "GIT_COMMITTER_DATE": ctx.now_text,
        }
        tag_object = sealtags.create_seal_tag(ws.root, name, head, message, sign, env)
    return Seal(name, tag_object, head, tree)
