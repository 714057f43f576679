"""Keeping git's index in step with an action, in-process, touching only its entries.

At 100,000 cases the index holds 100,000 entries (10 MB); ``git update-index``
reads all of it to change one. Workspaces run with ``core.splitIndex``: the
big ``sharedindex.<id>`` file never changes, and the small ``index`` file lists
the entries that differ from it (replaced ones by position in a bitmap, new ones
by name). This module rewrites only that small file, under git's own
``index.lock``, exactly as git would have after ``git update-index --add``.
Finding a path's position in the shared file uses a table of entry offsets
built once per shared file (``.git/cmtool/``, disposable).

Anything unusual (no split index, index version 4, conflicts, skip-worktree
entries, extensions this code does not know, a split part grown large) raises
:class:`Unsupported`, and the caller runs ``git update-index`` instead.
"""

from __future__ import annotations

import array
import hashlib
import mmap
import os
import stat
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cmtool.store import ewah

ENTRY_FIXED = 62  # stat data, mode, ids, object id and flags, before the name
EXTENDED = 0x4000
STAGE_MASK = 0x3000
NAME_MASK = 0x0FFF
KEPT_EXTENSIONS = {b"link", b"TREE", b"UNTR"}  # rewritten (link), invalidated (TREE) or kept
DROPPED_EXTENSIONS = {b"EOIE", b"IEOT"}  # offsets into the old file: optional, left out
FOLD_AT = 5000  # entries in the split part: past this, git re-splits (one full write)
MAX_CHANGES = 500  # a bulk commit (an import): git's own update is built for that many


class Unsupported(Exception):
    """An index this writer does not handle; git does."""


class Fold(Unsupported):
    """The split part has grown large: git should write a new shared index."""


class IndexLocked(Exception):
    """``index.lock`` exists: a git command is writing the index."""


@dataclass
class _Entry:
    raw: bytearray  # the entry as stored, name and padding included
    name: bytes  # empty for a replacement (its name is the shared entry's)


@dataclass
class _SplitIndex:
    version: int
    entries: list[_Entry]
    shared_id: bytes
    deleted: set[int]
    replaced: set[int]
    extensions: list[tuple[bytes, bytes]] = field(default_factory=list)


def _entry_size(header: int, name_length: int) -> int:
    return (header + name_length + 8) & ~7


def _read_entries(data: bytes | mmap.mmap, count: int, pos: int, version: int) -> tuple[list[_Entry], int]:
    entries = []
    for _ in range(count):
        flags = struct.unpack_from(">H", data, pos + 60)[0]
        header = ENTRY_FIXED + (2 if flags & EXTENDED and version >= 3 else 0)
        if flags & (EXTENDED | STAGE_MASK):
            raise Unsupported("conflict, intent-to-add or skip-worktree entries")
        end = data.index(b"\0", pos + header)
        name = bytes(data[pos + header : end])
        size = _entry_size(header, len(name))
        entries.append(_Entry(bytearray(data[pos : pos + size]), name))
        pos += size
    return entries, pos


def _parse(data: bytes) -> _SplitIndex:
    if len(data) < 32 or data[:4] != b"DIRC":
        raise Unsupported("not an index file")
    version, count = struct.unpack_from(">II", data, 4)
    if version not in (2, 3):
        raise Unsupported(f"index version {version}")
    if count > FOLD_AT:
        raise Fold(f"{count} entries in the split index")
    entries, pos = _read_entries(data, count, 12, version)
    link = None
    extensions = []
    while pos < len(data) - 20:
        name, size = struct.unpack_from(">4sI", data, pos)
        body = data[pos + 8 : pos + 8 + size]
        pos += 8 + size
        if name == b"link":
            link = body
        elif name in KEPT_EXTENSIONS:
            extensions.append((name, body))
        elif name not in DROPPED_EXTENSIONS:
            raise Unsupported(f"index extension {name!r}")
    if link is None or len(link) < 20 or link[:20] == bytes(20):
        raise Unsupported("not a split index")
    deleted, replaced = set(), set()
    if len(link) > 20:
        deleted, _, after = ewah.decode(link, 20)
        replaced, _, _ = ewah.decode(link, after)
    if len(replaced) > len(entries):
        raise Unsupported("corrupt link extension")
    return _SplitIndex(version, entries, link[:20], deleted, replaced, extensions)


class SharedIndex:
    """The shared file, mapped; entry positions found by binary search on names."""

    def __init__(self, git_dir: Path, shared_id: bytes) -> None:
        name = f"sharedindex.{shared_id.hex()}"
        with open(git_dir / name, "rb") as handle:
            self.data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        if self.data[:4] != b"DIRC":
            raise Unsupported("shared index is not an index file")
        self.version, self.count = struct.unpack_from(">II", self.data, 4)
        if self.version not in (2, 3):
            raise Unsupported(f"shared index version {self.version}")
        self.offsets = self._offsets(git_dir / "cmtool" / f"{name}.offsets")

    def _offsets(self, cache: Path) -> Sequence[int]:
        """Where each entry starts: read from the cache beside the index (mapped,
        not loaded: a lookup touches a few pages), else computed and cached."""
        try:
            with open(cache, "rb") as handle:
                if os.fstat(handle.fileno()).st_size == self.count * 8 and self.count:
                    return memoryview(mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)).cast("Q")
        except OSError:
            pass
        table = array.array("Q")
        pos, data = 12, self.data
        for _ in range(self.count):
            table.append(pos)
            flags = struct.unpack_from(">H", data, pos + 60)[0]
            header = ENTRY_FIXED + (2 if flags & EXTENDED and self.version >= 3 else 0)
            length = flags & NAME_MASK
            if length == NAME_MASK:
                length = _nul(data, pos + header) - pos - header
            pos += _entry_size(header, length)
        try:
            cache.parent.mkdir(exist_ok=True)
            for old in cache.parent.glob("sharedindex.*.offsets"):
                old.unlink(missing_ok=True)
            temp = cache.with_name(f".{cache.name}.{os.getpid()}")
            temp.write_bytes(table.tobytes())
            os.replace(temp, cache)
        except OSError:
            pass  # a cache only: the next action builds it again
        return table

    def name_at(self, position: int) -> tuple[bytes, int]:
        pos = self.offsets[position]
        flags = struct.unpack_from(">H", self.data, pos + 60)[0]
        header = ENTRY_FIXED + (2 if flags & EXTENDED and self.version >= 3 else 0)
        end = _nul(self.data, pos + header)
        return bytes(self.data[pos + header : end]), flags

    def position(self, name: bytes) -> int | None:
        lo, hi = 0, self.count
        while lo < hi:
            mid = (lo + hi) // 2
            if self.name_at(mid)[0] < name:
                lo = mid + 1
            else:
                hi = mid
        if lo >= self.count:
            return None
        found, flags = self.name_at(lo)
        if found != name:
            return None
        following = self.name_at(lo + 1) if lo + 1 < self.count else (b"", 0)
        if flags & STAGE_MASK or following[0] == name:
            raise Unsupported(f"{name!r} has conflict entries")
        return lo


def _nul(data: mmap.mmap, start: int) -> int:
    end = data.find(b"\0", start)
    if end < 0:
        raise Unsupported("shared index entry without a name's end")
    return end


def _entry_for(root: Path, path: str, blob: str) -> bytearray:
    """An index entry for ``path`` as it is on disk now, recording ``blob``."""
    info = os.lstat(root / path)
    if not stat.S_ISREG(info.st_mode):
        raise Unsupported(f"{path} is not a regular file")
    mode = 0o100755 if info.st_mode & 0o100 else 0o100644
    name = path.encode("utf-8")
    raw = bytearray(_entry_size(ENTRY_FIXED, len(name)))
    struct.pack_into(
        ">10I20sH",
        raw,
        0,
        int(info.st_ctime) & 0xFFFFFFFF,
        info.st_ctime_ns % 1_000_000_000,
        int(info.st_mtime) & 0xFFFFFFFF,
        info.st_mtime_ns % 1_000_000_000,
        info.st_dev & 0xFFFFFFFF,
        info.st_ino & 0xFFFFFFFF,
        mode,
        info.st_uid & 0xFFFFFFFF,
        info.st_gid & 0xFFFFFFFF,
        info.st_size & 0xFFFFFFFF,
        bytes.fromhex(blob),
        min(len(name), NAME_MASK),
    )
    raw[ENTRY_FIXED : ENTRY_FIXED + len(name)] = name
    return raw


def update(root: Path, changes: Mapping[str, str | None]) -> None:
    """Record ``changes`` (path -> blob id now on disk, None = removed) in the index."""
    if len(changes) > MAX_CHANGES:
        raise Unsupported(f"{len(changes)} paths at once")
    git_dir = root / ".git"
    index_path, lock_path = git_dir / "index", git_dir / "index.lock"
    try:
        fd = os.open(lock_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        raise IndexLocked(
            f"unable to create {lock_path}: it exists (a git command is writing the index)"
        ) from None
    try:
        index = _parse(index_path.read_bytes())
        shared = SharedIndex(git_dir, index.shared_id)
        for path, blob in sorted(changes.items()):
            _apply(index, shared, path, None if blob is None else _entry_for(root, path, blob))
        os.write(fd, _serialize(index, changes))
        os.close(fd)
        fd = -1
        os.replace(lock_path, index_path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        lock_path.unlink(missing_ok=True)
        raise


def _apply(index: _SplitIndex, shared: SharedIndex, path: str, entry: bytearray | None) -> None:
    name = path.encode("utf-8")
    replacements = len(index.replaced)
    added = index.entries[replacements:]
    for number, existing in enumerate(added):
        if existing.name == name:
            if entry is None:
                del index.entries[replacements + number]
            else:
                existing.raw = entry
            return
    position = shared.position(name)
    if position is None or position in index.deleted:
        if entry is not None:
            added.append(_Entry(entry, name))
            added.sort(key=lambda e: e.name)
            index.entries[replacements:] = added
        return
    ordered = sorted(index.replaced)
    rank = sum(1 for bit in ordered if bit < position)
    if position in index.replaced:
        if entry is None:
            del index.entries[rank]
            index.replaced.discard(position)
            index.deleted.add(position)
        else:
            index.entries[rank] = _Entry(_nameless(entry), b"")
    elif entry is None:
        index.deleted.add(position)
    else:
        index.entries.insert(rank, _Entry(_nameless(entry), b""))
        index.replaced.add(position)


def _nameless(entry: bytearray) -> bytearray:
    """A replacement entry: git stores it without its name (the shared one has it)."""
    raw = bytearray(_entry_size(ENTRY_FIXED, 0))
    raw[:ENTRY_FIXED] = entry[:ENTRY_FIXED]
    flags = struct.unpack_from(">H", raw, 60)[0]
    struct.pack_into(">H", raw, 60, flags & ~NAME_MASK)
    return raw


def _serialize(index: _SplitIndex, changes: Mapping[str, str | None]) -> bytes:
    parts = [struct.pack(">4sII", b"DIRC", index.version, len(index.entries))]
    parts += [bytes(entry.raw) for entry in index.entries]
    bitmaps = [(index.deleted, "deleted"), (index.replaced, "replaced")]
    link = index.shared_id + b"".join(ewah.encode(bits, max(bits, default=-1) + 1) for bits, _ in bitmaps)
    extensions = [(b"link", link)]
    for name, body in index.extensions:
        extensions.append((name, _invalidate_trees(body, changes) if name == b"TREE" else body))
    for name, body in extensions:
        parts.append(struct.pack(">4sI", name, len(body)) + body)
    content = b"".join(parts)
    return content + hashlib.sha1(content).digest()


def _invalidate_trees(body: bytes, changes: Mapping[str, str | None]) -> bytes:
    """The cache-tree with every folder above a changed path marked invalid
    (git recomputes those on its next commit), as ``git update-index`` does."""
    touched = {()}
    for path in changes:
        parts = tuple(path.encode("utf-8").split(b"/")[:-1])
        touched.update(parts[:depth] for depth in range(1, len(parts) + 1))
    out: list[bytes] = []
    pos = _copy_tree(body, 0, (), touched, out)
    if pos != len(body):
        raise Unsupported("cache-tree extension has trailing data")
    return b"".join(out)


def _copy_tree(body: bytes, pos: int, prefix: tuple[bytes, ...], touched: set, out: list[bytes]) -> int:
    nul = body.index(b"\0", pos)
    name = body[pos:nul]
    newline = body.index(b"\n", nul)
    count_text, subtrees_text = body[nul + 1 : newline].split(b" ")
    count, subtrees = int(count_text), int(subtrees_text)
    pos = newline + 1
    here = prefix + (name,) if prefix or name else ()
    if count >= 0:
        sha = body[pos : pos + 20]
        pos += 20
    if here in touched:
        out.append(name + b"\0-1 " + subtrees_text + b"\n")
    elif count >= 0:
        out.append(body[nul - len(name) : newline + 1] + sha)
    else:
        out.append(body[nul - len(name) : newline + 1])
    for _ in range(subtrees):
        pos = _copy_tree(body, pos, here, touched, out)
    return pos
