"""系统管理: units and their routing rules, user accounts and roles (admins only).

Units are district configuration: a new unit or changed routing keywords are saved as an override of
the district file (opinion.overrides) and checked by the file's own rules, then written to the unit
table. Every change is in the audit log with before and after. The configuration sections (deadlines,
ladder, alert rules, word lists) and reply templates are in admin_config.py.
"""
from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from opinion import audit
from opinion.accounts.directory import password_problem, sync_units
from opinion.errors import DistrictFileError
from opinion.labels import ROLE_NAMES
from opinion.models import ROLES, Setting, Unit, User, db
from opinion.settings.district import UNIT_KINDS
from opinion.settings.overrides import save_section
from opinion.web.auth import roles_required

bp = Blueprint("admin", __name__, url_prefix="/admin")
_CODE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")


class FormError(Exception):
    """A field the admin must fix; the message names it, in Chinese."""


def words(text: str) -> list[str]:
    """A word list typed one per line or separated by commas (Chinese or Latin), in order, once each."""
    return list(dict.fromkeys(w.strip() for w in re.split(r"[\n,，、;；]+", text or "") if w.strip()))


@bp.before_request
@roles_required("admin")
def _admins_only():
    return None


@bp.route("/")
def index():
    roster = next((r.rule for r in current_app.url_map.iter_rules() if "duty" in r.rule or "roster" in r.rule), None)
    changed = db.session.execute(select(Setting).order_by(Setting.key)).scalars().all()
    from opinion.web.admin.config import calendar_gaps_now
    return render_template("admin/index.html", roster=roster, changed=changed, calendar_gaps=calendar_gaps_now())


@bp.route("/units")
def units():
    rows = db.session.execute(select(Unit).order_by(Unit.active.desc(), Unit.kind, Unit.id)).scalars().all()
    return render_template("admin/units.html", units=rows, kinds=UNIT_KIND_NAMES, form={})


@bp.route("/units/new", methods=["POST"])
def create_unit():
    form = request.form
    try:
        code = form.get("code", "").strip()
        if not _CODE.match(code):
            raise FormError("单位代码应为 2–32 位小写字母、数字或下划线，并以字母开头")
        if db.session.execute(select(Unit).where(Unit.code == code)).first():
            raise FormError(f"单位代码 “{code}” 已存在")
        spec = _unit_fields(form, code)
        _save_units(spec)
        flash(f"已新增单位：{spec['name']}", "info")
        return redirect(url_for("admin.units"))
    except (FormError, DistrictFileError) as exc:
        db.session.rollback()
        flash(str(exc), "error")
        rows = db.session.execute(select(Unit).order_by(Unit.active.desc(), Unit.kind, Unit.id)).scalars().all()
        return render_template("admin/units.html", units=rows, kinds=UNIT_KIND_NAMES, form=form), 400


@bp.route("/units/<code>", methods=["GET", "POST"])
def edit_unit(code: str):
    unit = db.session.execute(select(Unit).where(Unit.code == code)).scalar_one_or_none() or abort(404)
    form = request.form if request.method == "POST" else {
        "name": unit.name, "kind": unit.kind, "keywords": "\n".join(unit.keywords or []),
        "places": "\n".join(unit.places or [])}
    if request.method == "POST":
        try:
            spec = _unit_fields(form, code)
            _save_units(spec)
            flash(f"已保存：{spec['name']}（路由关键词 {len(spec['keywords'])} 个，地名 {len(spec['places'])} 个）", "info")
            return redirect(url_for("admin.units"))
        except (FormError, DistrictFileError) as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return render_template("admin/unit_edit.html", unit=unit, form=form, kinds=UNIT_KIND_NAMES), 400
    return render_template("admin/unit_edit.html", unit=unit, form=form, kinds=UNIT_KIND_NAMES)


@bp.route("/units/<code>/active", methods=["POST"])
def set_unit_active(code: str):
    unit = db.session.execute(select(Unit).where(Unit.code == code)).scalar_one_or_none() or abort(404)
    active = request.form.get("active") == "1"
    spec = {"code": unit.code, "name": unit.name, "kind": unit.kind, "keywords": unit.keywords or [],
            "places": unit.places or []}
    if not active:
        spec["active"] = False
    try:
        _save_units(spec)
        unit.active = active
        audit.record(db.session, "unit.activated" if active else "unit.deactivated", "unit", unit.id,
                     actor=current_user, before={"active": not active}, after={"active": active})
        db.session.commit()
        flash(f"{unit.name}已{'启用' if active else '停用'}", "info")
    except DistrictFileError as exc:
        db.session.rollback()
        flash(f"不能停用{unit.name}：{exc}", "error")
    return redirect(url_for("admin.units"))


def _unit_fields(form, code: str) -> dict:
    name = form.get("name", "").strip()
    if not name or len(name) > 100:
        raise FormError("单位名称不能为空，且不超过 100 字")
    kind = form.get("kind", "")
    if kind not in UNIT_KINDS:
        raise FormError("请选择单位类型（职能部门、街道办事处或监测中心）")
    keywords, places = words(form.get("keywords", "")), words(form.get("places", ""))
    too_long = [w for w in keywords + places if len(w) > 30]
    if too_long:
        raise FormError(f"关键词或地名过长（每个不超过 30 字）：{too_long[0]}")
    return {"code": code, "name": name, "kind": kind, "keywords": keywords, "places": places}


def _save_units(spec: dict) -> None:
    """Lay one unit over the district's units, check the whole district, write the unit table."""
    row = db.session.get(Setting, "units")
    saved = [u for u in (row.value if row else []) if u["code"] != spec["code"]]
    district = save_section(current_app, "units", [*saved, spec], current_user)
    sync_units(db.session, district)
    db.session.commit()


@bp.route("/users")
def users():
    rows = db.session.execute(select(User).order_by(User.role, User.username)).scalars().all()
    return render_template("admin/users.html", users=rows, units=_units(), form={}, ROLES=ROLES)


def _units() -> list[Unit]:
    return db.session.execute(select(Unit).where(Unit.active.is_(True)).order_by(Unit.kind, Unit.id)).scalars().all()


@bp.route("/users/new", methods=["POST"])
def create_user():
    form = request.form
    try:
        username = form.get("username", "").strip()
        if not _USERNAME.match(username):
            raise FormError("用户名应为 2–64 位字母、数字、点、下划线或连字符")
        if db.session.execute(select(User).where(User.username == username)).first():
            raise FormError(f"用户名 “{username}” 已存在")
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
        db.session.commit()
        flash(f"已创建账号 {username}（{ROLE_NAMES[role]}）", "info")
        return redirect(url_for("admin.users"))
    except FormError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        rows = db.session.execute(select(User).order_by(User.role, User.username)).scalars().all()
        return render_template("admin/users.html", users=rows, units=_units(), form=form, ROLES=ROLES), 400


def _role_and_unit(form) -> tuple[str, Unit | None]:
    role = form.get("role", "")
    if role not in ROLES:
        raise FormError("请选择角色")
    unit = db.session.execute(select(Unit).where(Unit.code == form.get("unit", ""))).scalar_one_or_none()
    if role == "spokesperson" and unit is None:
        raise FormError("新闻发言人必须属于一个单位")
    return role, unit


def _password(password: str, username: str) -> str:
    problem = password_problem(password, username)
    if problem:
        raise FormError(problem)
    return password


@bp.route("/users/<int:user_id>", methods=["POST"])
def update_user(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    action = request.form.get("action")
    try:
        if action == "password":
            user.set_password(_password(request.form.get("password", ""), user.username))
            user.must_change_password = user.id != current_user.id
            audit.record(db.session, "user.password_reset", "user", user.id, actor=current_user)
            message = f"已重置 {user.username} 的密码"
        elif action in ("deactivate", "activate"):
            if user.id == current_user.id:
                raise FormError("不能停用自己的账号")
            user.active = action == "activate"
            audit.record(db.session, f"user.{action}d", "user", user.id, actor=current_user,
                         before={"active": not user.active}, after={"active": user.active})
            message = f"{user.username} 已{'启用' if user.active else '停用'}"
        elif action == "role":
            role, unit = _role_and_unit(request.form)
            before = {"role": user.role, "unit": user.unit.code if user.unit else None}
            user.role, user.unit_id = role, unit.id if unit else None
            user.is_unit_head = request.form.get("is_unit_head") == "1"
            audit.record(db.session, "user.role_changed", "user", user.id, actor=current_user, before=before,
                         after={"role": role, "unit": unit.code if unit else None})
            message = f"{user.username} 现为{ROLE_NAMES[role]}"
        else:
            abort(400)
        db.session.commit()
        flash(message, "info")
    except FormError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("admin.users") + f"#u{user.id}")


from opinion.labels import UNIT_KIND_NAMES
from opinion.web.admin import config as admin_config  # noqa: E402,F401 - the configuration pages on the same blueprint
