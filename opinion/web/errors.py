"""Error pages in Chinese: each says what happened and what to do next.

A 400, 403, 404, 405 or 500 in English ("Internal Server Error", "The CSRF session token is
missing") tells a district's staff nothing; a form refused because the session expired must not
lose what was typed (static/drafts.js keeps it in the browser, these pages tell it to keep it) and
the log-in link carries `?next=` back to the page. A database busy past its timeout (SQLite's
"database is locked" while the scheduler writes) is a 503 "try again", never a 500.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError

from opinion.models import db

# code → (what happened, what to do)
PAGES = {
    400: ("请求无效", "提交的内容不完整或格式不对。请返回上一页检查后重新提交。"),
    403: ("您无权访问此页面", "此页面不属于您的角色或单位。如确需办理，请联系本单位负责人或系统管理员开通权限。"),
    404: ("页面不存在", "地址可能有误，或该内容已被删除、合并。请从首页或导航重新进入。"),
    405: ("不支持此操作方式", "请通过页面上的按钮操作，不要直接在地址栏打开此地址。"),
    500: ("系统出现内部错误", "错误已记录。请稍后重试；如反复出现，请联系系统管理员并告知发生时间。"),
    503: ("系统繁忙，请稍后重试", "系统正在处理其他任务，数据库暂时忙碌。您的操作没有保存，请等几秒后重新提交。"),
}
CSRF_PAGE = ("页面已过期，内容未提交",
             "登录已过期或页面停留过久，为安全起见本次提交被拒绝。您输入的文字已保存在本浏览器中；"
             "请重新登录，系统会带您回到原页面并恢复这些文字，确认后再提交。")


def safe_next(target: str | None) -> str | None:
    """A `next` address only if it stays on this site (a path, no host): no open redirect."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _came_from() -> str:
    """The page the person was on: the referring page on this site, else this address."""
    referrer = request.referrer or ""
    parts = urlsplit(referrer)
    if parts.netloc and parts.netloc == request.host:
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return request.full_path.rstrip("?") if request.method == "GET" else "/"


def render_error(code: int, title: str, advice: str, *, detail: str | None = None, keep_drafts: bool = False):
    login_url = None
    if not current_user.is_authenticated or code == 400 and keep_drafts:
        login_url = url_for("auth.login", next=_came_from())
    return render_template("error.html", code=code, title=title, advice=advice, detail=detail,
                           login_url=login_url, keep_drafts=keep_drafts), code


def init_error_pages(app, api_error) -> None:
    """Register the Chinese pages; `api_error(code)` answers JSON under /api/ instead."""

    def page(code: int):
        def handler(exc):
            if request.path.startswith("/api/"):  # programs read {"error", "code"}, never a page
                return api_error(code)
            title, advice = PAGES[code]
            detail = getattr(exc, "description", None) if code == 400 else None
            if detail and not any("\u4e00" <= ch <= "\u9fff" for ch in detail):
                detail = None  # Werkzeug's English default text says nothing a user can act on
            return render_error(code, title, advice, detail=detail, keep_drafts=code >= 500)
        return handler

    for code in (400, 403, 404, 405, 500):
        app.register_error_handler(code, page(code))

    @app.errorhandler(CSRFError)
    def csrf_expired(exc):
        if request.path.startswith("/api/"):
            return api_error(400)
        title, advice = CSRF_PAGE
        return render_error(400, title, advice, keep_drafts=True)

    @app.errorhandler(OperationalError)
    def database_busy(exc):
        db.session.rollback()
        message = str(getattr(exc, "orig", exc)).lower()
        if "locked" not in message and "busy" not in message:
            app.logger.exception("database error")
            if request.path.startswith("/api/"):
                return api_error(500)
            return render_error(500, *PAGES[500], keep_drafts=True)
        app.logger.warning("database busy past its timeout: %s %s", request.method, request.path)
        if request.path.startswith("/api/"):
            response = api_error(503)
        else:
            response = render_error(503, *PAGES[503], keep_drafts=True)
        response = app.make_response(response)
        response.headers["Retry-After"] = "5"
        return response
