"""An action's commit written below git: objects in-process, one ``git update-ref``.

``git commit`` and the plumbing cmtool used before (``hash-object``,
``ls-tree``, ``mktree``, ``commit-tree``, ``update-index``) each start a process
and several read the whole 10 MB index of a 100,000-case repository. Here the
blobs, the touched trees and the commit are written as loose objects by this
process (:mod:`cmtool.store.objects`), HEAD moves with git's own compare-and-swap
``update-ref`` once every object is in place, and the index entries of the
changed paths are rewritten in the split index (:mod:`cmtool.store.splitindex`).

The commit's bytes are the ones ``git commit-tree`` writes for the same input.
Where git would write something this module does not (a signed commit, another
message encoding, a shared repository's permissions, an identity git would
clean up, a SHA-256 or reftable repository), :func:`can_write_in_process` or
:meth:`NativeRepo.commit_object` says so and the caller uses git for that step.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from cmtool.store.objects import TREE_MODE, MissingObject, ObjectDatabase, format_tree

BLOB_MODE = b"100644"
_ISO_SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
# git strips these from both ends of a name or e-mail and drops "<>\n" inside.
_CRUD = set(",:;<>\"\\'.") | {chr(c) for c in range(33)}
_LOOSE_FSYNC = {"loose-object", "objects", "committed", "added", "all"}


class Unsupported(Exception):
    """Something git must do itself."""


def true(value: str | None) -> bool:
    return value is not None and value.strip().lower() in ("true", "yes", "on", "1")


def fsync_wanted(config: Mapping[str, str], components: set[str], legacy: str = "") -> bool:
    """Whether git would fsync files of these ``core.fsync`` components here
    (``legacy``: an older yes/no setting for the same); git's default syncs packs only."""
    wanted = true(config.get(legacy)) if legacy else False
    for token in (config.get("core.fsync") or "").replace(" ", "").lower().split(","):
        if token == "none":
            wanted = False
        elif token in components:
            wanted = True
        elif token.startswith("-") and token[1:] in components:
            wanted = False
    return wanted


def fsync_loose_objects(config: Mapping[str, str]) -> bool:
    return fsync_wanted(config, _LOOSE_FSYNC, "core.fsyncobjectfiles")


def can_write_in_process(root: Path, config: Mapping[str, str]) -> bool:
    """True when this repository's commits can be written in-process."""
    git_dir = root / ".git"
    if not (git_dir / "objects").is_dir() or not (git_dir / "HEAD").is_file():
        return False  # a linked worktree or submodule (.git is a file): git knows its layout
    if any(key.startswith("extensions.") and key != "extensions.worktreeconfig" for key in config):
        return False  # SHA-256 objects, reftable refs, partial clones
    if true(config.get("commit.gpgsign")) or config.get("core.sharedrepository") not in (
        None,
        "false",
        "umask",
    ):
        return False
    encoding = (config.get("i18n.commitencoding") or "utf-8").lower()
    return encoding in ("utf-8", "utf8")


@dataclass
class NativeRepo:
    root: Path
    db: ObjectDatabase

    @classmethod
    def open(cls, root: Path, config: Mapping[str, str]) -> NativeRepo | None:
        if not can_write_in_process(root, config):
            return None
        return cls(root, ObjectDatabase(root / ".git" / "objects", fsync_loose_objects(config)))

    # -- HEAD ---------------------------------------------------------------

    def head(self) -> tuple[str | None, str | None]:
        """HEAD's commit and tree; (None, None) on an unborn branch."""
        git_dir = self.root / ".git"
        symbolic = (git_dir / "HEAD").read_text(encoding="utf-8").strip()
        if not symbolic.startswith("ref: refs/"):
            raise Unsupported("HEAD is not a branch")
        ref = symbolic[5:]
        commit = read_ref(git_dir, ref)
        if commit is None:
            return None, None
        kind, data = self.db.read(commit)
        if kind != "commit" or not data.startswith(b"tree "):
            raise Unsupported(f"HEAD {commit} is not a commit")
        return commit, data[5:45].decode("ascii")

    # -- trees --------------------------------------------------------------

    def folder_blobs(self, tree: str | None, folder: str) -> dict[str, str]:
        """name -> blob id of the files directly in ``folder`` of ``tree``."""
        for part in folder.split("/") if folder else []:
            if tree is None:
                return {}
            tree = next(
                (
                    sha
                    for mode, name, sha in self.db.tree(tree)
                    if name == part.encode() and mode == TREE_MODE
                ),
                None,
            )
        if tree is None:
            return {}
        return {
            name.decode("utf-8", "surrogateescape"): sha
            for mode, name, sha in self.db.tree(tree)
            if mode != TREE_MODE
        }

    def build_tree(self, base: str | None, changes: Mapping[str, str | None]) -> str | None:
        """``base`` with files set to blobs (None removes); None when nothing is left."""
        by_dir: dict[tuple[bytes, ...], dict[bytes, str | None]] = {}
        for path, blob in changes.items():
            parts = tuple(part.encode("utf-8") for part in PurePosixPath(path).parts)
            by_dir.setdefault(parts[:-1], {})[parts[-1]] = blob
        return self._rebuild(base, (), by_dir)

    def _rebuild(
        self,
        base: str | None,
        prefix: tuple[bytes, ...],
        by_dir: Mapping[tuple[bytes, ...], Mapping[bytes, str | None]],
    ) -> str | None:
        entries = {name: (mode, sha) for mode, name, sha in self.db.tree(base)} if base else {}
        # git's order is kept from the base tree; only a new name (or a file that
        # became a folder) calls for sorting again.
        resort = False
        for name, blob in by_dir.get(prefix, {}).items():
            if blob is None:
                entries.pop(name, None)
            else:
                resort = resort or entries.get(name, (TREE_MODE,))[0] == TREE_MODE
                entries[name] = (BLOB_MODE, blob)
        children = {d[len(prefix)] for d in by_dir if len(d) > len(prefix) and d[: len(prefix)] == prefix}
        for child in sorted(children):
            existing = entries.get(child)
            sub_base = existing[1] if existing and existing[0] == TREE_MODE else None
            sub_tree = self._rebuild(sub_base, (*prefix, child), by_dir)
            if sub_tree is None:
                entries.pop(child, None)
            else:
                resort = resort or sub_base is None
                entries[child] = (TREE_MODE, sub_tree)
        if not entries and prefix:
            return None
        listed = [(mode, name, sha) for name, (mode, sha) in entries.items()]
        return self.db.write("tree", format_tree(listed, resort))

    # -- the commit ---------------------------------------------------------

    def commit_object(
        self,
        tree: str,
        parent: str | None,
        message: str,
        author: tuple[str, str],
        committer: tuple[str, str],
        date: str,
    ) -> str:
        """Write the commit ``git commit-tree`` would; Unsupported where git would
        change the identity or read the date differently."""
        stamp = _git_time(date)
        lines = [f"tree {tree}"]
        if parent:
            lines.append(f"parent {parent}")
        lines.append(f"author {ident_or_unsupported(*author)} {stamp}")
        lines.append(f"committer {ident_or_unsupported(*committer)} {stamp}")
        body = ("\n".join(lines) + "\n\n" + message).encode("utf-8")
        return self.db.write("commit", body)


def read_ref(git_dir: Path, ref: str) -> str | None:
    if ".." in ref or ref.endswith(".lock"):
        raise Unsupported(f"odd ref name {ref}")
    try:
        value = (git_dir / ref).read_text(encoding="ascii").strip()
    except FileNotFoundError:
        value = None
    except (OSError, UnicodeDecodeError) as exc:
        raise Unsupported(f"{ref}: {exc}") from None
    if value is None:
        try:
            packed = (git_dir / "packed-refs").read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        needle = " " + ref
        value = next((line[:40] for line in packed.splitlines() if line.endswith(needle)), None)
        if value is None:
            return None
    if not re.fullmatch(r"[0-9a-f]{40}", value):
        raise Unsupported(f"{ref} holds {value[:60]!r}")
    return value


def ident_or_unsupported(name: str, email: str) -> str:
    for value in (name, email):
        if not value or value[0] in _CRUD or value[-1] in _CRUD or any(c in value for c in "<>\n"):
            raise Unsupported("git would rewrite this identity")
    return f"{name} <{email}>"


def _git_time(date: str) -> str:
    """``2025-11-21T10:00:00+08:00`` as git stores it: ``1763690400 +0800``."""
    if not _ISO_SECONDS.match(date):
        raise Unsupported(f"date {date!r}")
    moment = datetime.fromisoformat(date)
    offset = date[-6:]
    return f"{int(moment.timestamp())} {offset[0]}{offset[1:3]}{offset[4:6]}"


__all__ = [
    "MissingObject",
    "NativeRepo",
    "Unsupported",
    "fsync_loose_objects",
    "ident_or_unsupported",
    "read_ref",
    "can_write_in_process",
    "fsync_wanted",
    "true",
]
