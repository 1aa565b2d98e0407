"""督办台: what waits on the monitoring centre — transfer requests to decide, extension requests
to approve, cases the ladder handed over (level 2 and up), cases with no assignee."""
from __future__ import annotations

from flask import Blueprint, render_template

from opinion.cases.queries import supervision_desk
from opinion.labels import LEVEL_NAMES
from opinion.models import db
from opinion.web.auth import roles_required

bp = Blueprint("supervision", __name__, url_prefix="/supervision")


@bp.route("/")
@roles_required("monitor", "admin", "leader")
def index():
    return render_template("supervision.html", level_names=LEVEL_NAMES, **supervision_desk(db.session))
