"""Full-text search over the index: title, description, notes and resolution.

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
    path UNINDEXED, id UNINDEXED, status UNINDEXED, title, body, tokenize = 'trigram'
);
"""
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


def text_of(data: Mapping[str, Any]) -> tuple[str, str]:
    """(title, body) of a parsed case file: body is the description, every event's
    note and the resolution, one per line."""
    parts = [
        data.get("description"),
        *(e.get("note") for e in data.get("events") or ()),
        data.get("resolution"),
    ]
    body = "\n".join(str(p) for p in parts if isinstance(p, str) and p.strip())
    return str(data.get("title") or ""), body


def replace(
    conn: sqlite3.Connection, rel: str, case_id: str, status: str | None, text: tuple[str, str] | None
):
    conn.execute("DELETE FROM case_text WHERE path = ?", (rel,))
    if text is not None:
        conn.execute("INSERT INTO case_text VALUES (?, ?, ?, ?, ?)", (rel, case_id, status, *text))


def clear(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM case_text")


def _quoted(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def search(
    conn: sqlite3.Connection, text: str, limit: int | None = 20, statuses: Collection[str] | None = None
) -> list[Hit]:
    """Cases containing every term of ``text`` (any case), best first."""
    terms = [t for t in text.split() if t]
    if not terms:
        return []
    long_terms = [t for t in terms if len(t) >= 3]
    short_terms = [t for t in terms if len(t) < 3]
    where, params = [], []
    if long_terms:
        where.append("case_text MATCH ?")
        params.append(" AND ".join(_quoted(t) for t in long_terms))
    for term in short_terms:
        where.append("(title LIKE ? ESCAPE '\\' OR body LIKE ? ESCAPE '\\')")
        pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        params += [pattern, pattern]
    if statuses is not None:
        where.append(f"status IN ({','.join('?' * len(statuses))})")
        params += list(statuses)
    return _hits(conn, " AND ".join(where), params, bool(long_terms), limit, terms)


def similar(
    conn: sqlite3.Connection, title: str, body: str, exclude: str, statuses: Collection[str], limit: int = 5
) -> list[Hit]:
    """Cases in ``statuses`` sharing the most telling words (and Chinese trigrams)
    with this title and body, best first."""
    terms = _telling_terms(f"{title}\n{body}")
    if not terms:
        return []
    query = " OR ".join(_quoted(t) for t in terms)
    # A similar complaint mentions what this one is about, the words of its title:
    # sharing only the common words of notes ("customer", "已退款") is noise.
    about = _telling_terms(title)
    if about:
        query = f"({query}) AND ({' OR '.join(_quoted(t) for t in about)})"
    where = f"case_text MATCH ? AND id != ? AND status IN ({','.join('?' * len(statuses))})"
    return _hits(conn, where, [query, exclude, *statuses], True, limit, [])


def _telling_terms(text: str, at_most: int = 40) -> list[str]:
    terms: list[str] = []
    for run in _CJK.findall(text):
        terms += [run[i : i + 3] for i in range(max(len(run) - 2, 0))]
    terms += [w.lower() for w in _WORD.findall(_CJK.sub(" ", text)) if w.lower() not in _STOPWORDS]
    return list(dict.fromkeys(terms))[:at_most]


def _hits(
    conn: sqlite3.Connection, where: str, params: list[Any], ranked: bool, limit: int | None, terms: list[str]
) -> list[Hit]:
    order = "bm25(case_text, 0, 0, 0, 4.0, 1.0)" if ranked else "0"  # a title match weighs four body matches
    snippet = "snippet(case_text, 4, '[', ']', '…', 12)" if ranked else "substr(body, 1, 80)"
    rows = conn.execute(
        f"SELECT id, status, title, {snippet}, {order} AS rank FROM case_text WHERE {where} "
        f"ORDER BY rank, id LIMIT ?",
        [*params, -1 if limit is None else limit],
    ).fetchall()
    hits = [Hit(r[0], r[1] or "", r[2] or "", _one_line(r[3] or ""), float(r[4] or 0)) for r in rows]
    if not ranked and terms:  # LIKE only: show where the first term is
        hits = [Hit(h.id, h.status, h.title, _around(conn, h.id, terms[0]), h.rank) for h in hits]
    return hits


def _around(conn: sqlite3.Connection, case_id: str, term: str, width: int = 30) -> str:
    row = conn.execute("SELECT title || '\n' || body FROM case_text WHERE id = ?", (case_id,)).fetchone()
    text = _one_line(row[0] if row else "")
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
