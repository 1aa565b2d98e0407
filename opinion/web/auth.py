"""Log-in, log-out and who may see what.

Every log-in and every failed attempt goes into the audit log (account, address), where a
security review looks for them. Failed attempts are counted from there, per account name and
address: after five in a quarter hour that address is refused for the account for the rest of the
window, which stops password guessing, and the count holds across web workers and restarts.
"""
from __future__ import annotations

from datetime import timedelta
from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import LoginManager, current_user, login_required, login_user, logout_user

from opinion import audit
from opinion.accounts.directory import PASSWORD_RULE, password_problem
from opinion.accounts.queries import failed_logins, user_by_username
from opinion.models import User, db, utcnow
from opinion.web.errors import safe_next

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录"
MAX_FAILURES, WINDOW_SECONDS = 5, 900
# Where each role lands after logging in (and on "/").
HOME_BY_ROLE = {"spokesperson": "inbox.index", "monitor": "monitor.index",
                "leader": "leader.index", "admin": "admin.index"}


def init_login(app) -> None:
    login_manager.init_app(app)
    app.before_request(_password_first)


def _password_first():
    """Someone whose password an administrator set works only after replacing it."""
    if (current_user.is_authenticated and current_user.must_change_password
            and request.endpoint not in ("auth.change_password", "auth.logout", "static")):
        flash("这是管理员为您设置的密码，请先修改为只有您自己知道的密码", "info")
        return redirect(url_for("auth.change_password"))
    return None


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


def _address() -> str:
    return f"来自 {request.remote_addr or '未知地址'}"


def _account(username: str) -> str:
    """How an attempt's account name is written as the audit record's actor."""
    return username[:64] or "（空）"


def _too_many(username: str, address: str) -> bool:
    """Five failures for this account from this address since the window opened, and none of
    them cleared by a successful log-in from there."""
    since = utcnow() - timedelta(seconds=WINDOW_SECONDS)
    return failed_logins(db.session, _account(username), address, since) >= MAX_FAILURES


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        address = _address()
        if _too_many(username, address):
            flash("登录失败次数过多，请 15 分钟后再试", "error")
            return render_template("login.html"), 429
        user = user_by_username(db.session, username)
        if user is None or not user.check_password(request.form.get("password", "")):
            # The account name as typed is the record's actor (an unknown name has no user row).
            failed = audit.record(db.session, "user.login_failed", "user", user.id if user else None,
                                  reason=address)
            failed.actor = _account(username)
            db.session.commit()
            flash("用户名或密码错误", "error")
            return render_template("login.html"), 401
        if not user.active:
            flash("账号已停用，请联系系统管理员", "error")
            return render_template("login.html"), 403
        audit.record(db.session, "user.login", "user", user.id, actor=user, reason=address)
        db.session.commit()
        session.permanent = True
        login_user(user)
        # Back to the page the person was on (a session that expired mid-form), only on this site.
        return redirect(safe_next(request.args.get("next")) or url_for(HOME_BY_ROLE[user.role]))
    return render_template("login.html")


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    if request.method == "POST":
        form = request.form
        new = form.get("new_password", "")
        if not current_user.check_password(form.get("current_password", "")):
            problem = "当前密码不正确"
        elif new != form.get("confirm_password", ""):
            problem = "两次输入的新密码不一致"
        elif current_user.check_password(new):
            problem = "新密码不能与当前密码相同"
        else:
            problem = password_problem(new, current_user.username)
        if problem:
            flash(problem, "error")
            return render_template("password.html", rule=PASSWORD_RULE), 400
        current_user.set_password(new)
        current_user.must_change_password = False
        audit.record(db.session, "user.password_changed", "user", current_user.id, actor=current_user,
                     reason=_address())
        db.session.commit()
        flash("密码已修改", "info")
        return redirect(url_for(HOME_BY_ROLE[current_user.role]))
    return render_template("password.html", rule=PASSWORD_RULE)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash("已退出登录", "info")
    return redirect(url_for("auth.login"))
