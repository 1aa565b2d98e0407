"""值班表: each unit's duty roster. Unit heads keep their own unit's; monitors and admins any;
spokespersons see their unit's. Assignment reads it (opinion.duty.pick_assignee)."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from opinion.accounts.queries import roster_units, unit_by_code
from opinion.cases import duty
from opinion.cases.queries import duty_shifts
from opinion.errors import OpinionError
from opinion.models import DutyShift, Unit, User, db, utcnow
from opinion.web.auth import roles_required
from opinion.web.forms import commit_or_flash

bp = Blueprint("duty", __name__, url_prefix="/duty")


def _unit() -> Unit:
    """The unit shown: a spokesperson's own; for monitors and admins the one asked for."""
    if current_user.role == "spokesperson":
        return current_user.unit
    code = request.values.get("unit")
    unit = unit_by_code(db.session, code) if code else None
    return unit or next(iter(roster_units(db.session)), None)


def _can_edit(unit: Unit) -> bool:
    return current_user.role in ("monitor", "admin") or (current_user.is_unit_head and current_user.unit_id == unit.id)


def _render(unit: Unit, form: dict | None = None, status: int = 200):
    now = utcnow()
    shifts = duty_shifts(db.session, unit.id, now - timedelta(days=1))
    units = roster_units(db.session) if current_user.role in ("monitor", "admin") else [unit]
    load = duty.open_load(db.session, [u.id for u in duty.spokespersons(db.session, unit.id)])
    return render_template("duty.html", unit=unit, units=units, shifts=shifts, now_at=now,
                           people=duty.spokespersons(db.session, unit.id), load=load,
                           on_duty={u.id for u in duty.on_duty(db.session, unit.id, now)},
                           can_edit=_can_edit(unit), form=form or {}), status


@bp.route("/")
@roles_required("spokesperson", "monitor", "admin")
def index():
    return _render(_unit())


def _parse(field: str, label: str) -> datetime:
    value = request.form.get(field, "")
    try:
        local = datetime.fromisoformat(value)
    except ValueError:
        raise OpinionError(f"{label} “{value}” 无法识别，请按 2026-11-23 08:30 的格式填写") from None
    return local.replace(tzinfo=ZoneInfo(current_app.config["TIMEZONE"]))


@bp.route("/add", methods=["POST"])
@roles_required("spokesperson", "monitor", "admin")
def add():
    unit = _unit()

    def add_shift():
        person = db.session.get(User, int(request.form["user"])) if request.form.get("user", "").isdigit() else None
        if person is None or person.unit_id != unit.id:
            raise OpinionError("请选择本单位的新闻发言人")
        duty.add_shift(db.session, current_user, person, _parse("start", "开始时间"), _parse("end", "结束时间"),
                       urgent_cover=bool(request.form.get("urgent_cover")), now=utcnow())
    if not commit_or_flash(add_shift):
        return _render(unit, request.form.to_dict(), 400)
    flash("已加入值班表", "info")
    return redirect(url_for("duty.index", unit=unit.code))


@bp.route("/<int:shift_id>/remove", methods=["POST"])
@roles_required("spokesperson", "monitor", "admin")
def remove(shift_id: int):
    shift = db.session.get(DutyShift, shift_id)
    if shift is None:
        abort(404)
    code = shift.unit.code
    if commit_or_flash(lambda: duty.remove_shift(db.session, current_user, shift, utcnow())):
        flash("已删除该班次", "info")
    return redirect(url_for("duty.index", unit=code))
