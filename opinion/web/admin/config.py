"""系统管理 — configuration sections and the reply templates (口径库).

Each section of the district file an admin may change has a form here; what it saves is checked by the
district file's own rules (opinion.settings.overrides.save_section), so a mistake is refused with the
loader's Chinese message and the admin's input stays on the page. The ladder, alert rules and
required reply parts are structured: they are edited as YAML text, in the same words as the file.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

import yaml
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from opinion import audit
from opinion.accounts.queries import active_units
from opinion.cases.queries import reply_templates
from opinion.errors import DistrictFileError
from opinion.labels import CLOCK_NAMES, PRIORITY_NAMES
from opinion.models import ReplyTemplate, Setting, db, utcnow
from opinion.settings.calendar import calendar_gaps
from opinion.settings.district import (
    CLOCKS,
    LADDER_RECIPIENTS,
    LADDER_TRIGGERS,
    NOTIFY_CHANNELS,
    PRIORITIES,
    Duration,
    TextDatesLoader,
    parse_duration,
)
from opinion.settings.overrides import refresh_district, save_section, section
from opinion.web.admin.forms import REFUSALS, FormError, words
from opinion.web.forms import commit_or_flash

SECTIONS = {
    "deadlines": "时限表", "escalation": "五级督办", "alerts": "预警规则与免打扰时段",
    "words": "敏感词与优先级词表", "erroneous_terms": "错误用语对照", "reply_required_parts": "回复必备要素",
    "calendar": "节假日安排", "report_recipients": "报告邮件订阅", "retention": "历史帖子归档",
}
YAML_SECTIONS = ("escalation", "alerts", "reply_required_parts", "calendar", "report_recipients")


def add_routes(bp: Blueprint) -> None:
    """Put the configuration and reply-template pages on the admin blueprint."""
    bp.add_url_rule("/config/<key>", view_func=config, methods=["GET", "POST"])
    bp.add_url_rule("/config/<key>/reset", view_func=reset, methods=["POST"])
    bp.add_url_rule("/templates", view_func=templates)
    bp.add_url_rule("/templates/<int:template_id>", view_func=edit_template, methods=["GET", "POST"])
    bp.add_url_rule("/templates/new", view_func=edit_template, methods=["GET", "POST"], defaults={"template_id": None})


def config(key: str):
    if key not in SECTIONS:
        abort(404)
    if request.method == "POST":
        def save():
            for name, value in _parse(key, request.form).items():
                save_section(current_app, name, value, current_user)
        if commit_or_flash(save, refusals=REFUSALS, prefix="未保存："):
            flash(f"{SECTIONS[key]}已保存，立即生效", "info")
            return redirect(url_for("admin.config", key=key))
        return render_template("admin/config.html", key=key, title=SECTIONS[key], form=request.form,
                               **_context()), 400
    return render_template("admin/config.html", key=key, title=SECTIONS[key], form=_form(key), **_context())


def reset(key: str):
    """Back to the district file's values for this section."""
    names = {"words": ("sensitive_words", "priority")}.get(key, (key,))
    for name in names:
        row = db.session.get(Setting, name)
        if row is not None:
            audit.record(db.session, "config.reset", "setting", None, actor=current_user,
                         before={name: row.value}, after=None, reason=name)
            db.session.delete(row)
    db.session.commit()
    refresh_district(current_app, force=True)
    flash(f"{SECTIONS.get(key, key)}已恢复为配置文件中的默认值", "info")
    return redirect(url_for("admin.config", key=key))


def _context() -> dict:
    return {"sections": SECTIONS, "PRIORITIES": PRIORITIES, "CLOCKS": CLOCKS, "CLOCK_NAMES": CLOCK_NAMES,
            "calendar_gaps": calendar_gaps_now(),
            "ladder_words": {"trigger（触发条件）": LADDER_TRIGGERS, "notify（通知对象）": LADDER_RECIPIENTS,
                             "channel（渠道）": NOTIFY_CHANNELS}}


def calendar_gaps_now() -> list[int]:
    """Years within the next 60 days whose holidays nobody has entered (opinion.settings.calendar)."""
    district = current_app.extensions["district"]
    return calendar_gaps(district, utcnow().astimezone(ZoneInfo(district.timezone)).date())


def _form(key: str) -> dict:
    """The section as form fields."""
    if key == "deadlines":
        table = section(current_app, "deadlines")
        return {f"{p}-{c}": _shown(table[p][c]) for p in PRIORITIES for c in CLOCKS}
    if key == "words":
        prio = section(current_app, "priority") or {}
        return {"sensitive_words": "\n".join(section(current_app, "sensitive_words") or []),
                "urgent_words": "\n".join(prio.get("urgent_words", [])),
                "high_words": "\n".join(prio.get("high_words", [])),
                "influential_followers": prio.get("influential_followers", 100000)}
    if key == "erroneous_terms":
        return {"text": "\n".join(f"{k}={v}" for k, v in (section(current_app, key) or {}).items())}
    if key == "retention":
        return {"months": (section(current_app, key) or {}).get("archive_after_months", 0)}
    return {"text": yaml.safe_dump(section(current_app, key), allow_unicode=True, sort_keys=False, width=100)}


def _parse(key: str, form) -> dict:
    """Form fields to {section: value}; FormError for what the district checker would not say well."""
    if key == "deadlines":
        table = {p: {c: _shown(form.get(f"{p}-{c}", "")) for c in CLOCKS} for p in PRIORITIES}
        _check_deadline_order(table)
        return {"deadlines": table}
    if key == "words":
        try:
            followers = int(form.get("influential_followers", ""))
        except ValueError:
            raise FormError("“大V粉丝数”应为整数") from None
        if followers < 0:
            raise FormError("“大V粉丝数”不能为负数")
        return {"sensitive_words": words(form.get("sensitive_words", "")),
                "priority": {"urgent_words": words(form.get("urgent_words", "")),
                             "high_words": words(form.get("high_words", "")),
                             "influential_followers": followers}}
    if key == "erroneous_terms":
        terms = {}
        for number, line in enumerate(form.get("text", "").splitlines(), 1):
            if not line.strip():
                continue
            wrong, sep, right = line.partition("=")
            if not sep or not wrong.strip() or not right.strip():
                raise FormError(f"第 {number} 行应写成“错误用语=正确用语”：{line.strip()}")
            terms[wrong.strip()] = right.strip()
        return {"erroneous_terms": terms}
    if key == "retention":
        text = form.get("months", "").strip()
        if not text.isdigit():
            raise FormError(f"“归档期限”应填月数（整数），0 表示不归档；“{text}”不是整数")
        return {"retention": {"archive_after_months": int(text)}}  # the range: the district checker
    try:
        value = yaml.load(form.get("text", ""), Loader=TextDatesLoader)  # dates stay text, checked with a message
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第 {mark.line + 1} 行" if mark else ""
        raise FormError(f"{where} YAML 格式错误：{getattr(exc, 'problem', None) or exc}") from None
    if key == "report_recipients" and value is None:
        value = {}
    expected = dict if key in ("alerts", "calendar", "report_recipients") else list
    if not isinstance(value, expected):
        raise FormError("内容应为" + ("键值映射" if expected is dict else "列表（每项以 “- ” 开头）"))
    return {key: value}


def _shown(text) -> str:
    """A deadline in the words an admin reads and types ("3个工作日"), however it was written; text
    that does not parse stays as typed, for the district checker to refuse with its rule."""
    try:
        return str(parse_duration(str(text).strip()))
    except DistrictFileError:
        return str(text).strip()


# For comparing a table's clocks only: a working day counts as a day. The deadlines themselves are
# kept in order case by case (opinion.cases.deadlines.compute_deadlines) whatever the calendar does.
_NOMINAL_HOURS = {"min": 1 / 60, "h": 1, "working_days": 24}


def _nominal_hours(duration: Duration) -> float:
    return duration.amount * _NOMINAL_HOURS[duration.unit]


def _check_deadline_order(table: dict) -> None:
    """FormError when a priority's acknowledge time is longer than its respond time, or respond
    longer than resolve; a value that does not parse is left to the district file's checker."""
    for priority, row in table.items():
        try:
            hours = {clock: _nominal_hours(parse_duration(row[clock])) for clock in CLOCKS}
        except DistrictFileError:
            continue
        for earlier, later in zip(CLOCKS, CLOCKS[1:]):
            if hours[earlier] > hours[later]:
                raise FormError(
                    f"“{PRIORITY_NAMES.get(priority, priority)}”工单的{CLOCK_NAMES[earlier]}时限"
                    f"（{row[earlier]}）长于{CLOCK_NAMES[later]}时限（{row[later]}）："
                    f"{CLOCK_NAMES[later]}不能早于{CLOCK_NAMES[earlier]}，请调整后再保存")


def templates():
    return render_template("admin/templates.html", templates=reply_templates(db.session))


def edit_template(template_id: int | None):
    template = db.session.get(ReplyTemplate, template_id) if template_id else ReplyTemplate(active=True)
    if template is None:
        abort(404)
    units = active_units(db.session)
    categories = list(current_app.extensions["district"].categories)
    if request.method == "POST":
        form = request.form

        def save() -> str:
            title, body = form.get("title", "").strip(), form.get("body", "").strip()
            if not title or len(title) > 100:
                raise FormError("标题不能为空，且不超过 100 字")
            if len(body) < 10:
                raise FormError("模板正文至少 10 个字")
            unit = next((u for u in units if u.code == form.get("unit")), None)
            category = form.get("category") or None
            if category and category not in categories:
                raise FormError(f"分类 “{category}” 不存在")
            before = {"title": template.title, "body": template.body, "active": template.active} if template.id else None
            template.title, template.body, template.category = title, body, category
            template.unit_id, template.active = (unit.id if unit else None), form.get("active") == "1"
            db.session.add(template)
            db.session.flush()
            audit.record(db.session, "template.saved", "reply_template", template.id, actor=current_user,
                         before=before, after={"title": title, "body": body, "active": template.active})
            return title
        saved = commit_or_flash(save, refusals=(FormError,))
        if saved:
            flash(f"口径模板“{saved.value}”已保存", "info")
            return redirect(url_for("admin.templates"))
        return render_template("admin/template_edit.html", template=template, form=form, units=units,
                               categories=categories), 400
    form = {"title": template.title or "", "body": template.body or "", "category": template.category or "",
            "unit": template.unit.code if template.unit else "", "active": "1" if template.active else ""}
    return render_template("admin/template_edit.html", template=template, form=form, units=units,
                           categories=categories)
