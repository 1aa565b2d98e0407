"""系统管理 — user accounts and roles.

An account an administrator creates, or whose password an administrator resets, must change its
password at the next log-in (its owner replaces what the administrator knows). Every change is in
the audit log.
"""
from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from opinion import audit
from opinion.accounts import two_factor
from opinion.accounts.directory import password_problem
from opinion.accounts.queries import active_units, unit_by_code, user_by_username, users_page
from opinion.labels import ROLE_NAMES
from opinion.models import ROLES, Unit, User, db
from opinion.web.admin.forms import FormError, created_or_list, new_key
from opinion.web.auth import renew_session
from opinion.web.forms import commit_or_flash

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")


def add_routes(bp: Blueprint) -> None:
    """Put the account pages on the admin blueprint."""
    bp.add_url_rule("/users", "users", _list)
    bp.add_url_rule("/users/new", view_func=create_user, methods=["POST"])
    bp.add_url_rule("/users/<int:user_id>", view_func=update_user, methods=["POST"])


PAGE = 30  # 93 accounts on one page made a 400 KB page nobody could scan


def _list(form=None, status: int = 200):
    """The list page, a page of accounts at a time, with the new-account form as typed when refused."""
    form = form or {}
    args = request.args
    search = {k: args.get(k, "").strip() for k in ("q", "role", "unit", "active")}
    page = max(args.get("page", 1, type=int) or 1, 1)
    rows, total = users_page(db.session, **search, page=page, per_page=PAGE)
    return render_template("admin/users.html", users=rows, total=total, page=page,
                           pages=max((total + PAGE - 1) // PAGE, 1), search=search,
                           query_args={k: v for k, v in search.items() if v},
                           units=active_units(db.session), form=form, ROLES=ROLES), status


def create_user():
    form = request.form

    def create() -> User:
        username = new_key(form, "username", USERNAME, "用户名应为 2–64 位字母、数字、点、下划线或连字符",
                           lambda name: user_by_username(db.session, name), "用户名")
        name = form.get("name", "").strip()
        if not name:
            raise FormError("请填写姓名")
        role, unit = _role_and_unit(form)
        password = _password(form.get("password", ""), username)
        user = User(username=username, name=name[:64], role=role, unit_id=unit.id if unit else None,
                    is_unit_head=form.get("is_unit_head") == "1", phone=form.get("phone", "").strip() or None,
                    email=form.get("email", "").strip() or None, active=True)
        user.set_password(password)
        user.must_change_password = True  # the administrator knows it: its owner replaces it
        db.session.add(user)
        db.session.flush()
        audit.record(db.session, "user.created", "user", user.id, actor=current_user,
                     after={"username": username, "role": role, "unit": unit.code if unit else None})
        return user
    return created_or_list(create, (FormError,), lambda: _list(form, 400),
                           lambda user: f"已创建账号 {user.username}（{ROLE_NAMES[user.role]}）", "admin.users")


def _role_and_unit(form) -> tuple[str, Unit | None]:
    role = form.get("role", "")
    if role not in ROLES:
        raise FormError("请选择角色")
    unit = unit_by_code(db.session, form.get("unit", ""))
    if role == "spokesperson" and unit is None:
        raise FormError("新闻发言人必须属于一个单位")
    return role, unit


def _password(password: str, username: str) -> str:
    problem = password_problem(password, username)
    if problem:
        raise FormError(problem)
    return password


def update_user(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    action = request.form.get("action")

    def update() -> str:
        if action == "password":
            user.set_password(_password(request.form.get("password", ""), user.username))
            user.must_change_password = user.id != current_user.id
            audit.record(db.session, "user.password_reset", "user", user.id, actor=current_user)
            return f"已重置 {user.username} 的密码"
        if action in ("deactivate", "activate"):
            if user.id == current_user.id:
                raise FormError("不能停用自己的账号")
            user.active = action == "activate"
            user.end_sessions()  # a deactivated account's open sessions end now, not when they expire
            audit.record(db.session, f"user.{action}d", "user", user.id, actor=current_user,
                         before={"active": not user.active}, after={"active": user.active})
            return f"{user.username} 已{'启用' if user.active else '停用'}"
        if action == "reset_two_factor":  # a lost phone and lost recovery codes
            if user.id == current_user.id:
                raise FormError("不能重置自己的两步验证：请在“两步验证”页用恢复码重新设置")
            two_factor.disable(user)
            user.end_sessions()
            audit.record(db.session, "user.two_factor_reset", "user", user.id, actor=current_user)
            return f"已重置 {user.username} 的两步验证，其下次登录只需密码，随后须重新设置"
        if action == "role":
            role, unit = _role_and_unit(request.form)
            before = {"role": user.role, "unit": user.unit.code if user.unit else None}
            user.role, user.unit_id = role, unit.id if unit else None
            user.is_unit_head = request.form.get("is_unit_head") == "1"
            audit.record(db.session, "user.role_changed", "user", user.id, actor=current_user, before=before,
                         after={"role": role, "unit": unit.code if unit else None})
            return f"{user.username} 现为{ROLE_NAMES[role]}"
        abort(400)
    updated = commit_or_flash(update, refusals=(FormError,))
    if updated and user.id == current_user.id:
        renew_session(user)  # an administrator's own new password ends their other sessions, not this one
    if updated:
        flash(updated.value, "info")
    return redirect(url_for("admin.users", q=user.username) + f"#u{user.id}")  # its page, whichever it is
