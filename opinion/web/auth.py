"""Log-in, log-out and who may see what.

Failed log-ins are counted per user name and address; after five in a quarter hour the account
is locked for that address for the rest of the window, which stops password guessing.
"""
from __future__ import annotations

import time
from collections import defaultdict, deque
from functools import wraps

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from sqlalchemy import select

from opinion.models import User, db

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录"
MAX_FAILURES, WINDOW_SECONDS = 5, 900


def init_login(app) -> None:
    login_manager.init_app(app)
    app.extensions["login_failures"] = defaultdict(deque)  # per app, so tests never share it


def _failures() -> dict[tuple[str, str], deque]:
    return current_app.extensions["login_failures"]


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


def roles_required(*roles: str):
    """Allow only these roles (admin is not implied: leaders read, admins configure)."""
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def _too_many(key: tuple[str, str]) -> bool:
    attempts = _failures()[key]
    while attempts and attempts[0] < time.monotonic() - WINDOW_SECONDS:
        attempts.popleft()
    return len(attempts) >= MAX_FAILURES


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        key = (username, request.remote_addr or "")
        if _too_many(key):
            flash("登录失败次数过多，请 15 分钟后再试", "error")
            return render_template("login.html"), 429
        user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if user is None or not user.check_password(request.form.get("password", "")):
            _failures()[key].append(time.monotonic())
            flash("用户名或密码错误", "error")
            return render_template("login.html"), 401
        if not user.active:
            flash("账号已停用，请联系系统管理员", "error")
            return render_template("login.html"), 403
        _failures().pop(key, None)
        session.permanent = True
        login_user(user)
        from opinion.web import HOME_BY_ROLE
        return redirect(url_for(HOME_BY_ROLE[user.role]))
    return render_template("login.html")


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash("已退出登录", "info")
    return redirect(url_for("auth.login"))
