"""Log-in, log-out and who may see what.

Every log-in and every failed attempt goes into the audit log (account, address), where a
security review looks for them. Password checks are counted in the database per account name and
address (opinion.accounts.login): after five in a quarter hour that address is refused for the
account for the rest of the window, which stops password guessing, even with parallel requests,
and the count holds across web workers and restarts.

A session names the user's session version (User.get_id): log-out, a new password and
deactivation raise it, so a copied cookie stops working at once instead of after 8 hours.
"""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, flash, jsonify, make_response, redirect, render_template, request, session, url_for
from flask_login import LoginManager, current_user, login_required, login_user, logout_user

from opinion import audit
from opinion.accounts.directory import PASSWORD_RULE, password_problem
from opinion.accounts.login import claim_check, clear_checks, password_matches
from opinion.accounts.queries import user_by_username
from opinion.models import User, db

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录"
# Where each role lands after logging in (and on "/").
HOME_BY_ROLE = {"spokesperson": "inbox.index", "monitor": "monitor.index",
                "leader": "leader.index", "admin": "admin.index"}


NUL_REFUSED = "请求中含有空字符（NUL，\\x00），无法处理：请删除该字符后重试"


def init_login(app) -> None:
    login_manager.init_app(app)
    app.before_request(_refuse_nul)
    app.before_request(_password_first)


def _refuse_nul():
    """A NUL in a query or form value is refused with 400 before any view reads it: PostgreSQL
    cannot store or compare one, and a page would fail with 500."""
    values = list(request.args.items(multi=True))
    # Machines posting to /api/ send JSON or sign the raw body; parsing a form here would use it up.
    if not request.path.startswith("/api/") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        values += request.form.items(multi=True)
    if any("\x00" in key or "\x00" in value for key, value in values):
        if request.path.startswith("/api/"):  # programs read {"error", "code"}, as every API answer
            abort(make_response(jsonify({"error": NUL_REFUSED, "code": "bad_request"}), 400))
        abort(400, description=NUL_REFUSED)
    return None


def _password_first():
    """Someone whose password an administrator set works only after replacing it."""
    if (current_user.is_authenticated and current_user.must_change_password
            and request.endpoint not in ("auth.change_password", "auth.logout", "static")):
        flash("这是管理员为您设置的密码，请先修改为只有您自己知道的密码", "info")
        return redirect(url_for("auth.change_password"))
    return None


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The session's user while its session version is current and the account active."""
    number, _, version = user_id.partition(".")
    if not number.isascii() or not number.isdigit() or not version.isascii() or not version.isdigit():
        return None  # a session from before versions (or forged): log in again
    user = db.session.get(User, int(number))
    if user is None or not user.active or (user.session_version or 0) != int(version):
        return None
    return user


def renew_session(user: User) -> None:
    """Keep this browser logged in after its user's session version was raised (a new password)."""
    login_user(user)


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


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        address = _address()
        if not claim_check(db.session, _account(username), address):
            flash("登录失败次数过多，请 15 分钟后再试", "error")
            return render_template("login.html"), 429
        user = user_by_username(db.session, username)
        if not password_matches(user, request.form.get("password", "")):
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
        clear_checks(db.session, _account(username), address)
        audit.record(db.session, "user.login", "user", user.id, actor=user, reason=address)
        db.session.commit()
        session.permanent = True
        login_user(user)
        return redirect(url_for(HOME_BY_ROLE[user.role]))
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
        renew_session(current_user._get_current_object())  # every other session of this account has ended
        flash("密码已修改", "info")
        return redirect(url_for(HOME_BY_ROLE[current_user.role]))
    return render_template("password.html", rule=PASSWORD_RULE)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    current_user.end_sessions()  # a copy of this cookie (and every other session) stops working
    db.session.commit()
    logout_user()
    flash("已退出登录", "info")
    return redirect(url_for("auth.login"))
