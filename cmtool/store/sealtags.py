"""Seal tags in git: list them with what verification needs, and create one."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from cmtool.errors import GitError
from cmtool.store.gitenv import git_environ
from cmtool.store.gitread import BlobReader, is_ancestor, run_git

SEAL_PREFIX = "cmtool-seal-"
_SEP = "\x1f"


@dataclass(frozen=True)
class SealTag:
    name: str
    object_type: str  # "tag" when annotated
    tag_object: str
    target: str  # the commit it points at
    target_tree: str | None
    message: str
    signature_ok: bool | None  # None when the tag carries no signature


def read_seal_tags(root: Path) -> list[SealTag]:
    """Every ``cmtool-seal-*`` tag with its target commit, tree and message."""
    fmt = (
        _SEP.join(("%(refname:short)", "%(objecttype)", "%(objectname)", "%(*objectname)", "%(contents)"))
        + "\x1e"
    )
    out = run_git(root, "for-each-ref", f"--format={fmt}", f"refs/tags/{SEAL_PREFIX}*")
    tags = []
    rows = [row.lstrip("\n") for row in out.split("\x1e") if row.strip()]
    with BlobReader(root) as reader:
        for row in rows:
            name, kind, obj, peeled, message = row.split(_SEP, 4)
            target = peeled or obj
            tree = _tree_of(reader.read(target))
            signature_ok = _verify_tag(root, name) if "-----BEGIN" in message else None
            tags.append(SealTag(name, kind, obj, target, tree, message, signature_ok))
    return tags


def commit_in_history(root: Path, commit: str, head: str | None) -> tuple[bool, bool]:
    """(the commit exists, it is HEAD or an ancestor of HEAD)."""
    if not commit:
        return False, False
    with BlobReader(root) as reader:
        exists = reader.read(commit) is not None
    return exists, exists and head is not None and is_ancestor(root, commit, head)


def _tree_of(commit_text: bytes | None) -> str | None:
    if not commit_text:
        return None
    first = commit_text.split(b"\n", 1)[0].decode("ascii", "replace")
    return first[5:] if first.startswith("tree ") else None


def _verify_tag(root: Path, name: str) -> bool:
    done = subprocess.run(["git", "verify-tag", name], cwd=root, capture_output=True, env=git_environ())
    return done.returncode == 0


def create_seal_tag(root: Path, name: str, target: str, message: str, sign: bool, env: dict[str, str]) -> str:
    """An annotated (optionally signed) tag; returns the tag object's id."""
    args = ["git", "tag", "-s" if sign else "-a", "-F", "-", name, target]
    done = subprocess.run(
        args, cwd=root, input=message.encode("utf-8"), capture_output=True, env=git_environ(env)
    )
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(
            f"git tag failed: {detail[-1] if detail else done.returncode}",
            hint="signing needs user.signingkey (and gpg or gpg.format=ssh) configured" if sign else None,
        )
    return run_git(root, "rev-parse", f"refs/tags/{name}").strip()
