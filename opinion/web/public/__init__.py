"""Pages for citizens, without log-in: look a case up by its 查询码, answer the satisfaction survey,
read the 信息公开 page (each unit's month in figures, the published replies; an admin can close it),
ask a question to an online interview (在线访谈) and read its published transcript.

Nothing here reads a Case into a template: opinion.cases.public hands over a masked public view.
Unknown and malformed codes, like unusable survey links, get one and the same answer, and every
route is rate-limited per address (Flask-Limiter, see `limiter`), so codes cannot be enumerated.
"""
from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user
from sqlalchemy import select

from opinion.cases import public, survey
from opinion.errors import OpinionError
from opinion.interviews import questions
from opinion.interviews.transcript import public_interview
from opinion.labels import SATISFACTION_NAMES
from opinion.models import Interview, db, utcnow
from opinion.reports import disclosure
from opinion.settings.overrides import save_section
from opinion.web.auth import roles_required
from opinion.web.forms import commit_or_flash

bp = Blueprint("public", __name__, url_prefix="/p")
# Flask-Limiter rather than counting in the database: a lookup must not write a row, and the
# library's moving window is exact. Its storage is RATELIMIT_STORAGE_URI: memory:// (the default)
# counts per process, which is right for the one waitress process `serve` runs; several
# processes share a redis:// store.
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)
# Asking is writing a row: tighter than reading, per address, on top of PUBLIC_RATE_LIMIT.
QUESTION_RATE = "6 per minute;60 per day"
NOT_FOUND = "未查到与该查询码对应的事项。请核对查询码（10 位字母和数字，见回复末尾或短信），或拨打政务服务热线咨询。"


def _rate() -> str:
    return current_app.config["PUBLIC_RATE_LIMIT"]


@bp.errorhandler(429)
def _too_many(exc):
    return render_template("public/message.html", title="请求过于频繁",
                           message="您查询得太频繁了，请稍候几分钟再试。"), 429


@bp.route("/")
@limiter.limit(_rate)
def lookup():
    """The lookup form; with ?code= the case, or the one not-found answer."""
    code = request.args.get("code")
    if code is None:
        return render_template("public/lookup.html")
    case = public.find_by_code(db.session, code)
    if case is None:
        # The code is not echoed back: the answer must not differ with what was typed.
        return render_template("public/lookup.html", not_found=NOT_FOUND), 404
    view = public.public_view(db.session, case, utcnow())
    return render_template("public/case.html", case=view)


@bp.route("/survey/<token>", methods=["GET", "POST"])
@limiter.limit(_rate)
def survey_page(token: str):
    now, district = utcnow(), current_app.extensions["district"]
    try:
        link = survey.link_for(db.session, token, now)
    except survey.LinkUnusable as exc:
        return render_template("public/message.html", title="回访链接已失效", message=str(exc)), 410
    if request.method == "POST":
        done = commit_or_flash(lambda: survey.answer(db.session, district, token, request.form.get("satisfaction", ""),
                                                     request.form.get("comment", ""), now),
                               refusals=(OpinionError,))
        if done:
            return redirect(url_for("public.thanks", reopened=int(done.value.status == "reopened")))
        if isinstance(done.error, survey.LinkUnusable):
            return render_template("public/message.html", title="回访链接已失效", message=str(done.error)), 410
    view = public.public_view(db.session, link.case, now)
    return render_template("public/survey.html", case=view, token=token, choices=SATISFACTION_NAMES,
                           form=request.form)


@bp.route("/survey/thanks")
def thanks():
    reopened = request.args.get("reopened") == "1"
    return render_template("public/message.html", title="感谢您的评价",
                           message="您的评价已记录。" + ("该事项将重新办理，承办单位会再次答复您。" if reopened else
                                                   "感谢您对我们工作的支持。"))


def _month() -> tuple[int, int]:
    text = request.args.get("month", "")
    if re.fullmatch(r"20\d\d-(0[1-9]|1[0-2])", text):
        return int(text[:4]), int(text[5:])
    local = utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"]))
    return local.year, local.month


@bp.route("/open")
@limiter.limit(_rate)
def disclosure_page():
    """信息公开: each unit's month in figures, and the published replies, searchable."""
    district = current_app.extensions["district"]
    is_admin = current_user.is_authenticated and current_user.role == "admin"
    if not district.public_disclosure and not is_admin:
        return render_template("public/message.html", title="信息公开暂未开放",
                               message="信息公开页面目前未开放，请稍后再来；查询本人反映事项的办理进度请使用查询码。"), 404
    year, month = _month()
    start, end = disclosure.month_bounds(year, month, current_app.config["TIMEZONE"])
    try:
        page = max(1, min(int(request.args.get("page", 1)), 10_000))
    except ValueError:
        page = 1
    query = request.args.get("q", "")[:disclosure.MAX_QUERY]
    replies, total = disclosure.published_replies(db.session, start, end, query=query, page=page)
    months = []
    y, m = year, month
    for _ in range(12):
        months.append(f"{y}-{m:02d}")
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return render_template("public/open.html", year=year, month=month, months=months, query=query, page=page,
                           rows=disclosure.monthly_figures(db.session, district, start, end),
                           replies=replies, total=total, per_page=20, enabled=district.public_disclosure,
                           is_admin=is_admin)


@bp.route("/open/switch", methods=["POST"])
@roles_required("admin")
def disclosure_switch():
    """An admin opens or closes the 信息公开 page; audited as a configuration change."""
    enabled = request.form.get("enabled") == "1"
    done = commit_or_flash(lambda: save_section(current_app._get_current_object(), "public_disclosure",
                                                {"enabled": enabled}, current_user))
    if done:
        flash("信息公开页面已开放" if enabled else "信息公开页面已关闭，公众访问将看到“暂未开放”", "info")
    return redirect(url_for("public.disclosure_page"))


@bp.route("/interview/<slug>", methods=["GET", "POST"])
@limiter.limit(_rate)
@limiter.limit(QUESTION_RATE, methods=["POST"])
def interview_page(slug: str):
    """在线访谈: the announcement and the question form before and during it; the transcript once published."""
    interview = db.session.execute(select(Interview).where(Interview.slug == slug[:32])).scalar_one_or_none()
    if interview is None:
        return render_template("public/message.html", title="没有这场在线访谈",
                               message="没有找到这场在线访谈，请核对链接地址。"), 404
    form, status = {}, 200
    if request.method == "POST":
        text, nickname = request.form.get("question", ""), request.form.get("nickname", "")
        done = commit_or_flash(lambda: questions.add_question(
            db.session, current_app.extensions["district"], questions.open_interview(db.session, None, slug=slug),
            text, nickname, utcnow()), prefix="提问未提交：")
        if done:
            flash("您的提问已收到。工作人员筛选后，嘉宾将在访谈中答复；答复随访谈实录公布。", "info")
            return redirect(url_for("public.interview_page", slug=slug) + "#ask")
        form, status = request.form, 400
    return render_template("public/interview.html", interview=public_interview(db.session, interview),
                           form=form, max_question=questions.MAX_QUESTION,
                           max_nickname=questions.MAX_NICKNAME), status
