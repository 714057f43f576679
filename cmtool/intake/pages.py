"""The pages of ``cmtool serve`` in English and Chinese: plain HTML forms that
work without JavaScript, every field with a visible label, every value escaped."""

from __future__ import annotations

from html import escape
from typing import Any

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Make a complaint",
        "intro": "Tell us what went wrong. We will acknowledge your complaint and reply in writing.",
        "name": "Your name",
        "contact": "E-mail address or phone number",
        "subject": "What is your complaint about?",
        "description": "What happened, and what would you like us to do?",
        "send": "Send complaint",
        "required": "required",
        "thanks": "Thank you. We have received your complaint.",
        "reference": "Your reference",
        "code": "Your status code (keep it: you need it to see where your complaint stands)",
        "status_title": "Where does my complaint stand?",
        "case_id": "Reference (e.g. C-251121-Q9ABCDE)",
        "status_code": "Status code",
        "look": "Show status",
        "not_found": "We found no complaint with this reference and code. Please check both.",
        "status": "Status",
        "received": "Received",
        "deadline": "We will answer by",
        "letters": "Letters sent to you",
        "no_letters": "No letter yet.",
        "other": "中文",
        "other_lang": "zh",
        "status_link": "Check the status of a complaint",
        "form_link": "Make a complaint",
        "error": "Something is not right",
    },
    "zh": {
        "title": "投诉",
        "intro": "请告诉我们发生了什么。我们会确认收到您的投诉，并以书面形式答复。",
        "name": "您的姓名",
        "contact": "电子邮箱或电话号码",
        "subject": "投诉事项",
        "description": "事情经过及您的诉求",
        "send": "提交投诉",
        "required": "必填",
        "thanks": "谢谢。我们已收到您的投诉。",
        "reference": "投诉编号",
        "code": "查询码（请保存，查询处理进度时需要）",
        "status_title": "查询投诉处理进度",
        "case_id": "投诉编号（例如 C-251121-Q9ABCDE）",
        "status_code": "查询码",
        "look": "查询",
        "not_found": "未找到与该编号和查询码相符的投诉，请核对后重试。",
        "status": "状态",
        "received": "收到日期",
        "deadline": "答复期限",
        "letters": "已发送的函件",
        "no_letters": "暂无函件。",
        "other": "English",
        "other_lang": "en",
        "status_link": "查询投诉处理进度",
        "form_link": "提交投诉",
        "error": "提交有误",
    },
}
STATUS_WORDS = {
    "en": {
        "new": "received",
        "assigned": "received, with a handler",
        "in_progress": "being looked into",
        "waiting": "waiting for information from you",
        "resolved": "answered",
        "closed": "closed",
    },
    "zh": {
        "new": "已收到",
        "assigned": "已受理",
        "in_progress": "处理中",
        "waiting": "等待您补充材料",
        "resolved": "已答复",
        "closed": "已办结",
    },
}
LETTER_WORDS = {
    "en": {"ack": "acknowledgement", "holding": "holding reply", "final": "final response"},
    "zh": {"ack": "受理确认函", "holding": "延期告知函", "final": "最终答复函"},
}
STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:2em auto;padding:0 1em}"
    "label{display:block;margin-top:1em;font-weight:600}input,textarea{width:100%;font:inherit;padding:.4em}"
    "button{margin-top:1.2em;font:inherit;padding:.5em 1.2em}.error{color:#a00}dt{font-weight:600}"
)


def page(lang: str, title: str, body: str, path: str) -> str:
    t = TEXT[lang]
    return (
        f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}">\n'
        '<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n"
        f'<p><a href="{path}?lang={t["other_lang"]}" lang="{t["other_lang"]}">{t["other"]}</a></p>\n'
        f"<h1>{escape(title)}</h1>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _field(name: str, label: str, value: str, required: bool, lang: str, kind: str = "input") -> str:
    need = f" <span>({TEXT[lang]['required']})</span>" if required else ""
    attrs = f'id="{name}" name="{name}"' + (' required aria-required="true"' if required else "")
    if kind == "textarea":
        control = f'<textarea {attrs} rows="8" maxlength="10000">{escape(value)}</textarea>'
    else:
        control = f'<input {attrs} type="text" maxlength="320" value="{escape(value)}">'
    return f'<label for="{name}">{escape(label)}{need}</label>\n{control}'


def complaint_form(lang: str, values: dict[str, str] | None = None, errors: list[str] | None = None) -> str:
    t, v = TEXT[lang], values or {}
    problems = ""
    if errors:
        items = "".join(f"<li>{escape(e)}</li>" for e in errors)
        problems = f'<div class="error" role="alert"><h2>{t["error"]}</h2><ul>{items}</ul></div>\n'
    body = (
        f"{problems}<p>{t['intro']}</p>\n"
        f'<form method="post" action="/complaints" accept-charset="utf-8">\n'
        f'<input type="hidden" name="lang" value="{lang}">\n'
        + "\n".join(
            [
                _field("name", t["name"], v.get("name", ""), True, lang),
                _field("contact", t["contact"], v.get("contact", ""), True, lang),
                _field("subject", t["subject"], v.get("subject", ""), True, lang),
                _field("description", t["description"], v.get("description", ""), True, lang, "textarea"),
            ]
        )
        + f'\n<button type="submit">{t["send"]}</button>\n</form>\n'
        f'<p><a href="/status?lang={lang}">{t["status_link"]}</a></p>'
    )
    return page(lang, t["title"], body, "/")


def thanks(lang: str, case_id: str, code: str) -> str:
    t = TEXT[lang]
    body = (
        f'<p role="status">{t["thanks"]}</p>\n<dl>\n'
        f'<dt>{t["reference"]}</dt><dd id="case-id">{escape(case_id)}</dd>\n'
        f'<dt>{t["code"]}</dt><dd id="status-code">{escape(code)}</dd>\n</dl>\n'
        f'<p><a href="/status?lang={lang}&amp;id={escape(case_id)}">{t["status_link"]}</a></p>'
    )
    return page(lang, t["title"], body, "/")


def status_form(lang: str, case_id: str = "", not_found: bool = False) -> str:
    t = TEXT[lang]
    error = f'<p class="error" role="alert">{t["not_found"]}</p>\n' if not_found else ""
    body = (
        f'{error}<form method="get" action="/status">\n<input type="hidden" name="lang" value="{lang}">\n'
        + _field("id", t["case_id"], case_id, True, lang)
        + "\n"
        + _field("code", t["status_code"], "", True, lang)
        + f'\n<button type="submit">{t["look"]}</button>\n</form>\n'
        f'<p><a href="/?lang={lang}">{t["form_link"]}</a></p>'
    )
    return page(lang, t["status_title"], body, "/status")


def status_page(lang: str, view: dict[str, Any]) -> str:
    t = TEXT[lang]
    letters = "".join(
        f"<li>{LETTER_WORDS[lang].get(item['kind'], item['kind'])} — {escape(str(item['at'])[:10])}</li>"
        for item in view["letters"]
    )
    rows = [
        (t["reference"], view["id"]),
        (t["status"], STATUS_WORDS[lang].get(view["status"], view["status"])),
        (t["received"], str(view["filed_at"] or "")[:10]),
    ]
    if view["next_deadline"]:
        rows.append((t["deadline"], str(view["next_deadline"])[:10]))
    body = (
        "<dl>\n"
        + "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>\n" for k, v in rows)
        + f"</dl>\n<h2>{t['letters']}</h2>\n"
        + (f"<ul>{letters}</ul>" if letters else f"<p>{t['no_letters']}</p>")
    )
    return page(lang, t["status_title"], body, "/status")


def error_page(lang: str, message: str) -> str:
    return page(lang, TEXT[lang]["error"], f'<p class="error" role="alert">{escape(message)}</p>', "/")
