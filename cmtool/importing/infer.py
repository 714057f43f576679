"""What the content of a column says it is, where its header left it open.

After the headers are matched (``headers.plan_columns``), each column still
kept under ``extra`` is profiled over a sample of rows and may be taken for a
field nobody claimed: a date column (the one holding the earliest date of a row
most often is the date received), a status or channel column by its
vocabulary, an ID column by uniqueness, the free-text column by length and
variety. Columns of a few repeated short values (a product, a company, a
complaint type) are what a title is built from when the sheet has none. Every
choice carries its evidence, which ``--dry-run`` prints.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from cmtool.importing import dates
from cmtool.importing.headers import EXTRA, SOURCE_ID, Column, normalize
from cmtool.importing.values import DEFAULT_TABLES, is_empty, text_of

SAMPLE_ROWS = 2000
SHARE = 0.9  # of the filled cells that must fit a vocabulary or a date shape
FREE_TEXT_LENGTH = 20  # mean length of a free-text column, in characters
SHORT_TEXT_LENGTH = 60  # longest mean length of a "short field" a title is built from
TITLE_PARTS = 2
ID_WORDS = ("id", "no", "number", "key", "ref", "reference", "编号", "单号", "号")
DESCRIBING_WORDS = ("descriptor", "sub", "issue", "problem", "reason", "detail", "type", "kind")
DESCRIBING_WORDS_CN = ("问题", "原因", "故障", "现象", "类型", "诉求")


@dataclass(frozen=True)
class Profile:
    """What a column's sampled cells look like."""

    values: tuple[Any, ...]  # the filled cells
    rows: int  # sampled rows
    distinct: int
    mean_length: float
    date_share: float
    spaced_share: float  # cells with a space inside: free text, not codes

    @property
    def filled(self) -> int:
        return len(self.values)

    def share_in(self, table: dict[str, str]) -> float:
        hits = sum(1 for v in self.values if normalize(text_of(v)) in table)
        return hits / self.filled if self.filled else 0.0


def profile(body: Sequence[tuple[Any, ...]], index: int) -> Profile:
    sample = body[:SAMPLE_ROWS]
    values = tuple(row[index] for row in sample if index < len(row) and not is_empty(row[index]))
    texts = [text_of(v) for v in values]
    count = len(values) or 1
    return Profile(
        values,
        len(sample),
        len(set(texts)),
        sum(len(t) for t in texts) / count,
        sum(1 for v in values if dates.looks_like_date(v)) / count,
        sum(1 for t in texts if " " in t.strip()) / count,
    )


def samples(body: Sequence[tuple[Any, ...]], index: int, count: int = 3) -> tuple[str, ...]:
    """The first few distinct values of a column, shortened for one line."""
    found: list[str] = []
    for row in body[:SAMPLE_ROWS]:
        if index < len(row) and not is_empty(row[index]):
            text = " ".join(text_of(row[index]).split())
            text = text if len(text) <= 40 else text[:39] + "…"
            if text not in found:
                found.append(text)
                if len(found) == count:
                    break
    return tuple(found)


@dataclass(frozen=True)
class Inference:
    columns: list[Column]
    title_from: tuple[Column, ...]  # short descriptive columns a missing title is built from
    titles_built: bool  # the sheet has no title or description column at all
    decisions: list[str]


def infer(columns: list[Column], body: Sequence[tuple[Any, ...]]) -> Inference:
    profiles = {c.index: profile(body, c.index) for c in columns}
    columns = list(columns)
    claimed = {c.target for c in columns}

    def take(column: Column, target: str, why: str) -> None:
        position = columns.index(column)
        columns[position] = replace(column, target=target, key=target, how="content", why=why)
        claimed.add(target)

    def open_columns() -> list[Column]:
        return [c for c in columns if c.target == EXTRA and c.how == "unmapped" and profiles[c.index].filled]

    _infer_received(columns, open_columns(), profiles, body, claimed, take)
    for target in ("status", "channel"):
        if target in claimed:
            continue
        table = DEFAULT_TABLES[target]
        for column in open_columns():
            share = profiles[column.index].share_in(table)
            if share >= SHARE:
                take(column, target, f"{share:.0%} of the cells are {target} words")
                break
    _infer_closed(columns, open_columns(), profiles, body, claimed, take)
    if SOURCE_ID not in claimed:
        ids = [c for c in open_columns() if _is_identifier(profiles[c.index])]
        ids.sort(key=lambda c: not any(w in normalize(c.header).split() for w in ID_WORDS))
        if ids:
            p = profiles[ids[0].index]
            take(ids[0], SOURCE_ID, f"every one of {p.filled} values is different, short and without spaces")
    if "description" not in claimed:
        texts = [c for c in open_columns() if _is_free_text(profiles[c.index])]
        if texts:
            best = max(texts, key=lambda c: profiles[c.index].mean_length)
            p = profiles[best.index]
            take(
                best,
                "description",
                f"free text: {p.mean_length:.0f} characters on average, "
                f"{p.distinct} different values in {p.filled}",
            )
    title_from = _title_sources(columns, profiles)
    for position, column in enumerate(columns):
        if column.target == EXTRA and not column.why:
            columns[position] = replace(column, why=_extra_why(profiles[column.index]))
    built = not claimed & {"title", "description"}
    decisions = []
    if built and title_from:
        names = " + ".join(repr(c.header) for c in title_from)
        decisions.append(f"no column holds a title or description: each title is built from {names}")
    return Inference(columns, title_from, built, decisions)


def _infer_received(columns, candidates, profiles, body, claimed, take) -> None:
    """Columns of dates; when no header says which is the date received, the one
    that holds the earliest date of a row most often is."""
    date_like = [c for c in candidates if profiles[c.index].date_share >= SHARE]
    if "filed_at" in claimed or not date_like:
        return
    known_dates = [c for c in columns if c.target in ("first_response_at", "resolved_at", "closed_at")]
    pool = date_like + known_dates
    earliest = dict.fromkeys((c.index for c in pool), 0)
    rows = 0
    orders = {c.index: dates.decide_order(profiles[c.index].values) for c in pool}
    for row in body[:SAMPLE_ROWS]:
        moments = []
        for column in pool:
            value = row[column.index] if column.index < len(row) else None
            order = orders[column.index]
            try:
                moments.append((dates.parse_date(value, order and order.order, UTC), column.index))
            except (ValueError, TypeError, OverflowError):
                continue
        if moments:
            rows += 1
            earliest[min(moments, key=lambda m: (m[0], pool_position(pool, m[1])))[1]] += 1
    best = max(date_like, key=lambda c: (earliest[c.index], -c.index))
    p = profiles[best.index]
    why = f"{p.date_share:.0%} of the cells are dates"
    if len(pool) > 1:
        why += f"; the earliest date of the row in {earliest[best.index]} of {rows} rows"
    take(best, "filed_at", why)


def _infer_closed(columns, candidates, profiles, body, claimed, take) -> None:
    """A date column filled on exactly the rows whose status is resolved or closed
    is the closing date (an "updated" date is filled on open rows too)."""
    status = next((c for c in columns if c.target == "status"), None)
    if status is None or claimed & {"closed_at", "resolved_at"}:
        return
    table = DEFAULT_TABLES["status"]
    for column in (c for c in candidates if profiles[c.index].date_share >= SHARE):
        done_dated = open_empty = wrong = 0
        for row in body[:SAMPLE_ROWS]:
            word = table.get(normalize(text_of(row[status.index]))) if status.index < len(row) else None
            if word is None:
                continue
            dated = column.index < len(row) and not is_empty(row[column.index])
            done = word in ("resolved", "closed")
            if dated and done:
                done_dated += 1
            elif not dated and not done:
                open_empty += 1
            else:
                wrong += 1
        total = done_dated + open_empty + wrong
        if done_dated and open_empty and wrong <= 0.05 * total:
            take(
                column,
                "closed_at",
                f"dates on {done_dated} resolved or closed rows and on none of {open_empty} open ones",
            )
            return


def pool_position(pool: list[Column], index: int) -> int:
    return next(i for i, c in enumerate(pool) if c.index == index)


def _extra_why(p: Profile) -> str:
    if not p.filled:
        return "no field matches and the sampled cells are empty; kept under extra"
    if _is_repeated_short(p):
        return (
            f"no field matches; kept under extra ({p.distinct} different values in {p.filled}: "
            "a repeated short field)"
        )
    return "no field matches; kept under extra"


def _is_identifier(p: Profile) -> bool:
    return (
        p.filled >= max(2, 0.95 * p.rows)
        and p.distinct == p.filled
        and p.date_share < 0.5
        and p.spaced_share < 0.1
        and all(len(text_of(v)) <= 40 for v in p.values)
    )


def _is_free_text(p: Profile) -> bool:
    """Long, varied text written in sentences: a narrative, not a name repeated."""
    sentences = sum(1 for v in p.values if _SENTENCE.search(text_of(v))) / (p.filled or 1)
    return (
        p.mean_length >= FREE_TEXT_LENGTH
        and p.distinct >= 0.9 * p.filled
        and (p.mean_length >= 2 * FREE_TEXT_LENGTH or sentences >= 0.5)
        and p.date_share < 0.5
    )


_SENTENCE = re.compile(r"[.,;!?。，；！？](\s|$)|[。，；！？]")


def _is_short(p: Profile) -> bool:
    """Short text, not dates or numbers: a field a title can be built from."""
    return (
        p.filled > 0
        and p.mean_length <= SHORT_TEXT_LENGTH
        and p.date_share < 0.5
        and not all(isinstance(v, (int, float, datetime)) or text_of(v).isdigit() for v in p.values)
    )


def _is_repeated_short(p: Profile) -> bool:
    return _is_short(p) and (p.distinct < p.filled or p.filled == 1)


def _describes(header: str) -> bool:
    words = header.split()
    return any(w in words or w + "s" in words for w in DESCRIBING_WORDS) or any(
        w in header for w in DESCRIBING_WORDS_CN
    )


def _title_sources(columns: list[Column], profiles: dict[int, Profile]) -> tuple[Column, ...]:
    """The most descriptive short fields: what the complaint is about (category,
    else product), then the extra column of repeated short values whose header
    says it describes (a descriptor, a sub-issue, a problem type)."""
    chosen: list[Column] = []
    for target in ("category", "product"):
        found = next((c for c in columns if c.target == target), None)
        if found is not None:
            chosen.append(found)
            break
    extras = [c for c in columns if c.target == EXTRA and _is_short(profiles[c.index])]
    describing = [c for c in extras if _describes(normalize(c.header))]
    repeated = [c for c in extras if _is_repeated_short(profiles[c.index])]
    for column in describing or ([] if chosen else repeated):
        if len(chosen) >= TITLE_PARTS:
            break
        chosen.append(column)
    if not chosen:
        product = next((c for c in columns if c.target in ("product", "team", "region")), None)
        chosen += [product] if product else []
    return tuple(chosen)
