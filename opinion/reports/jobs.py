"""The report jobs as the scheduler calls them: own app context, commit, and log instead of dying
(the job boundary; the next run tries again)."""
from __future__ import annotations

import logging

from opinion.reports import scheduled

log = logging.getLogger(__name__)


def _run(app, make, what: str, now=None) -> None:
    from opinion.models import db, utcnow
    with app.app_context():
        try:
            made = make(db.session, now or utcnow())
            db.session.commit()
            for report in made if isinstance(made, list) else [made]:
                log.info("%s: #%s %s %s", what, report.id, report.title, report.status)
        except Exception:  # noqa: BLE001 - job boundary
            db.session.rollback()
            log.exception("%s failed", what)


def weekly_report(app, now=None) -> None:
    _run(app, scheduled.weekly_due, "weekly report", now)


def daily_report(app, now=None) -> None:
    _run(app, scheduled.daily_due, "daily report", now)


def special_reports(app, now=None) -> None:
    _run(app, scheduled.special_due, "special reports", now)


def add_report_jobs(scheduler, app, common: dict) -> None:
    """Daily brief, weekly summary (times from config) and the level-5 special reports."""
    weekly = scheduled.parse_schedule(app.config.get("REPORT_WEEKLY_AT", "mon 07:30"))
    daily = scheduled.parse_schedule(app.config.get("REPORT_DAILY_AT", "07:00"))
    # A report missed while the scheduler was down is still worth making an hour later.
    late = {**common, "misfire_grace_time": 3600}
    scheduler.add_job(weekly_report, "cron", args=[app], id="weekly_report", **weekly, **late)
    scheduler.add_job(daily_report, "cron", args=[app], id="daily_report", **daily, **late)
    scheduler.add_job(special_reports, "interval", minutes=5, args=[app], id="special_reports", **common)
