"""What complaint exports call each field, in English and Chinese.

Headers are compared after ``headers.normalize`` (case, camelCase, underscores
and punctuation do not matter), so each alias is written once in plain words.
Aliases are listed best first: when two columns claim a field, the better one
wins. The spellings come from the exports teams actually leave: CFPB's
database, open-data 311 service requests, Zendesk / Freshdesk / Jira Service
Management, UK firms' complaints logs, China's 12315 and complaint portals.
"""

from __future__ import annotations

SOURCE_ID = "source_id"  # the source's own complaint ID (kept in ``source.id``)


def _words(text: str) -> tuple[str, ...]:
    return tuple(word.strip() for word in text.split("|") if word.strip())


ALIASES: dict[str, tuple[str, ...]] = {
    SOURCE_ID: _words(
        "complaint id|id|case id|case number|case no|complaint number|complaint no|complaint reference|"
        "ticket id|ticket number|ticket no|ticket|issue key|key|unique key|request id|request number|"
        "service request number|sr number|reference|reference number|ref|ref no|our ref|"
        "投诉编号|投诉单号|工单号|工单编号|案件编号|投诉号|单号|编号"
    ),
    "title": _words(
        "title|subject|summary|issue|headline|complaint summary|summary of complaint|complaint title|problem|"
        "投诉标题|标题|投诉主题|主题|投诉事项|问题简述|投诉问题|投诉摘要|问题摘要|问题|诉求"
    ),
    "description": _words(
        "description|consumer complaint narrative|complaint narrative|narrative|complaint|"
        "complaint text|complaint details|complaint description|details|detail|body|comments|comment|"
        "problem description|ticket description|issue description|text|message|"
        "投诉内容|投诉详情|问题描述|详细描述|详细内容|具体问题|诉求内容|内容|详情|描述"
    ),
    "customer": _words(
        "customer|customer name|consumer|consumer name|client|client name|complainant|complainant name|"
        "requester|requester name|reporter|contact name|name|"
        "客户姓名|客户名称|客户|投诉人|投诉人姓名|投诉用户|用户|消费者|姓名"
    ),
    "contact": _words(
        "contact|phone|phone number|telephone|mobile|email|e mail|email address|requester email|"
        "contact number|contact email|联系电话|联系方式|电话|手机|手机号|邮箱"
    ),
    "customer_tier": _words("customer tier|tier|segment|客户等级|会员等级|客户级别"),
    "product": _words(
        "product|product name|product type|product service|product or service|model|vehicle model|"
        "产品|产品名称|涉及产品|车系|车型|投诉车型|商品|商品名称"
    ),
    "region": _words(
        "region|state|province|area|borough|city|county|地区|省份|区域|所在地区|所在地|省市|城市"
    ),
    "category": _words(
        "category|complaint type|type|complaint category|problem type|issue category|request type|"
        "complaint reason|投诉类别|投诉类型|投诉分类|类别|分类|问题类型|问题分类|故障类型|典型问题"
    ),
    "channel": _words(
        "channel|submitted via|source|received via|via|origin|contact channel|open data channel type|"
        "投诉渠道|渠道|投诉来源|来源|受理渠道"
    ),
    "status": _words(
        "status|company response to consumer|company response|case status|ticket status|"
        "complaint status|request status|处理状态|状态|投诉状态|投诉进度|进度|处理进度"
    ),
    "priority": _words("priority|severity|urgency|优先级|紧急程度"),
    "assignee": _words(
        "assignee|assigned to|owner|case owner|handler|agent|assigned agent|responsible|"
        "处理人|负责人|经办人|承办人"
    ),
    "team": _words(
        "team|department|group|assigned group|agency|responsible department|"
        "处理部门|责任部门|部门|承办单位|处理单位|受理单位"
    ),
    "filed_at": _words(
        "date received|received|received date|received on|date filed|filed at|complaint date|"
        "created|created at|created date|created on|date created|creation date|create time|"
        "date opened|opened|opened on|opened date|open date|submitted|submitted at|submitted date|"
        "date submitted|submission date|date reported|reported date|report date|request date|date|"
        "投诉日期|投诉时间|受理日期|受理时间|登记日期|登记时间|创建时间|创建日期|提交时间|"
        "发布时间|反馈时间|来电时间|日期|时间"
    ),
    "first_response_at": _words(
        "first response at|first response|first response date|first response time|first reply time|"
        "首次响应时间|首次回复时间"
    ),
    "resolved_at": _words(
        "resolved at|resolved|date resolved|resolved date|resolution date|solved at|solved date|"
        "解决日期|解决时间"
    ),
    "closed_at": _words(
        "closed at|date closed|closed|close date|closed date|closing date|closed on|completed date|"
        "结案日期|结案时间|办结日期|办结时间|关闭时间|完成时间"
    ),
    "resolution": _words(
        "resolution|outcome|result|resolution description|处理结果|处理意见|解决方案|处理情况|回复内容"
    ),
    "root_cause": _words("root cause|cause|根本原因|投诉原因|原因"),
    "remedy": _words("remedy|补救措施"),
    "redress": _words("redress|redress paid|compensation|compensation paid|refund amount|赔偿金额|补偿金额"),
    "upheld": _words("upheld|是否成立"),
    "csat": _words("csat|satisfaction|satisfaction score|满意度"),
    "survey_comment": _words("survey comment|feedback|回访意见"),
    "tags": _words("tags|labels|标签"),
}

# Headers no alias names, recognised by their words: (field, words that must all
# occur, any of these too). "Date the complaint was received" has "date" and
# "received"; "投诉受理时间" has "时间" and "受理". Tried in order.
WORD_RULES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("closed_at", ("date",), ("closed", "close", "closing", "completed")),
    ("resolved_at", ("date",), ("resolved", "solved", "resolution")),
    ("filed_at", ("date",), ("received", "created", "opened", "submitted", "filed", "reported", "logged")),
    ("closed_at", ("time",), ("closed", "close", "completed")),
    ("resolved_at", ("time",), ("resolved", "solved")),
    ("first_response_at", ("response",), ("first", "initial")),
    ("filed_at", ("time",), ("received", "created", "opened", "submitted", "logged")),
    ("closed_at", ("时间",), ("结案", "办结", "关闭", "完成", "结束")),
    ("closed_at", ("日期",), ("结案", "办结", "关闭", "完成", "结束")),
    ("filed_at", ("时间",), ("投诉", "受理", "创建", "提交", "登记", "发布", "反馈")),
    ("filed_at", ("日期",), ("投诉", "受理", "创建", "提交", "登记", "发布", "反馈")),
    (SOURCE_ID, ("id",), ("complaint", "ticket", "case", "request", "record")),
    ("description", ("narrative",), ()),
    ("status", ("status",), ()),
    ("assignee", ("assigned",), ("to", "agent", "user")),
)
