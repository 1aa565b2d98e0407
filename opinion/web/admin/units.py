"""系统管理 — units and their routing rules.

Units are district configuration: a new unit or changed routing keywords are saved as an override of
the district file (opinion.settings.overrides) and checked by the file's own rules, then written to
the unit table. Every change is in the audit log with before and after.
"""
from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from opinion import audit
from opinion.accounts.directory import sync_units
from opinion.accounts.queries import all_units, unit_by_code
from opinion.errors import DistrictFileError
from opinion.labels import UNIT_KIND_NAMES
from opinion.models import Setting, db
from opinion.settings.district import UNIT_KINDS
from opinion.settings.overrides import save_section
from opinion.web.admin.forms import REFUSALS, FormError, created_or_list, new_key, words
from opinion.web.forms import commit_or_flash

UNIT_CODE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")


def add_routes(bp: Blueprint) -> None:
    """Put the unit pages on the admin blueprint."""
    bp.add_url_rule("/units", "units", _list)
    bp.add_url_rule("/units/new", view_func=create_unit, methods=["POST"])
    bp.add_url_rule("/units/<code>", view_func=edit_unit, methods=["GET", "POST"])
    bp.add_url_rule("/units/<code>/active", view_func=set_unit_active, methods=["POST"])


def _list(form=None, status: int = 200):
    """The list page with the new-record form, as typed when it was refused."""
    form = form or {}
    return render_template("admin/units.html", units=all_units(db.session), kinds=UNIT_KIND_NAMES, form=form), status



def create_unit():
    form = request.form

    def create() -> dict:
        code = new_key(form, "code", UNIT_CODE, "单位代码应为 2–32 位小写字母、数字或下划线，并以字母开头",
                       lambda code: unit_by_code(db.session, code), "单位代码")
        return _save_units(_unit_fields(form, code))
    return created_or_list(create, REFUSALS, lambda: _list(form, 400),
                           lambda unit: f"已新增单位：{unit['name']}", "admin.units")


def edit_unit(code: str):
    unit = unit_by_code(db.session, code) or abort(404)
    form = request.form if request.method == "POST" else {
        "name": unit.name, "kind": unit.kind, "keywords": "\n".join(unit.keywords or []),
        "places": "\n".join(unit.places or [])}
    if request.method == "POST":
        saved = commit_or_flash(lambda: _save_units(_unit_fields(form, code)), refusals=REFUSALS)
        if not saved:
            return render_template("admin/unit_edit.html", unit=unit, form=form, kinds=UNIT_KIND_NAMES), 400
        spec = saved.value
        flash(f"已保存：{spec['name']}（路由关键词 {len(spec['keywords'])} 个，地名 {len(spec['places'])} 个）", "info")
        return redirect(url_for("admin.units"))
    return render_template("admin/unit_edit.html", unit=unit, form=form, kinds=UNIT_KIND_NAMES)


def set_unit_active(code: str):
    unit = unit_by_code(db.session, code) or abort(404)
    active = request.form.get("active") == "1"
    spec = {"code": unit.code, "name": unit.name, "kind": unit.kind, "keywords": unit.keywords or [],
            "places": unit.places or []}
    if not active:
        spec["active"] = False

    def switch():
        _save_units(spec)
        unit.active = active
        audit.record(db.session, "unit.activated" if active else "unit.deactivated", "unit", unit.id,
                     actor=current_user, before={"active": not active}, after={"active": active})
    if commit_or_flash(switch, refusals=(DistrictFileError,), prefix=f"不能{'启用' if active else '停用'}{unit.name}："):
        flash(f"{unit.name}已{'启用' if active else '停用'}", "info")
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


def _save_units(spec: dict) -> dict:
    """Lay one unit over the district's units, check the whole district, write the unit table;
    returns the unit as saved."""
    row = db.session.get(Setting, "units")
    saved = [u for u in (row.value if row else []) if u["code"] != spec["code"]]
    district = save_section(current_app, "units", [*saved, spec], current_user)
    sync_units(db.session, district)
    db.session.commit()
    return spec
