"""The words of the summary rows in each report language (the template's
``language:``). Figures are defined once (kpis.py); only their names differ."""

from __future__ import annotations

from typing import Any

WORDING: dict[str, dict[str, str]] = {
    "en": {
        "open_at_start": "Open at start of period",
        "received": "Received in period",
        "reopened_in_period": "Reopened in period",
        "closed": "Closed in period",
        "open_at_end": "Open at end of period",
        "first_response_hours": "First response (hours)",
        "first_response_business_hours": "First response (business hours)",
        "resolution_hours": "Resolution (days)",
        "resolution_business_hours": "Resolution (business hours)",
        "median": "median",
        "mean": "mean",
        "p90": "p90",
        "closed_within_3_business_days": "Closed within 3 business days",
        "closed_within_8_weeks": "Closed within 8 weeks",
        "escalated": "Escalation rate",
        "reopened": "Reopen rate",
        "first_contact_resolution": "First-contact resolution",
        "upheld": "Upheld",
        "sla": "SLA compliance: {clock}",
        "csat_average": "CSAT average (1-5)",
        "response_rate": "Survey response rate",
        "nps": "NPS",
        "repeat_complaints": "Repeat complaints",
        "redress": "Redress paid ({currency})",
        "redress_none": "Redress paid",
        "closures_of_cases": "closures, of {cases} cases",
        "reconciliation": "{start} open at start + {received} received + {reopened} reopened"
        " - {closed} closed = {end} open at end",
        "known": "{count} known",
        "unknown_left_out": ", {count} unknown left out",
        "of_known": "{count} of {known} closures",
        "unknown_paren": " ({count} unknown, left out)",
        "met_missed": "{met} met, {missed} missed",
        "answers": "{count} answers",
        "answered_closures": "closures of answered cases",
        "same_customer": "same customer within 90 days",
        "cases": "{count} cases",
    },
    "zh": {
        "open_at_start": "期初未办结",
        "received": "本期受理",
        "reopened_in_period": "本期重新打开",
        "closed": "本期办结（件次）",
        "open_at_end": "期末未办结",
        "first_response_hours": "首次响应（小时）",
        "first_response_business_hours": "首次响应（工作小时）",
        "resolution_hours": "办结用时（天）",
        "resolution_business_hours": "办结用时（工作小时）",
        "median": "中位数",
        "mean": "平均",
        "p90": "90 分位",
        "closed_within_3_business_days": "3 个工作日内办结率",
        "closed_within_8_weeks": "8 周内办结率",
        "escalated": "升级率",
        "reopened": "重开率",
        "first_contact_resolution": "首次接触解决率",
        "upheld": "投诉成立率",
        "sla": "时限达标率：{clock}",
        "csat_average": "满意度平均分（1-5）",
        "response_rate": "回访率",
        "nps": "净推荐值（NPS）",
        "repeat_complaints": "重复投诉",
        "redress": "赔付金额（{currency}）",
        "redress_none": "赔付金额",
        "closures_of_cases": "件次，涉及 {cases} 件",
        "reconciliation": "期初 {start} + 受理 {received} + 重新打开 {reopened} - 办结 {closed} = 期末 {end}",
        "known": "已知 {count} 件",
        "unknown_left_out": "，{count} 件信息不全未计入",
        "of_known": "已知 {known} 件次中 {count} 件次",
        "unknown_paren": "（{count} 件次信息不全，未计入）",
        "met_missed": "按时 {met}，超时 {missed}",
        "answers": "{count} 份答复",
        "answered_closures": "已回访的办结件次",
        "same_customer": "同一客户 90 日内",
        "cases": "{count} 件",
    },
}


def wording(language: str) -> dict[str, str]:
    return WORDING.get(language[:2], WORDING["en"])


def say(words: dict[str, str], key: str, **values: Any) -> str:
    return words[key].format(**values)
