"""The web: one blueprint per role or area, server-rendered Chinese pages, no CDN."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, redirect, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFProtect

from opinion.labels import ACTION_NAMES, CASE_STATUS_NAMES, PRIORITY_NAMES, ROLE_NAMES
from opinion.models import utcnow
from opinion.web import (
    admin,
    audit,
    auth,
    cases,
    duty,
    exports,
    inbox,
    interviews,
    leader,
    matrix,
    monitor,
    notifications,
    public,
    replies,
    sources,
    statements,
    supervision,
    tokens,
    topics,
)
from opinion.web.api import interviews as interview_api  # noqa: F401 - adds questions to interviews to read_api.bp
from opinion.web.api import open311
from opinion.web.api import push as ingest_api
from opinion.web.api import read as read_api
from opinion.web.api import write as write_api  # noqa: F401 - adds the case actions to read_api.bp
from opinion.web.auth import HOME_BY_ROLE
from opinion.web.errors import init_error_pages

csrf = CSRFProtect()


def register_blueprints(app: Flask) -> None:
    csrf.init_app(app)
    for module in (auth, inbox, cases, monitor, leader, replies, audit, duty, supervision, ingest_api, read_api,
                   sources, tokens, topics, admin, notifications, public, open311, exports, matrix,
                   statements, interviews):
        app.register_blueprint(module.bp)
    public.limiter.init_app(app)
    csrf.exempt(ingest_api.bp)  # callers are machines that sign each request (HMAC), not browser sessions
    csrf.exempt(open311.bp)  # partner systems with an api_key, as the GeoReport standard has it
    csrf.exempt(read_api.bp)  # a Bearer token in a header, which no browser adds by itself; no cookies
    tz = ZoneInfo(app.config["TIMEZONE"])

    @app.template_filter("localtime")
    def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return value.astimezone(tz).strftime(fmt) if value else "—"

    @app.template_filter("timeleft")
    def timeleft(value: datetime | None) -> str:
        if value is None:
            return "—"
        seconds = int((value - utcnow()).total_seconds())
        word = "剩余" if seconds >= 0 else "已超时"
        seconds = abs(seconds)
        days, rest = divmod(seconds, 86400)
        hours, rest = divmod(rest, 3600)
        minutes = rest // 60
        parts = (f"{days}天" if days else "") + (f"{hours}小时" if hours or days else "") + f"{minutes}分"
        return f"{word} {parts}"

    @app.template_filter("safe_url")
    def safe_url(value: str | None) -> str | None:
        """Post links are untrusted: only http(s) links are ever rendered as links."""
        return value if value and value.lower().startswith(("http://", "https://")) else None

    app.jinja_env.globals.update(ACTION_NAMES=ACTION_NAMES, PRIORITY_NAMES=PRIORITY_NAMES,
                                 CASE_STATUS_NAMES=CASE_STATUS_NAMES, ROLE_NAMES=ROLE_NAMES, now=utcnow)

    @app.route("/")
    def home():
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login"))
        return redirect(url_for(HOME_BY_ROLE[current_user.role]))

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy",
                                    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    init_error_pages(app, read_api.error_response)
