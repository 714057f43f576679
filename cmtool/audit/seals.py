"""Seals: annotated tags ``cmtool-seal-<n>`` that pin the history up to a commit.

The tag message records the sealed commit, its tree and the previous seal's
tag object, so the seals form a chain. ``audit verify`` then proves, for each
seal, that the commit is still in HEAD's history with the same tree: an
``--amend``, rebase or force-push of sealed history drops the sealed commit
from HEAD's ancestry and is reported. A seal whose tag was moved, deleted or
recreated breaks the chain. (Someone who can rewrite the repository can also
rewrite every seal after the first change; a signed seal, or the id of the
latest seal kept outside the repository, closes that gap. See docs/audit.md.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cmtool.audit.findings import Finding
from cmtool.audit.trailers import TRAILER_RE
from cmtool.model.registry import SEAL_TRAILERS

PREFIX = "cmtool-seal-"
NAME_RE = re.compile(r"^cmtool-seal-(\d+)$")
NO_PREVIOUS = "none"


def seal_message(note: str, number: int, commit: str, tree: str, previous: str | None, actor: str) -> str:
    return (
        f"{note.strip() or 'audit seal'}\n\n"
        f"Cmtool-Seal: {number}\n"
        f"Cmtool-Seal-Commit: {commit}\n"
        f"Cmtool-Seal-Tree: {tree}\n"
        f"Cmtool-Seal-Previous: {previous or NO_PREVIOUS}\n"
        f"Cmtool-Actor: {actor}\n"
    )


def parse_seal_message(message: str) -> dict[str, str]:
    """The Cmtool-* fields of a seal's tag message (signature block ignored)."""
    body = message.split("-----BEGIN", 1)[0]
    fields = {}
    for line in body.splitlines():
        match = TRAILER_RE.match(line.strip())
        if match and match.group(1) in SEAL_TRAILERS:
            fields[match.group(1)] = match.group(2).strip()
    return fields


@dataclass(frozen=True)
class SealRecord:
    """What the repository says about one seal tag (gathered by the caller)."""

    name: str
    object_type: str  # "tag" for an annotated tag
    tag_object: str  # the tag object's id
    target: str  # the commit the tag points at
    message: str
    target_tree: str | None  # tree of ``target``
    recorded_exists: bool  # the commit named in the message exists
    recorded_in_head: bool  # ... and is an ancestor of (or is) HEAD
    signature_ok: bool | None = None  # git verify-tag result; None when unsigned

    @property
    def number(self) -> int:
        return seal_number(self.name)


def seal_number(name: str) -> int:
    match = NAME_RE.match(name)
    return int(match.group(1)) if match else 0


def check_seals(seals: list[SealRecord], require_signed: bool = False) -> list[Finding]:
    found: list[Finding] = []
    ordered = sorted(seals, key=lambda s: s.number)
    previous: SealRecord | None = None
    for seal in ordered:

        def flag(code: str, message: str, seal: SealRecord = seal) -> None:
            found.append(Finding(code, f"{seal.name}: {message}", seal.target))

        if seal.object_type != "tag":
            flag(
                "SEAL_NOT_ANNOTATED", "is a lightweight tag, not a cmtool seal (it records nothing to verify)"
            )
            continue
        fields = parse_seal_message(seal.message)
        recorded = fields.get("Cmtool-Seal-Commit", "")
        if not recorded or "Cmtool-Seal-Tree" not in fields:
            flag("SEAL_MALFORMED", "the tag message lacks Cmtool-Seal-Commit/Cmtool-Seal-Tree")
            continue
        if recorded != seal.target:
            flag(
                "SEAL_MOVED",
                f"the tag now points at {seal.target[:12]} but sealed "
                f"{recorded[:12]} (the tag was moved or recreated)",
            )
        elif seal.target_tree != fields["Cmtool-Seal-Tree"]:
            flag(
                "SEAL_TREE_CHANGED",
                f"sealed tree {fields['Cmtool-Seal-Tree'][:12]} but the "
                f"commit now has tree {str(seal.target_tree)[:12]}",
            )
        if not seal.recorded_exists:
            flag(
                "SEAL_COMMIT_GONE",
                f"the sealed commit {recorded[:12]} is no longer in the "
                "repository: sealed history was rewritten",
            )
        elif not seal.recorded_in_head:
            flag(
                "SEAL_NOT_IN_HISTORY",
                f"the sealed commit {recorded[:12]} is not in HEAD's "
                "history: sealed history was rewritten (amend, rebase or force-push)",
            )
        if fields.get("Cmtool-Seal") != str(seal.number):
            flag("SEAL_MALFORMED", f"the message says seal {fields.get('Cmtool-Seal')!r}")
        expected_previous = previous.tag_object if previous else NO_PREVIOUS
        if previous is None and seal.number != 1:
            flag("SEAL_CHAIN_BROKEN", f"seals 1..{seal.number - 1} are missing")
        elif previous is not None and seal.number != previous.number + 1:
            flag("SEAL_CHAIN_BROKEN", f"seal {previous.number + 1} is missing")
        elif fields.get("Cmtool-Seal-Previous") != expected_previous:
            flag(
                "SEAL_CHAIN_BROKEN",
                "names previous seal "
                f"{fields.get('Cmtool-Seal-Previous', '?')[:12]} but the previous seal tag is "
                f"{expected_previous[:12]} (a seal was deleted or recreated)",
            )
        if seal.signature_ok is False:
            flag("SEAL_BAD_SIGNATURE", "git verify-tag rejects the tag's signature")
        elif seal.signature_ok is None and require_signed:
            flag("SEAL_UNSIGNED", "is not signed, but rules.yaml requires signatures")
        previous = seal
    return found
