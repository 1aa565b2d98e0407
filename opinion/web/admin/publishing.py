"""系统管理 → 发布与矩阵: who approves a unit's statement, what a 情况通报 must state, and the days
after which an official account is a 僵尸号 or one that never answers comments.

A 情况通报's required parts are regular expressions in the district file; an admin never sees one.
The shipped parts keep their rules and can be switched off or given more words that show them; a
part the admin adds is recognised by the plain words typed for it (matched literally). Everything
is checked here first and saved together, so nothing half-saved takes effect.
"""
from __future__ import annotations

import re

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from opinion.settings.district import MATRIX_DAYS_MAX, read_district_data
from opinion.settings.overrides import plain, save_section, section
from opinion.web.admin.forms import REFUSALS, FormError, words
from opinion.web.forms import commit_or_flash

APPROVAL_NAMES = {"head_or_monitor": "本单位负责人或舆情监测中心审核", "monitor": "仅由舆情监测中心审核"}
NEW_ROWS = 2  # blank rows for parts to add


def add_routes(bp: Blueprint) -> None:
    bp.add_url_rule("/publishing", view_func=publishing, methods=["GET", "POST"])


def shipped_parts() -> list[dict]:
    """The 情况通报 parts of the district file itself, whose rules the admin may not edit."""
    return plain(read_district_data(current_app.config["DISTRICT_FILE"]).get("situation_report_parts") or [])


def _unescape(pattern: str) -> str:
    return re.sub(r"\\(.)", r"\1", pattern)


def _rows(current: list[dict]) -> list[dict]:
    """One row per part, shipped ones first (on when the district uses them), then the admin's
    own: {name, shipped, on, words} where words are the ones the admin typed."""
    shipped = {p["name"]: p for p in shipped_parts()}
    now = {p["name"]: p for p in current}
    rows = []
    for name, part in shipped.items():
        extra = [_unescape(p) for p in now.get(name, {}).get("patterns", []) if p not in part["patterns"]]
        rows.append({"name": name, "shipped": True, "on": name in now, "words": "、".join(extra)})
    for name, part in now.items():
        if name not in shipped:
            rows.append({"name": name, "shipped": False, "on": True,
                         "words": "、".join(_unescape(p) for p in part["patterns"])})
    return rows


def _form() -> dict:
    district = current_app.extensions["district"]
    form = {"statement_approval": district.statement_approval, "silent_days": str(district.matrix_silent_days),
            "no_reply_days": str(district.matrix_no_reply_days)}
    for i, row in enumerate(_rows(section(current_app, "situation_report_parts") or [])):
        form.update({f"part-{i}-name": row["name"], f"part-{i}-words": row["words"],
                     f"part-{i}-on": "1" if row["on"] else ""})
    return form


def _days(form, field: str, label: str) -> int:
    text, high = form.get(field, "").strip(), MATRIX_DAYS_MAX[field]
    if not text.isdigit() or not 1 <= int(text) <= high:
        why = "；系统只回读近 30 天发布的信息下的网友评论，更长的天数无法统计" if field == "no_reply_days" else ""
        raise FormError(f"“{label}”应为 1 到 {high} 的整数（天），现为“{text or '空'}”{why}")
    return int(text)


def _parse(form) -> dict:
    """The form as {section: value}; FormError names the field to fix."""
    approval = form.get("statement_approval", "")
    if approval not in APPROVAL_NAMES:
        raise FormError("请选择发布稿由谁审核")
    matrix = {**(section(current_app, "matrix") or {}),
              "silent_days": _days(form, "silent_days", "僵尸号判定天数"),
              "no_reply_days": _days(form, "no_reply_days", "不回复评论判定天数")}
    shipped = {p["name"]: p for p in shipped_parts()}
    parts, seen = [], set()
    for i in _row_numbers(form):
        name, typed = form.get(f"part-{i}-name", "").strip(), words(form.get(f"part-{i}-words", ""))
        if not name and not typed:
            continue   # a blank row for a new part, left blank
        if not name or len(name) > 20:
            raise FormError(f"第 {i + 1} 行：请填写要素名称（20 字以内），如“伤亡情况”")
        if name in seen:
            raise FormError(f"要素“{name}”写了两次，请合并为一行")
        seen.add(name)
        if not form.get(f"part-{i}-on"):
            continue
        if name not in shipped and not typed:
            raise FormError(f"新增要素“{name}”请填写识别用语（正文出现其中任一词语即视为已写明），或清空该行")
        if any(len(w) > 50 for w in typed):
            raise FormError(f"要素“{name}”的识别用语每个不超过 50 字")
        base = list(shipped[name]["patterns"]) if name in shipped else []
        parts.append({"name": name, "patterns": base + [re.escape(w) for w in typed if re.escape(w) not in base]})
    if not parts:
        raise FormError("情况通报至少要有一项必备要素")
    return {"statement_approval": approval, "matrix": matrix, "situation_report_parts": parts}


def publishing():
    if request.method == "POST":
        def save():
            for name, value in _parse(request.form).items():
                save_section(current_app, name, value, current_user)
        if commit_or_flash(save, refusals=REFUSALS, prefix="未保存："):
            flash("发布审核与矩阵判定设置已保存，立即生效", "info")
            return redirect(url_for("admin.publishing"))
        return _page(request.form), 400
    return _page(_form())


def _row_numbers(form) -> list[int]:
    return sorted(int(m.group(1)) for m in (re.fullmatch(r"part-(\d+)-name", k) for k in form) if m)


def _page(form):
    rows = _row_numbers(form)
    if request.method == "GET":  # blank rows to add parts in
        rows += list(range(max(rows, default=-1) + 1, max(rows, default=-1) + 1 + NEW_ROWS))
    return render_template("admin/publishing.html", form=form, APPROVAL_NAMES=APPROVAL_NAMES,
                           shipped={p["name"] for p in shipped_parts()}, rows=rows)
