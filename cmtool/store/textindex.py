"""Full-text search over the index: title, description, notes and resolution.

Each of the four is a column of its own, so a search can be held to the fields
the person asking may read (``fields``): a word that only a hidden field holds
finds nothing, and the snippet comes from a field they may read.

An FTS5 table with the trigram tokenizer lives beside the index's tables, so it
is refreshed in the same transaction as the row it belongs to. Trigrams find
Chinese as well as English without a word segmenter: any three characters of a
text match, whatever the language. A term shorter than three characters (张强,
a two-character name) cannot use trigrams and is matched with LIKE instead.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS case_text USING fts5(
    path UNINDEXED, id UNINDEXED, status UNINDEXED, title, description, notes, resolution,
    tokenize = 'trigram'
);
-- Which row of case_text holds a file's text: an FTS5 table finds a row fast only by
-- its rowid, and a DELETE by path would scan every row (at 100k cases, 0.2 s per
-- refreshed file, and a rebuild quadratic in the number of files).
CREATE TABLE IF NOT EXISTS case_text_rows (path TEXT PRIMARY KEY, row INTEGER);
"""
TEXT_FIELDS = ("title", "description", "notes", "resolution")  # the searchable columns, in order
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[^\W_]{3,}")
# Words too common to say what a complaint is about (for --similar).
_STOPWORD_TEXT = """
the and for with was were not but you your our this that have has had from they them
after before then when what which would could about again been into over more very
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@dataclass(frozen=True)
class Hit:
    id: str
    status: str
    title: str
    snippet: str
    rank: float


def text_of(data: Mapping[str, Any]) -> tuple[str, ...]:
    """The texts of ``TEXT_FIELDS`` of a parsed case file; notes: every event's
    note, one per line."""
    notes = [e.get("note") for e in data.get("events") or () if isinstance(e, Mapping)]
    return (
        _text(data.get("title")),
        _text(data.get("description")),
        "\n".join(n for n in notes if isinstance(n, str) and n.strip()),
        _text(data.get("resolution")),
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _columns(fields: Collection[str] | None) -> list[str]:
    """The columns to search: ``fields`` (None: every one) in table order."""
    return [c for c in TEXT_FIELDS if fields is None or c in fields]


def _column_filter(columns: list[str]) -> str:
    return "{" + " ".join(columns) + "}"


def replace(
    conn: sqlite3.Connection, rel: str, case_id: str, status: str | None, text: tuple[str, ...] | None
):
    held = conn.execute("SELECT row FROM case_text_rows WHERE path = ?", (rel,)).fetchone()
    if held is not None:
        conn.execute("DELETE FROM case_text WHERE rowid = ?", held)
    if text is None:
        conn.execute("DELETE FROM case_text_rows WHERE path = ?", (rel,))
        return
    row = conn.execute(
        "INSERT INTO case_text VALUES (?, ?, ?, ?, ?, ?, ?)", (rel, case_id, status, *text)
    ).lastrowid
    conn.execute("INSERT OR REPLACE INTO case_text_rows VALUES (?, ?)", (rel, row))


def clear(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM case_text")
    conn.execute("DELETE FROM case_text_rows")


def _quoted(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def search(
    conn: sqlite3.Connection,
    text: str,
    limit: int | None = 20,
    statuses: Collection[str] | None = None,
    fields: Collection[str] | None = None,
) -> list[Hit]:
    """Cases containing every term of ``text`` (any case) in ``fields`` (None:
    every text field), best first."""
    terms = [t for t in text.split() if t]
    columns = _columns(fields)
    if not terms or not columns:
        return []
    long_terms = [t for t in terms if len(t) >= 3]
    short_terms = [t for t in terms if len(t) < 3]
    where, params = [], []
    if long_terms:
        where.append("case_text MATCH ?")
        params.append(f"{_column_filter(columns)} : (" + " AND ".join(_quoted(t) for t in long_terms) + ")")
    for term in short_terms:
        where.append("(" + " OR ".join(f"{c} LIKE ? ESCAPE '\\'" for c in columns) + ")")
        pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        params += [pattern] * len(columns)
    if statuses is not None:
        where.append(f"status IN ({','.join('?' * len(statuses))})")
        params += list(statuses)
    return _hits(conn, " AND ".join(where), params, bool(long_terms), limit, terms, columns)


def text_row(conn: sqlite3.Connection, case_id: str, fields: Collection[str] | None = None) -> str | None:
    """The indexed text of one case in ``fields`` (None: all), one field a line."""
    columns = _columns(fields)
    if not columns:
        return None
    # The text table's id column is not indexed (FTS5): find its row through the
    # case's path, as replace() does, rather than scanning every case's text.
    row = conn.execute(
        f"SELECT {' || char(10) || '.join(columns)} FROM case_text WHERE rowid = ("
        "SELECT r.row FROM case_text_rows r JOIN cases c ON c.path = r.path WHERE c.id = ? LIMIT 1)",
        (case_id,),
    ).fetchone()
    return row[0] if row else None


def similar(
    conn: sqlite3.Connection,
    title: str,
    text: str,
    exclude: str,
    statuses: Collection[str],
    limit: int = 5,
    fields: Collection[str] | None = None,
) -> list[Hit]:
    """Cases in ``statuses`` sharing the most telling words (and Chinese trigrams)
    with ``text`` in ``fields`` (None: all), best first."""
    terms = _telling_terms(text)
    columns = _columns(fields)
    if not terms or not columns:
        return []
    query = " OR ".join(_quoted(t) for t in terms)
    # A similar complaint mentions what this one is about, the words of its title:
    # sharing only the common words of notes ("customer", "已退款") is noise.
    about = _telling_terms(title)
    if about:
        query = f"({query}) AND ({' OR '.join(_quoted(t) for t in about)})"
    where = f"case_text MATCH ? AND id != ? AND status IN ({','.join('?' * len(statuses))})"
    params = [f"{_column_filter(columns)} : ({query})", exclude, *statuses]
    return _hits(conn, where, params, True, limit, [], columns)


def _telling_terms(text: str, at_most: int = 40) -> list[str]:
    terms: list[str] = []
    for run in _CJK.findall(text):
        terms += [run[i : i + 3] for i in range(max(len(run) - 2, 0))]
    terms += [w.lower() for w in _WORD.findall(_CJK.sub(" ", text)) if w.lower() not in _STOPWORDS]
    return list(dict.fromkeys(terms))[:at_most]


def _hits(
    conn: sqlite3.Connection,
    where: str,
    params: list[Any],
    ranked: bool,
    limit: int | None,
    terms: list[str],
    columns: list[str],
) -> list[Hit]:
    # A title match weighs four matches elsewhere; the snippet comes from the
    # searched column with the most matches.
    order = "bm25(case_text, 0, 0, 0, 4.0, 1.0, 1.0, 1.0)" if ranked else "0"
    snippet = "snippet(case_text, -1, '[', ']', '…', 12)" if ranked else "''"
    rows = conn.execute(
        f"SELECT id, status, title, {snippet}, {order} AS rank FROM case_text WHERE {where} "
        f"ORDER BY rank, id LIMIT ?",
        [*params, -1 if limit is None else limit],
    ).fetchall()
    hits = [Hit(r[0], r[1] or "", r[2] or "", _one_line(r[3] or ""), float(r[4] or 0)) for r in rows]
    if not ranked and terms:  # LIKE only: show where the first term is
        hits = [Hit(h.id, h.status, h.title, _around(conn, h.id, terms[0], columns), h.rank) for h in hits]
    return hits


def _around(conn: sqlite3.Connection, case_id: str, term: str, columns: list[str], width: int = 30) -> str:
    text = _one_line(text_row(conn, case_id, columns) or "")
    at = text.casefold().find(term.casefold())
    if at < 0:
        return text[: 2 * width]
    start = max(0, at - width)
    piece = (
        text[start:at] + "[" + text[at : at + len(term)] + "]" + text[at + len(term) : at + len(term) + width]
    )
    return ("…" if start else "") + piece + ("…" if at + len(term) + width < len(text) else "")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def optimize(conn: sqlite3.Connection) -> None:
    """Merge every segment, so the terms of deleted texts are gone from the file."""
    conn.execute("INSERT INTO case_text(case_text) VALUES ('optimize')")
