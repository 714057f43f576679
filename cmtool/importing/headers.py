"""Column headers: find the header row under any title rows, and map headers to fields.

Headers are compared after :func:`normalize` (case, underscores, punctuation and
spacing do not matter), so ``Date_received``, ``date received`` and
``DATE RECEIVED:`` are one header. Each field lists its aliases best first; when
two columns claim one field, the better alias wins and the other is kept in
``extra``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cmtool.importing.aliases import ALIASES, SOURCE_ID, WORD_RULES
from cmtool.model.fields import FIELD_NAMES

__all__ = ["SOURCE_ID", "Column", "auto_target", "find_header_row", "normalize", "plan_columns"]

EXTRA = "extra"  # kept on the case under ``extra.<header>``
IGNORE = "ignore"  # dropped (only ever by the user's choice in --mapping)
SOURCE_PREFIX = "source."  # provenance columns of a cmtool export
EXTRA_PREFIX = "extra."  # extra columns of a cmtool export
DERIVED_PREFIX = "sla."  # derived columns of a cmtool export: recomputed, not data

_SEPARATORS = re.compile(r"[\s_\-./]+")
_DROPPED = re.compile(r"[?？:：*#()（）\[\]【】\"']")
_BRACKETED = re.compile(r"[(（【\[].*?[)）】\]]")


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
WORD_RANK = 50  # a header recognised by its words ranks below every alias


def normalize(header: Any) -> str:
    """``dateReceived``, ``Date_Received`` and ``DATE RECEIVED:`` all become ``date received``."""
    text = "" if header is None else str(header).strip()
    if not text.isupper():
        text = _CAMEL.sub(" ", text)
    text = _DROPPED.sub(" ", text.lower())
    return _SEPARATORS.sub(" ", text).strip()


def _build_lookup() -> dict[str, tuple[str, int]]:
    lookup: dict[str, tuple[str, int]] = {normalize("id"): (SOURCE_ID, 0)}
    for name in FIELD_NAMES:  # a cmtool export's own headers match best
        if name not in ("source", "extra"):  # maps: their keys are columns, see Column
            lookup[normalize(name)] = (name, 0)
    for target, aliases in ALIASES.items():
        for rank, alias in enumerate(aliases, start=1):
            lookup.setdefault(normalize(alias), (target, rank))
    return lookup


LOOKUP = _build_lookup()


def auto_target(header: Any) -> tuple[str, int] | None:
    """(target, rank) for a header, or None; rank 0 is the best match."""
    raw = "" if header is None else str(header).strip()
    lowered = raw.lower()
    if lowered.startswith((SOURCE_PREFIX, EXTRA_PREFIX, DERIVED_PREFIX)) and len(raw) > 6:
        return None  # handled by the column plan, key kept as written
    key = normalize(raw)
    if key in LOOKUP:
        return LOOKUP[key]
    unbracketed = normalize(_BRACKETED.sub(" ", raw))  # "投诉日期（必填）"
    if unbracketed and unbracketed in LOOKUP:
        return LOOKUP[unbracketed]
    return by_words(unbracketed or key)


def by_words(key: str) -> tuple[str, int] | None:
    """A header no alias names, recognised by the words it contains (see WORD_RULES)."""
    tokens = set(key.split())

    def has(word: str) -> bool:
        return word in tokens if word.isascii() else word in key

    for target, required, any_of in WORD_RULES:
        if all(has(w) for w in required) and (not any_of or any(has(w) for w in any_of)):
            return target, WORD_RANK
    return None


@dataclass(frozen=True)
class Column:
    index: int
    header: str  # as written in the file ("column F" when the cell is empty)
    target: str  # a field name, SOURCE_ID, EXTRA, IGNORE, or "source.<key>"/"sla..."
    key: str  # the key under extra/source, or the field name
    how: str  # "auto", "mapping", "content" or "unmapped": said by --show-mapping
    why: str = ""  # the evidence for the choice, said by --dry-run


def find_header_row(rows: list[tuple[Any, ...]], known: set[str], scan: int = 30) -> int:
    """Index of the header row: the first row with the most recognised headers.

    Title rows ("2024年投诉台账", "Exported 3 May") sit above it and recognise
    nothing; without any recognised header, the first row with two or more
    filled cells is taken.
    """
    best, best_score = None, 1
    for index, cells in enumerate(rows[:scan]):
        score = sum(1 for c in cells if c is not None and (auto_target(c) or str(c).strip() in known))
        if score > best_score:
            best, best_score = index, score
    if best is not None:
        return best
    for index, cells in enumerate(rows[:scan]):
        if sum(1 for c in cells if c not in (None, "")) >= 2:
            return index
    return 0


def two_row_header(top: tuple[Any, ...], below: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """The header of a sheet whose header spans two rows (a merged group cell such
    as "处理信息" above "处理人" and "结案日期"), or None when ``below`` is data.

    Each column takes its lower cell where it has one, else its upper cell."""
    filled = [c for c in below if c not in (None, "")]
    if any(not isinstance(c, str) or len(c) > 40 or any(ch.isdigit() for ch in c) for c in filled):
        return None  # numbers, dates or sentences: a data row
    known_below = sum(1 for c in filled if auto_target(c))
    if not known_below or 2 * known_below < len(filled):
        return None
    width = max(len(top), len(below))
    cells = tuple(
        (below[i] if i < len(below) and below[i] not in (None, "") else top[i] if i < len(top) else None)
        for i in range(width)
    )
    known = sum(1 for c in cells if c not in (None, "") and auto_target(c))
    return cells if known > sum(1 for c in top if c not in (None, "") and auto_target(c)) else None


def is_totals_row(cells: tuple[Any, ...]) -> bool:
    """A "Total" / "合计" line under the data: a sum, not a complaint."""
    first = next((c for c in cells if c not in (None, "")), None)
    return isinstance(first, str) and bool(_TOTALS.match(normalize(first)))


_TOTALS = re.compile(r"^(totals?|grand total|sum|合计|总计|小计|共计)\b")


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def plan_columns(header_cells: tuple[Any, ...], user: dict[str, str]) -> list[Column]:
    """Decide what each column becomes: the user's mapping first, then the aliases."""
    columns: list[Column] = []
    claimed: dict[str, tuple[int, int]] = {}  # field -> (rank, position in ``columns``)
    seen_keys: set[str] = set()
    for index, cell in enumerate(header_cells):
        header = str(cell).strip() if cell not in (None, "") else f"column {column_letter(index)}"
        if header in user:
            target, rank, how = user[header], -1, "mapping"
            why = "named in the mapping file"
        else:
            found = auto_target(cell) if cell not in (None, "") else None
            target, rank, how = (found[0], found[1], "auto") if found else (EXTRA, 0, "unmapped")
            why = _header_why(found) if found else ""
            lowered = header.lower()
            if not found and lowered.startswith((SOURCE_PREFIX, EXTRA_PREFIX, DERIVED_PREFIX)):
                target, how = header.split(".", 1)[0].lower() + ".", "auto"
        key = header.split(".", 1)[1] if target.endswith(".") else _unique(header, seen_keys)
        if target not in (EXTRA, IGNORE) and not target.endswith("."):
            if target in claimed:
                other_rank, position = claimed[target]
                if rank >= other_rank:  # the column already there matches better
                    lost = f"its header also means {target}; {columns[position].header!r} says it better"
                    columns.append(Column(index, header, EXTRA, key, "unmapped", lost))
                    continue
                old = columns[position]
                lost = f"its header also means {target}; {header!r} says it better"
                columns[position] = Column(old.index, old.header, EXTRA, old.key, "unmapped", lost)
            claimed[target] = (rank, len(columns))
            key = target
        columns.append(Column(index, header, target, key, how, why))
    return columns


def _header_why(found: tuple[str, int]) -> str:
    target, rank = found
    if rank == WORD_RANK:
        return f"header words mean {target}"
    return f"header means {target}" if rank else f"header is the field name {target}"


def _unique(header: str, seen: set[str]) -> str:
    key, count = header, 1
    while key in seen:
        count += 1
        key = f"{header} ({count})"
    seen.add(key)
    return key
