"""Reading objects out of git's pack files, in-process.

An action reads a few trees of HEAD (the root, ``cases/``, a year, a month).
After ``git gc`` they live in a pack, often as deltas against other trees;
asking a ``git`` process for them costs more than resolving them here. Only
what an action needs is implemented: version-2 ``.idx`` files, the four base
object types and both delta kinds. Anything else raises :class:`PackError`
and the caller asks git instead.
"""

from __future__ import annotations

import mmap
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

TYPES = {1: "commit", 2: "tree", 3: "blob", 4: "tag"}
OFS_DELTA, REF_DELTA = 6, 7
_IDX_MAGIC = b"\xfftOc"
MAX_CHAIN = 10_000  # git writes chains of at most 4095 (pack.depth); more means a loop


class PackError(Exception):
    """A pack this reader does not understand (git still may)."""


def _map(path: Path) -> mmap.mmap:
    with open(path, "rb") as handle:
        return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)


class Pack:
    """One ``pack-*.pack`` with its ``.idx``, mapped lazily."""

    def __init__(self, idx_path: Path) -> None:
        self.idx_path = idx_path
        self._idx: mmap.mmap | None = None
        self._pack: mmap.mmap | None = None
        self._count = 0

    def _open_idx(self) -> mmap.mmap:
        if self._idx is None:
            idx = _map(self.idx_path)
            if idx[:4] != _IDX_MAGIC or struct.unpack(">I", idx[4:8])[0] != 2:
                raise PackError(f"{self.idx_path.name}: not a version-2 pack index")
            self._count = struct.unpack(">I", idx[8 + 255 * 4 : 8 + 256 * 4])[0]
            self._idx = idx
        return self._idx

    def offset(self, sha: bytes) -> int | None:
        """Where object ``sha`` (20 raw bytes) starts in the pack, or None."""
        idx = self._open_idx()
        first = sha[0]
        lo = struct.unpack(">I", idx[8 + (first - 1) * 4 : 8 + first * 4])[0] if first else 0
        hi = struct.unpack(">I", idx[8 + first * 4 : 12 + first * 4])[0]
        names = 8 + 256 * 4
        while lo < hi:
            mid = (lo + hi) // 2
            here = idx[names + mid * 20 : names + mid * 20 + 20]
            if here < sha:
                lo = mid + 1
            elif here > sha:
                hi = mid
            else:
                return self._offset_at(idx, mid)
        return None

    def _offset_at(self, idx: mmap.mmap, position: int) -> int:
        small = 8 + 256 * 4 + self._count * 24
        value = struct.unpack(">I", idx[small + position * 4 : small + position * 4 + 4])[0]
        if not value & 0x80000000:
            return value
        large = small + self._count * 4 + (value & 0x7FFFFFFF) * 8
        return struct.unpack(">Q", idx[large : large + 8])[0]

    def read(self, offset: int, by_id: Callable[[bytes], tuple[str, bytes]]) -> tuple[str, bytes]:
        """The object at ``offset``: its type and content, deltas applied
        (``by_id`` finds the base of a delta that names it by id)."""
        if self._pack is None:
            self._pack = _map(self.idx_path.with_suffix(".pack"))
        pack = self._pack
        deltas: list[bytes] = []
        for _ in range(MAX_CHAIN):
            kind, size, start = _entry_header(pack, offset)
            if kind in TYPES:
                kind_name, data = TYPES[kind], _inflate(pack, start, size)
                break
            if kind == OFS_DELTA:
                distance, start = _ofs_distance(pack, start)
                deltas.append(_inflate(pack, start, size))
                offset -= distance
            elif kind == REF_DELTA:
                base = bytes(pack[start : start + 20])
                deltas.append(_inflate(pack, start + 20, size))
                kind_name, data = by_id(base)
                break
            else:
                raise PackError(f"object type {kind} at {offset}")
        else:
            raise PackError("delta chain too long")
        for delta in reversed(deltas):
            data = apply_delta(data, delta)
        return kind_name, data


def _entry_header(pack: mmap.mmap, offset: int) -> tuple[int, int, int]:
    byte = pack[offset]
    kind, size, shift = (byte >> 4) & 7, byte & 15, 4
    offset += 1
    while byte & 0x80:
        byte = pack[offset]
        size |= (byte & 0x7F) << shift
        shift += 7
        offset += 1
    return kind, size, offset


def _ofs_distance(pack: mmap.mmap, offset: int) -> tuple[int, int]:
    byte = pack[offset]
    distance = byte & 0x7F
    offset += 1
    while byte & 0x80:
        byte = pack[offset]
        distance = ((distance + 1) << 7) | (byte & 0x7F)
        offset += 1
    return distance, offset


def _inflate(pack: mmap.mmap, start: int, size: int) -> bytes:
    stream = zlib.decompressobj()
    chunk = size + 64
    data = stream.decompress(pack[start : start + chunk], size)
    while not stream.eof and len(data) < size:
        start += chunk
        if start >= len(pack):
            raise PackError("truncated object")
        data += stream.decompress(stream.unconsumed_tail + pack[start : start + chunk], size - len(data))
    if len(data) != size:
        raise PackError("object size does not match its header")
    return data


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def apply_delta(base: bytes, delta: bytes) -> bytes:
    """git's delta format: copy ranges of ``base`` and insert literal bytes."""
    source_size, pos = _varint(delta, 0)
    target_size, pos = _varint(delta, pos)
    if source_size != len(base):
        raise PackError("delta base has the wrong size")
    out = []
    end = len(delta)
    while pos < end:
        op = delta[pos]
        pos += 1
        if op & 0x80:
            start = length = 0
            for bit, shift in ((0x01, 0), (0x02, 8), (0x04, 16), (0x08, 24)):
                if op & bit:
                    start |= delta[pos] << shift
                    pos += 1
            for bit, shift in ((0x10, 0), (0x20, 8), (0x40, 16)):
                if op & bit:
                    length |= delta[pos] << shift
                    pos += 1
            out.append(base[start : start + (length or 0x10000)])
        elif op:
            out.append(delta[pos : pos + op])
            pos += op
        else:
            raise PackError("delta opcode 0")
    result = b"".join(out)
    if len(result) != target_size:
        raise PackError("delta result has the wrong size")
    return result
