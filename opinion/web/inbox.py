"""发言人工作台: a spokesperson's queue of their own unit's open cases, most urgent first."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import case as sql_case, func, select

from opinion.models import OPEN_CASE_STATUSES, Case, db, utcnow
from opinion.web.auth import roles_required

bp = Blueprint("inbox", __name__, url_prefix="/inbox")


def next_due():
    """The deadline a case is racing now: acknowledge, then respond, then resolve."""
    return sql_case((Case.acknowledged_at.is_(None), Case.acknowledge_due_at),
                    (Case.first_response_at.is_(None), Case.respond_due_at),
                    else_=Case.resolve_due_at)


@bp.route("/")
@roles_required("spokesperson")
def index():
    due = next_due()
    rows = db.session.execute(
        select(Case, due.label("due")).where(Case.unit_id == current_user.unit_id,
                                             Case.status.in_(OPEN_CASE_STATUSES))
        .order_by(due, Case.id).limit(200)).all()
    counts = dict(db.session.execute(
        select(Case.status, func.count()).where(Case.unit_id == current_user.unit_id)
        .group_by(Case.status)).all())
    now = utcnow()
    return render_template("inbox.html", rows=rows, counts=counts, now=now,
                           overdue=sum(1 for _, d in rows if d < now))
