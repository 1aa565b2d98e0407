"""系统管理 (admins only): the admin blueprint, its overview page, and the pages of its modules.

units.py keeps the units and their routing rules, users.py the accounts and roles, config.py the
configuration sections and the reply templates, publishing.py who approves statements and
the matrix's thresholds; each hands its routes to this blueprint through
add_routes, so every page keeps its admin.* endpoint and none of them imports this package back.
"""
from __future__ import annotations

from flask import Blueprint, current_app, render_template
from sqlalchemy import select

from opinion.models import Setting, db
from opinion.web.admin import config, jobs, publishing, routing_files, units, users
from opinion.web.auth import roles_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@roles_required("admin")
def _admins_only():
    return None


@bp.route("/")
def index():
    roster = next((r.rule for r in current_app.url_map.iter_rules() if "duty" in r.rule or "roster" in r.rule), None)
    changed = db.session.execute(select(Setting).order_by(Setting.key)).scalars().all()
    return render_template("admin/index.html", roster=roster, changed=changed, calendar_gaps=config.calendar_gaps_now())


units.add_routes(bp)
users.add_routes(bp)
config.add_routes(bp)
jobs.add_routes(bp)
routing_files.add_routes(bp)
publishing.add_routes(bp)
