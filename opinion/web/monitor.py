"""舆情监测台: what monitors watch — the newest and hottest topics, open alerts, the triage queue."""
from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import func, select

from opinion.models import Alert, Case, Source, Topic, Unit, db
from opinion.web.auth import roles_required

bp = Blueprint("monitor", __name__, url_prefix="/monitor")


@bp.route("/")
@roles_required("monitor", "admin")
def index():
    topics = db.session.execute(select(Topic).where(Topic.status == "open")
                                .order_by(Topic.last_seen_at.desc()).limit(30)).scalars().all()
    alerts = db.session.execute(select(Alert).where(Alert.status == "open")
                                .order_by(Alert.created_at.desc()).limit(30)).scalars().all()
    centre = db.session.execute(select(Unit).where(Unit.kind == "centre")).scalars().first()
    triage = db.session.execute(select(Case).where(Case.unit_id == (centre.id if centre else -1),
                                                   Case.status.in_(("new", "acknowledged")))
                                .order_by(Case.created_at.desc()).limit(30)).scalars().all()
    sources = db.session.execute(select(Source).order_by(Source.name)).scalars().all()
    escalated = db.session.execute(select(func.count()).select_from(Case)
                                   .where(Case.escalation_level >= 2, Case.closed_at.is_(None))).scalar()
    return render_template("monitor.html", topics=topics, alerts=alerts, triage=triage,
                           sources=sources, escalated=escalated)
