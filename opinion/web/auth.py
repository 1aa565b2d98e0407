"""Log-in, log-out and who may see what.

Every log-in and every failed attempt goes into the audit log (account, address), where a
security review looks for them. Password checks are counted in the database per account name and
address (opinion.accounts.login): after five in a quarter hour that address is refused for the
account for the rest of the window, which stops password guessing, even with parallel requests,
and the count holds across web workers and restarts.

A session names the user's session version (User.get_id): log-out, a new password and
deactivation raise it, so a copied cookie stops working at once instead of after 8 hours.

Administrators and leaders may add a second step (两步验证, opinion.accounts.two_factor): after
the password, a code from their app or a recovery code. TWO_FACTOR_REQUIRED_ROLES (admins when
OPINION_ENV=production) sends those without it to set it up before anything else.
"""
from __future__ import annotations

import time
from functools import wraps

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, current_user, login_required, login_user, logout_user

from opinion import audit
from opinion.accounts import two_factor
from opinion.accounts.directory import PASSWORD_RULE, password_problem
from opinion.accounts.login import claim_check, clear_checks, password_matches
from opinion.accounts.queries import user_by_username
from opinion.models import User, db
from opinion.web.errors import safe_next

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
    app.before_request(_two_factor_first)


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


def _two_factor_first():
    """Where the configuration requires two-step log-in for this role, nothing else until it is on."""
    if (current_user.is_authenticated
            and two_factor.required(current_user, current_app.config.get("TWO_FACTOR_REQUIRED_ROLES", ()))
            and request.endpoint not in ("auth.two_factor_setup", "auth.change_password", "auth.logout",
                                         "static")):
        flash("本系统要求管理员启用两步验证：请用手机验证器应用扫描二维码完成设置后再继续", "info")
        return redirect(url_for("auth.two_factor_setup"))
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
        if user.totp_enabled_at:
            # The password was right; the log-in waits for the second step (5 minutes at most).
            # Back to the page the person was on (a session that expired mid-form), only on this site.
            session[PENDING] = {"user": user.get_id(), "at": time.time(),
                                "next": safe_next(request.args.get("next"))}
            return redirect(url_for("auth.login_code"))
        return _logged_in(user, username, address, next_url=safe_next(request.args.get("next")))
    return render_template("login.html")


PENDING, PENDING_SECONDS = "two_factor_pending", 300
ANY_ADDRESS = "两步验证：所有地址"  # the throttle's address for an account's codes from anywhere


def _logged_in(user: User, username: str, address: str, how: str = "", next_url: str | None = None):
    clear_checks(db.session, _account(username), address)
    clear_checks(db.session, _account(username), ANY_ADDRESS)
    audit.record(db.session, "user.login", "user", user.id, actor=user, reason=address + how)
    db.session.commit()
    session.pop(PENDING, None)
    session.permanent = True
    login_user(user)
    return redirect(next_url or url_for(HOME_BY_ROLE[user.role]))


def _pending_user() -> User | None:
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - float(pending.get("at", 0)) > PENDING_SECONDS:
        return None
    return load_user(str(pending.get("user", "")))


@bp.route("/login/code", methods=["GET", "POST"])
def login_code():
    """The second step: a code from the authenticator app, or one recovery code."""
    user = _pending_user()
    if user is None:
        session.pop(PENDING, None)
        flash("两步验证已超时或尚未输入密码，请重新登录", "error")
        return redirect(url_for("auth.login"))
    if request.method == "POST":
        address = _address()
        # Per address as for passwords, and per account from every address together: a password
        # known to a botnet must not let it try a million codes from a thousand addresses.
        if not (claim_check(db.session, _account(user.username), address)
                and claim_check(db.session, _account(user.username), ANY_ADDRESS)):
            session.pop(PENDING, None)
            flash("登录失败次数过多，请 15 分钟后再试", "error")
            return render_template("login_code.html"), 429
        used = two_factor.verify(db.session, user, request.form.get("code", ""))
        if used is None:
            audit.record(db.session, "user.two_factor_failed", "user", user.id, actor=user, reason=address)
            db.session.commit()
            flash("验证码不正确或已使用过：请输入验证器应用中当前显示的 6 位数字，或一个未用过的恢复码", "error")
            return render_template("login_code.html"), 401
        if used == "recovery":
            left = two_factor.recovery_left(user)
            flash(f"已使用一个恢复码，还剩 {left} 个；用完前请在“两步验证”页重新设置", "info")
        return _logged_in(user, user.username, address, "（恢复码）" if used == "recovery" else "",
                          next_url=(session.get(PENDING) or {}).get("next"))
    return render_template("login_code.html")


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def two_factor_setup():
    """Switch two-step log-in on (scan, type a code, keep the recovery codes) or off."""
    user = current_user._get_current_object()
    if user.role not in two_factor.ROLES:
        abort(403)
    required = user.role in current_app.config.get("TWO_FACTOR_REQUIRED_ROLES", ())
    if request.method == "POST" and request.form.get("action") == "disable":
        if required:
            flash("本系统要求管理员使用两步验证，不能关闭；如手机丢失，请用恢复码登录后重新设置", "error")
        elif not user.check_password(request.form.get("password", "")):
            flash("当前密码不正确，两步验证未关闭", "error")
        elif two_factor.verify(db.session, user, request.form.get("code", "")) is None:
            flash("验证码不正确或已使用过，两步验证未关闭", "error")
        else:
            two_factor.disable(user)
            audit.record(db.session, "user.two_factor_disabled", "user", user.id, actor=user, reason=_address())
            db.session.commit()
            flash("两步验证已关闭", "info")
            return redirect(url_for("auth.two_factor_setup"))
        return _setup_page(user, required), 400
    if request.method == "POST":  # enable, or set up again with a new phone
        secret = session.get("two_factor_secret")
        if not secret or two_factor.code_step(secret, request.form.get("code", "")) is None:
            flash("验证码不正确：请确认手机时间准确，并输入验证器应用中当前显示的 6 位数字", "error")
            return _setup_page(user, required), 400
        again = bool(user.totp_enabled_at)
        codes = two_factor.enable(user, secret)
        audit.record(db.session, "user.two_factor_enabled", "user", user.id, actor=user, reason=_address())
        db.session.commit()
        session.pop("two_factor_secret", None)
        flash("两步验证已重新设置，旧的验证器和恢复码已失效" if again else "两步验证已启用", "info")
        return render_template("two_factor.html", codes=codes, required=required)
    return _setup_page(user, required)


def _setup_page(user: User, required: bool):
    secret = session.get("two_factor_secret")
    if not secret:
        secret = session["two_factor_secret"] = two_factor.new_secret()
    return render_template("two_factor.html", qr=two_factor.qr_data_uri(user, secret),
                           secret=two_factor.grouped(secret), required=required,
                           left=two_factor.recovery_left(user))


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
