"""git's EWAH-compressed bitmaps (the split index's delete and replace sets).

Layout (``ewah/ewah_io.c``): the bitmap's size in bits, the number of 64-bit
words, the words, and the position of the last run-length word, all big-endian.
A run-length word holds the running bit (bit 0), the run's length in words
(bits 1-32) and how many literal words follow it (bits 33-63).
"""

from __future__ import annotations

import struct

_MAX_RUN = (1 << 32) - 1
_MAX_LITERALS = (1 << 31) - 1


class EwahError(ValueError):
    pass


def decode(data: bytes, pos: int = 0) -> tuple[set[int], int, int]:
    """(set bits, size in bits, position after the bitmap)."""
    if len(data) < pos + 8:
        raise EwahError("truncated bitmap")
    bit_size, count = struct.unpack_from(">II", data, pos)
    pos += 8
    if len(data) < pos + count * 8 + 4:
        raise EwahError("truncated bitmap")
    words = struct.unpack_from(f">{count}Q", data, pos)
    pos += count * 8 + 4  # the last run-length word's position is not needed to read
    bits: set[int] = set()
    index = word_no = 0
    while index < count:
        marker = words[index]
        index += 1
        run, literals = (marker >> 1) & _MAX_RUN, marker >> 33
        if marker & 1:
            bits.update(range(word_no * 64, (word_no + run) * 64))
        word_no += run
        for word in words[index : index + literals]:
            while word:
                low = word & -word
                bits.add(word_no * 64 + low.bit_length() - 1)
                word ^= low
            word_no += 1
        index += literals
    return {bit for bit in bits if bit < bit_size}, bit_size, pos


def encode(bits: set[int], bit_size: int) -> bytes:
    """The bitmap of ``bits`` (each below ``bit_size``), runs of empty words compressed."""
    width = (bit_size + 63) // 64
    words = [0] * width
    for bit in bits:
        words[bit // 64] |= 1 << (bit % 64)
    out: list[int] = []
    last_marker = 0
    index = 0
    while True:
        run = 0
        while index < width and words[index] == 0 and run < _MAX_RUN:
            run += 1
            index += 1
        start = index
        while index < width and words[index] != 0 and index - start < _MAX_LITERALS:
            index += 1
        last_marker = len(out)
        out.append((run << 1) | ((index - start) << 33))
        out.extend(words[start:index])
        if index >= width:
            break
    return struct.pack(f">II{len(out)}QI", bit_size, len(out), *out, last_marker)
