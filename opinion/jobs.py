"""The scheduler's jobs. Exactly one scheduler process runs them (PRODUCT.md); each job opens its
own app context, calls a service and logs what went wrong instead of dying."""
from __future__ import annotations

import functools
import logging

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

log = logging.getLogger(__name__)


def job(what: str):
    """The job boundary: an app context, a commit at the end, and a logged failure (rolled back)
    instead of a dead scheduler thread; the next run retries."""
    def wrap(body):
        @functools.wraps(body)
        def run(app, **kwargs) -> None:   # kwargs: e.g. now=, for replaying a run at a given time
            from opinion.models import db
            with app.app_context():
                try:
                    body(app, db.session, **kwargs)
                    db.session.commit()
                except Exception:  # noqa: BLE001 - job boundary
                    db.session.rollback()
                    log.exception("%s failed", what)
        return run
    return wrap


@job("SLA tick")
def sla_tick(app, session) -> None:
    from opinion.models import utcnow
    from opinion.settings.overrides import refresh_district
    from opinion.sla.ladder import tick
    refresh_district(app)  # deadlines and the ladder as the admin last saved them
    for line in tick(session, app.extensions["district"], utcnow()):
        log.info(line)


@job("alert rules")
def alert_rules(app, session) -> None:
    from opinion.alerts.engine import evaluate_all
    from opinion.models import utcnow
    for line in evaluate_all(session, app, utcnow()):
        log.info(line)


@job("notification delivery")  # rows that fail stay pending and are retried
def deliver_notifications(app, session) -> None:
    from opinion.models import utcnow
    from opinion.notify import deliver_pending
    counts = deliver_pending(session, app, utcnow())
    if any(counts.values()):
        log.info("notifications: %s", counts)


@job("routing retraining")  # on failure the current model stays in use
def retrain_routing(app, session) -> None:
    from opinion.routing.retrain import retrain_from_corrections
    log.info(retrain_from_corrections(app))


@job("database backup")  # a failure is logged; yesterday's copy stays
def backup(app, session) -> None:
    from opinion.backup import backup_database
    log.info("数据库已备份到 %s", backup_database(app))


@job("topic upkeep")
def topic_upkeep(app, session) -> None:
    """Merge topics whose centroids converged, take quiet topics off the hot list and let the
    others' hot scores cool as of now; under ingest's lock and committed inside it, since the
    clusterer is shared with ingest."""
    from datetime import timedelta

    from opinion.models import utcnow
    from opinion.pipeline.batch import _lock, cool_down, get_pipeline
    from opinion.topics.edit import close_quiet_topics, merge_converged
    now = utcnow()
    with _lock:
        _, store = get_pipeline(app)
        merged = merge_converged(session, store, now)
        close_quiet_topics(session, timedelta(hours=app.config["TOPIC_DORMANT_HOURS"]), now)
        cool_down(session, now)  # hot means now: scores of topics gone quiet fall
        session.commit()
    for keep, gone in merged:
        log.info("话题 #%s 并入 #%s（自动合并）", gone, keep)


def start_scheduler(app, blocking: bool):
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per job run is noise
    scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone=app.config["TIMEZONE"])
    # coalesce + max_instances=1: a slow run is never stacked on itself.
    common = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}
    # One job per pull source at its own interval and jitter (opinion.collect), kept in step with
    # the sources table every minute.
    from opinion.ingest.collect import sync_source_jobs
    sync_source_jobs(app, scheduler, common)
    scheduler.add_job(sync_source_jobs, "interval", seconds=60, args=[app, scheduler, common],
                      id="collect_sync", **common)
    scheduler.add_job(sla_tick, "interval", minutes=1, args=[app], id="sla_tick", **common)
    scheduler.add_job(topic_upkeep, "interval", minutes=5, args=[app], id="topic_upkeep", **common)
    scheduler.add_job(alert_rules, "interval", minutes=1, args=[app], id="alert_rules", **common)
    scheduler.add_job(deliver_notifications, "interval", seconds=20, args=[app], id="notify", **common)
    # Sunday night, when nobody routes by hand: the week's corrections join the training data.
    scheduler.add_job(retrain_routing, "cron", day_of_week="sun", hour=2, args=[app], id="retrain_routing",
                      **common)
    if app.config.get("BACKUP_AT"):
        hour, minute = (int(x) for x in app.config["BACKUP_AT"].split(":"))
        scheduler.add_job(backup, "cron", hour=hour, minute=minute, args=[app], id="backup", **common)
    from opinion.reports.jobs import add_report_jobs
    add_report_jobs(scheduler, app, common)
    scheduler.start()
    return scheduler
