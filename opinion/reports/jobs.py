"""The report jobs as the scheduler calls them, inside the common job boundary (opinion.jobs.job):
own app context, commit, and a logged failure instead of a dead scheduler thread."""
from __future__ import annotations

import logging

from opinion.jobs import job
from opinion.reports import scheduled

log = logging.getLogger(__name__)


def _made(what: str, made) -> None:
    for report in made if isinstance(made, list) else [made]:
        log.info("%s: #%s %s %s", what, report.id, report.title, report.status)


def _now(now):
    from opinion.models import utcnow
    return now or utcnow()


@job("weekly report")
def weekly_report(app, session, now=None) -> None:
    _made("weekly report", scheduled.weekly_due(session, _now(now)))


@job("daily report")
def daily_report(app, session, now=None) -> None:
    _made("daily report", scheduled.daily_due(session, _now(now)))


@job("special reports")
def special_reports(app, session, now=None) -> None:
    _made("special reports", scheduled.special_due(session, _now(now)))


def add_report_jobs(scheduler, app, common: dict) -> None:
    """Daily brief, weekly summary (times from config) and the level-5 special reports."""
    weekly = scheduled.parse_schedule(app.config.get("REPORT_WEEKLY_AT", "mon 07:30"))
    daily = scheduled.parse_schedule(app.config.get("REPORT_DAILY_AT", "07:00"))
    # A report missed while the scheduler was down is still worth making an hour later.
    late = {**common, "misfire_grace_time": 3600}
    scheduler.add_job(weekly_report, "cron", args=[app], id="weekly_report", **weekly, **late)
    scheduler.add_job(daily_report, "cron", args=[app], id="daily_report", **daily, **late)
    scheduler.add_job(special_reports, "interval", minutes=5, args=[app], id="special_reports", **common)
