"""Cell values to field values: the status/channel/priority tables and plain conversions."""

from __future__ import annotations

import re
from typing import Any

from cmtool.importing.headers import normalize
from cmtool.store.cellsafe import restore

# Words a sheet uses -> ours. Keys are compared after headers.normalize().
STATUS_WORDS: dict[str, tuple[str, ...]] = {
    "new": (
        "new",
        "open",
        "opened",
        "received",
        "pending",
        "unassigned",
        "not started",
        "to do",
        "新建",
        "新",
        "待处理",
        "待受理",
        "未处理",
    ),
    "assigned": (
        "assigned",
        "accepted",
        "waiting for support",
        "已分派",
        "已派单",
        "已分配",
        "已受理",
        "已转办",
    ),
    "in_progress": (
        "in progress",
        "processing",
        "working",
        "investigating",
        "work in progress",
        "escalated",
        "open in progress",
        "untimely response",
        "处理中",
        "跟进中",
        "办理中",
        "正在处理",
        "进行中",
        "调查中",
    ),
    "waiting": (
        "waiting",
        "on hold",
        "pending customer",
        "awaiting customer",
        "waiting on customer",
        "waiting for customer",
        "待客户回复",
        "等待客户",
        "挂起",
    ),
    "resolved": (
        "resolved",
        "solved",
        "fixed",
        "done",
        "answered",
        "已解决",
        "已处理",
        "已回复",
        "处理完毕",
        "已答复",
    ),
    "closed": (
        "closed",
        "closed with explanation",
        "closed with monetary relief",
        "closed with non monetary relief",
        "closed with relief",
        "closed without relief",
        "closed with non-monetary relief",
        "complete",
        "completed",
        "canceled",
        "cancelled",
        "已关闭",
        "已结案",
        "结案",
        "已完成",
        "关闭",
        "已办结",
        "办结",
        "完结",
        "已归档",
    ),
}
CHANNEL_WORDS: dict[str, tuple[str, ...]] = {
    "phone": (
        "phone",
        "telephone",
        "call",
        "call center",
        "hotline",
        "电话",
        "热线",
        "来电",
        "客服热线",
        "电话投诉",
    ),
    "email": ("email", "e mail", "电子邮件", "邮件"),
    "web": ("web", "website", "online", "web form", "internet", "网站", "官网", "网上", "在线"),
    "app": ("app", "mobile app", "mobile", "手机app", "客户端", "小程序"),
    "social": (
        "social",
        "social media",
        "twitter",
        "facebook",
        "weibo",
        "wechat",
        "微博",
        "微信",
        "抖音",
        "社交媒体",
    ),
    "regulator": (
        "regulator",
        "referral",
        "12315",
        "12378",
        "监管",
        "监管转办",
        "银保监",
        "消协",
        "监管转送",
        "金融监管",
    ),
    "letter": ("letter", "postal mail", "mail", "post", "信函", "来信"),
    "in_person": ("in person", "walk in", "branch", "visit", "现场", "柜台", "来访", "到店", "网点"),
    "chat": ("chat", "live chat", "在线客服", "客服聊天"),
    "other": ("other", "fax", "其他", "传真"),
}
PRIORITY_WORDS: dict[str, tuple[str, ...]] = {
    "low": ("low", "minor", "p4", "低"),
    "normal": ("normal", "medium", "moderate", "p3", "中", "一般", "普通"),
    "high": ("high", "major", "important", "p2", "高", "重要"),
    "critical": ("critical", "urgent", "blocker", "p1", "紧急", "特急", "重大"),
}
TRUE_WORDS = {"yes", "y", "true", "1", "是", "成立", "upheld"}
FALSE_WORDS = {"no", "n", "false", "0", "否", "不成立", "not upheld"}
EMPTY_WORDS = {"", "-", "--", "n/a", "na", "null", "none", "nil", "/", "无", "空"}


def default_table(words: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {normalize(word): target for target, group in words.items() for word in group}


DEFAULT_TABLES = {
    "status": default_table(STATUS_WORDS),
    "channel": default_table(CHANNEL_WORDS),
    "priority": default_table(PRIORITY_WORDS),
}


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in EMPTY_WORDS)


def text_of(value: Any) -> str:
    """A cell as text: whole floats without '.0', exported neutralised formulas undone."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    # cmtool export writes "'=..." for text that would run as a formula in a CSV.
    return restore(str(value).strip())


def to_number(value: Any) -> float | int:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    cleaned = re.sub(r"[\s,¥$€£元]|RMB|CNY|USD", "", str(value), flags=re.IGNORECASE)
    try:
        number = float(cleaned)
    except ValueError:
        raise ValueError(f"{value!r} is not a number") from None
    return int(number) if number.is_integer() and "." not in cleaned else number


def to_int(value: Any) -> int:
    number = to_number(value)
    if isinstance(number, float) and not number.is_integer():
        raise ValueError(f"{value!r} is not a whole number")
    return int(number)


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = text_of(value).lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"{value!r} is not yes or no")


def to_list(value: Any) -> list[str]:
    return [part.strip() for part in re.split(r"[,;，；、]", text_of(value)) if part.strip()]


def pad_zip(value: Any) -> Any:
    """US ZIP codes that a spreadsheet turned into numbers lost their leading zeros."""
    text = text_of(value)
    return text.zfill(5) if text.isdigit() and 3 <= len(text) < 5 else text
