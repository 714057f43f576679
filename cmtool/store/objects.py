"""git's object database, in-process: loose objects written with zlib, loose and
packed objects read back.

An action writes one blob per changed file, a tree per changed folder and a
commit: starting a ``git`` process for each costs more than the action's own
work at 100,000 cases. Objects are written the way git writes them (a
temporary file in the object's folder, read-only, renamed into place, fsynced
when the repository's ``core.fsync`` settings ask for it), so a commit is
never referenced before its objects are complete. Reading takes loose objects
first, then packs, then alternates; an object this reader cannot reach raises
:class:`MissingObject` and the caller asks git.
"""

from __future__ import annotations

import hashlib
import os
import zlib
from pathlib import Path

from cmtool.store.packs import Pack, PackError

TREE_MODE = b"40000"


class MissingObject(Exception):
    """Not found in-process (the caller falls back to git)."""


class ObjectDatabase:
    def __init__(self, objects_dir: Path, fsync: bool = False) -> None:
        self.dir = objects_dir
        self.fsync = fsync
        self._packs: list[Pack] | None = None
        self._alternates: list[ObjectDatabase] | None = None
        self._cache: dict[bytes, tuple[str, bytes]] = {}

    # -- reading ------------------------------------------------------------

    def read(self, sha: str) -> tuple[str, bytes]:
        """(type, content) of object ``sha`` (40 hex digits)."""
        raw = bytes.fromhex(sha)
        if len(raw) != 20:
            raise MissingObject(sha)
        return self._read(raw)

    def _read(self, raw: bytes) -> tuple[str, bytes]:
        cached = self._cache.get(raw)
        if cached is not None:
            return cached
        found = self._loose(raw.hex()) or self._packed(raw)
        if found is None and self._packs:  # a repack since the packs were listed
            self._packs = None
            found = self._packed(raw)
        if found is None:
            for other in self._alternate_dbs():
                try:
                    found = other._read(raw)
                    break
                except MissingObject:
                    continue
        if found is None:
            raise MissingObject(raw.hex())
        if found[0] != "blob":  # trees and commits are asked for again; blobs rarely
            if len(self._cache) > 256:
                self._cache.clear()
            self._cache[raw] = found
        return found

    def _loose(self, sha: str) -> tuple[str, bytes] | None:
        try:
            with open(self.dir / sha[:2] / sha[2:], "rb") as handle:
                data = zlib.decompress(handle.read())
        except FileNotFoundError:
            return None
        except zlib.error as exc:
            raise MissingObject(f"{sha}: {exc}") from None
        header, _, body = data.partition(b"\0")
        kind, _, size = header.partition(b" ")
        if not size.isdigit() or int(size) != len(body):
            raise MissingObject(f"{sha}: corrupt loose object")
        return kind.decode("ascii"), body

    def _packed(self, raw: bytes) -> tuple[str, bytes] | None:
        if self._packs is None:
            folder = self.dir / "pack"
            found = sorted(folder.glob("pack-*.idx"), key=_mtime, reverse=True) if folder.is_dir() else []
            self._packs = [Pack(path) for path in found]
        for pack in self._packs:
            try:
                offset = pack.offset(raw)
                if offset is not None:
                    return pack.read(offset, self._read)
            except (PackError, OSError, ValueError, IndexError, zlib.error) as exc:
                raise MissingObject(f"{raw.hex()}: {exc}") from None
        return None

    def _alternate_dbs(self) -> list[ObjectDatabase]:
        if self._alternates is None:
            self._alternates = []
            try:
                lines = (self.dir / "info" / "alternates").read_text(encoding="utf-8").splitlines()
            except OSError:
                lines = []
            for line in lines:
                if line.strip() and not line.startswith("#"):
                    path = Path(line.strip())
                    self._alternates.append(ObjectDatabase(path if path.is_absolute() else self.dir / path))
        return self._alternates

    def tree(self, sha: str) -> list[tuple[bytes, bytes, str]]:
        """The entries of tree ``sha``: (mode, name, object id), in stored order."""
        kind, data = self.read(sha)
        if kind != "tree":
            raise MissingObject(f"{sha} is a {kind}, not a tree")
        return parse_tree(data)

    # -- writing ------------------------------------------------------------

    def write(self, kind: str, data: bytes) -> str:
        """Store an object loose (unless it is loose already); returns its id."""
        header = f"{kind} {len(data)}\0".encode("ascii")
        sha = hashlib.sha1(header + data).hexdigest()
        folder = self.dir / sha[:2]
        target = folder / sha[2:]
        if target.exists():
            os.utime(target)  # freshened, as git does, so a prune cannot take it now
            return sha
        temp = folder / f"tmp_obj_cmtool_{os.getpid()}_{sha[2:10]}"
        fd = _create(temp)
        try:
            os.write(fd, zlib.compress(header + data, 1))
            if self.fsync:
                os.fsync(fd)
        except BaseException:
            os.close(fd)
            temp.unlink(missing_ok=True)
            raise
        os.close(fd)
        try:
            os.link(temp, target)  # like git: never replaces an object that appeared meanwhile
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            os.replace(temp, target)
        temp.unlink(missing_ok=True)
        return sha


def _create(temp: Path) -> int:
    """A new read-only temporary file (its folder made if it is the first)."""
    for _ in range(3):
        try:
            return os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        except FileNotFoundError:  # the first object of its folder
            temp.parent.mkdir(exist_ok=True)
        except FileExistsError:  # left by a killed process that had this pid
            temp.unlink()
    return os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def parse_tree(data: bytes) -> list[tuple[bytes, bytes, str]]:
    entries = []
    pos, end = 0, len(data)
    while pos < end:
        space = data.index(b" ", pos)
        nul = data.index(b"\0", space)
        entries.append((data[pos:space], data[space + 1 : nul], data[nul + 1 : nul + 21].hex()))
        pos = nul + 21
    return entries


def _sort_key(entry: tuple[bytes, bytes, str]) -> bytes:
    # git orders a folder as if its name ended in "/".
    mode, name, _ = entry
    return name + b"/" if mode == TREE_MODE else name


def format_tree(entries: list[tuple[bytes, bytes, str]], resort: bool = True) -> bytes:
    """A tree object's content, in git's order (``resort=False``: already in it)."""
    ordered = sorted(entries, key=_sort_key) if resort else entries
    return b"".join(mode + b" " + name + b"\0" + bytes.fromhex(sha) for mode, name, sha in ordered)
