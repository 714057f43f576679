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

from cmtool.model.fields import FIELD_NAMES

SOURCE_ID = "source_id"  # the source's own complaint ID (kept in ``source.id``)
EXTRA = "extra"  # kept on the case under ``extra.<header>``
IGNORE = "ignore"  # dropped (only ever by the user's choice in --mapping)
SOURCE_PREFIX = "source."  # provenance columns of a cmtool export
EXTRA_PREFIX = "extra."  # extra columns of a cmtool export
DERIVED_PREFIX = "sla."  # derived columns of a cmtool export: recomputed, not data

ALIASES: dict[str, tuple[str, ...]] = {
    SOURCE_ID: (
        "complaint id",
        "id",
        "case id",
        "case number",
        "complaint number",
        "ticket id",
        "ticket number",
        "reference",
        "reference number",
        "ref",
        "投诉编号",
        "投诉单号",
        "工单号",
        "工单编号",
        "案件编号",
        "编号",
        "单号",
    ),
    "title": (
        "title",
        "subject",
        "summary",
        "issue",
        "complaint title",
        "投诉标题",
        "标题",
        "投诉主题",
        "主题",
        "投诉事项",
        "问题",
    ),
    "description": (
        "description",
        "consumer complaint narrative",
        "complaint narrative",
        "narrative",
        "complaint",
        "complaint text",
        "complaint details",
        "details",
        "投诉内容",
        "投诉详情",
        "问题描述",
        "详细描述",
        "内容",
    ),
    "customer": (
        "customer",
        "customer name",
        "consumer",
        "consumer name",
        "client",
        "name",
        "客户姓名",
        "客户名称",
        "客户",
        "投诉人",
        "投诉人姓名",
        "姓名",
    ),
    "contact": (
        "contact",
        "phone",
        "phone number",
        "telephone",
        "mobile",
        "email",
        "e mail",
        "contact number",
        "联系电话",
        "联系方式",
        "电话",
        "手机",
        "手机号",
        "邮箱",
    ),
    "customer_tier": ("customer tier", "tier", "segment", "客户等级", "会员等级", "客户级别"),
    "product": ("product", "product name", "产品", "产品名称", "涉及产品"),
    "region": ("region", "state", "province", "area", "地区", "省份", "区域", "所在地区"),
    "category": (
        "category",
        "complaint type",
        "type",
        "complaint category",
        "投诉类别",
        "投诉类型",
        "投诉分类",
        "类别",
        "分类",
        "问题类型",
    ),
    "channel": ("channel", "submitted via", "source", "received via", "投诉渠道", "渠道", "投诉来源", "来源"),
    "status": (
        "status",
        "company response to consumer",
        "company response",
        "case status",
        "处理状态",
        "状态",
        "投诉状态",
    ),
    "priority": ("priority", "severity", "urgency", "优先级", "紧急程度"),
    "assignee": ("assignee", "assigned to", "owner", "handler", "agent", "处理人", "负责人", "经办人"),
    "team": ("team", "department", "处理部门", "责任部门", "部门"),
    "filed_at": (
        "date received",
        "received",
        "received date",
        "date filed",
        "filed at",
        "complaint date",
        "created",
        "created at",
        "date opened",
        "opened",
        "date",
        "投诉日期",
        "投诉时间",
        "受理日期",
        "受理时间",
        "登记日期",
        "创建时间",
        "日期",
    ),
    "first_response_at": (
        "first response at",
        "first response",
        "first response date",
        "首次响应时间",
        "首次回复时间",
    ),
    "resolved_at": ("resolved at", "resolved", "date resolved", "resolution date", "解决日期", "解决时间"),
    "closed_at": (
        "closed at",
        "date closed",
        "closed",
        "close date",
        "closing date",
        "结案日期",
        "结案时间",
        "办结日期",
        "办结时间",
        "关闭时间",
    ),
    "resolution": ("resolution", "outcome", "result", "处理结果", "处理意见", "解决方案", "处理情况"),
    "root_cause": ("root cause", "cause", "根本原因", "投诉原因", "原因"),
    "remedy": ("remedy", "补救措施"),
    "redress": ("redress", "compensation", "refund amount", "赔偿金额", "补偿金额"),
    "upheld": ("upheld", "是否成立"),
    "csat": ("csat", "satisfaction", "满意度"),
    "survey_comment": ("survey comment", "feedback", "回访意见"),
    "tags": ("tags", "labels", "标签"),
}

_SEPARATORS = re.compile(r"[\s_\-./]+")
_DROPPED = re.compile(r"[?？:：*#()（）\[\]【】\"']")
_BRACKETED = re.compile(r"[(（【\[].*?[)）】\]]")


def normalize(header: Any) -> str:
    text = "" if header is None else str(header)
    text = _DROPPED.sub(" ", text.strip().lower())
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
    return LOOKUP.get(unbracketed) if unbracketed else None


@dataclass(frozen=True)
class Column:
    index: int
    header: str  # as written in the file ("column F" when the cell is empty)
    target: str  # a field name, SOURCE_ID, EXTRA, IGNORE, or "source.<key>"/"sla..."
    key: str  # the key under extra/source, or the field name
    how: str  # "auto", "mapping" or "unmapped": said by --show-mapping


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
        else:
            found = auto_target(cell) if cell not in (None, "") else None
            target, rank, how = (found[0], found[1], "auto") if found else (EXTRA, 0, "unmapped")
            lowered = header.lower()
            if not found and lowered.startswith((SOURCE_PREFIX, EXTRA_PREFIX, DERIVED_PREFIX)):
                target, how = header.split(".", 1)[0].lower() + ".", "auto"
        key = header.split(".", 1)[1] if target.endswith(".") else _unique(header, seen_keys)
        if target not in (EXTRA, IGNORE) and not target.endswith("."):
            if target in claimed:
                other_rank, position = claimed[target]
                if rank >= other_rank:  # the column already there matches better
                    columns.append(Column(index, header, EXTRA, key, "unmapped"))
                    continue
                old = columns[position]
                columns[position] = Column(old.index, old.header, EXTRA, old.key, "unmapped")
            claimed[target] = (rank, len(columns))
            key = target
        columns.append(Column(index, header, target, key, how))
    return columns


def _unique(header: str, seen: set[str]) -> str:
    key, count = header, 1
    while key in seen:
        count += 1
        key = f"{header} ({count})"
    seen.add(key)
    return key
