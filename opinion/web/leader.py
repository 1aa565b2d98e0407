"""Leaders' page: this week's totals and how each unit is answering."""
from __future__ import annotations

from flask import Blueprint, render_template

from opinion.models import db
from opinion.stats import week_summary
from opinion.web.auth import roles_required

bp = Blueprint("leader", __name__, url_prefix="/leader")


@bp.route("/")
@roles_required("leader", "admin")
def index():
    return render_template("leader.html", summary=week_summary(db.session))
