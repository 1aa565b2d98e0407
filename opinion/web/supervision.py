"""督办台: what waits on the monitoring centre — transfer requests to decide, extension requests
to approve, cases the ladder handed over (level 2 and up), cases with no assignee."""
from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select

from opinion.labels import LEVEL_NAMES
from opinion.models import OPEN_CASE_STATUSES, Case, CaseExtension, CaseTransfer, db
from opinion.web.auth import roles_required

bp = Blueprint("supervision", __name__, url_prefix="/supervision")


@bp.route("/")
@roles_required("monitor", "admin", "leader")
def index():
    open_cases = Case.status.in_(OPEN_CASE_STATUSES)
    transfers = db.session.execute(select(CaseTransfer).where(CaseTransfer.status == "pending")
                                   .order_by(CaseTransfer.requested_at)).scalars().all()
    extensions = db.session.execute(select(CaseExtension).where(CaseExtension.status == "pending")
                                    .order_by(CaseExtension.requested_at)).scalars().all()
    escalated = db.session.execute(select(Case).where(open_cases, Case.escalation_level >= 2)
                                   .order_by(Case.escalation_level.desc(), Case.resolve_due_at)
                                   .limit(200)).scalars().all()
    unassigned = db.session.execute(select(Case).where(open_cases, Case.assignee_id.is_(None))
                                    .order_by(Case.acknowledge_due_at).limit(200)).scalars().all()
    cases = {c.id: c for c in db.session.execute(select(Case).where(
        Case.id.in_([t.case_id for t in transfers] + [x.case_id for x in extensions] or [-1]))).scalars()}
    return render_template("supervision.html", transfers=transfers, extensions=extensions,
                           escalated=escalated, unassigned=unassigned, cases=cases,
                           level_names=LEVEL_NAMES)
