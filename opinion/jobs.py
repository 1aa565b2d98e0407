"""The scheduler's jobs. Exactly one scheduler process runs them (PRODUCT.md); each job opens its
own app context, calls a service and logs what went wrong instead of dying."""
from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

log = logging.getLogger(__name__)


def collect_due(app) -> None:
    from opinion.collect import collect_sources
    from opinion.overrides import refresh_district
    with app.app_context():
        refresh_district(app)  # an admin may have changed routing since the last run
        for line in collect_sources(app, due_only=True):
            log.info(line)


def sla_tick(app) -> None:
    from opinion.models import db, utcnow
    from opinion.overrides import refresh_district
    from opinion.sla import tick
    with app.app_context():
        try:
            refresh_district(app)  # deadlines and the ladder as the admin last saved them
            for line in tick(db.session, app.extensions["district"], utcnow()):
                log.info(line)
            db.session.commit()
        except Exception:  # noqa: BLE001 - job boundary: log, the next tick retries
            db.session.rollback()
            log.exception("SLA tick failed")


def alert_rules(app) -> None:
    from opinion.alerts.engine import evaluate_all
    from opinion.models import db, utcnow
    with app.app_context():
        try:
            for line in evaluate_all(db.session, app, utcnow()):
                log.info(line)
            db.session.commit()
        except Exception:  # noqa: BLE001 - job boundary: log, the next pass retries
            db.session.rollback()
            log.exception("alert rules failed")


def deliver_notifications(app) -> None:
    from opinion.models import db, utcnow
    from opinion.notify import deliver_pending
    with app.app_context():
        try:
            counts = deliver_pending(db.session, app, utcnow())
            if any(counts.values()):
                log.info("notifications: %s", counts)
        except Exception:  # noqa: BLE001 - job boundary: rows stay pending and are retried
            db.session.rollback()
            log.exception("notification delivery failed")


def retrain_routing(app) -> None:
    from opinion.routing.retrain import retrain_from_corrections
    with app.app_context():
        try:
            log.info(retrain_from_corrections(app))
        except Exception:  # noqa: BLE001 - job boundary: the current model stays in use
            log.exception("routing retraining failed")


def topic_upkeep(app) -> None:
    """Merge topics whose centroids converged (under ingest's lock, since the clusterer is shared)
    and take quiet topics off the hot list."""
    from datetime import timedelta

    from opinion.ingest import _lock, get_pipeline
    from opinion.models import db
    from opinion.topics.edit import close_quiet_topics, merge_converged
    with app.app_context():
        try:
            with _lock:
                _, store = get_pipeline(app)
                merged = merge_converged(db.session, store)
                close_quiet_topics(db.session, timedelta(hours=app.config["TOPIC_DORMANT_HOURS"]))
                db.session.commit()
            for keep, gone in merged:
                log.info("话题 #%s 并入 #%s（自动合并）", gone, keep)
        except Exception:  # noqa: BLE001 - job boundary: log, the next run retries
            db.session.rollback()
            log.exception("topic upkeep failed")


def start_scheduler(app, blocking: bool):
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per job run is noise
    scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone=app.config["TIMEZONE"])
    # coalesce + max_instances=1: a slow run is never stacked on itself.
    common = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}
    # One job per pull source at its own interval and jitter (opinion.collect), kept in step with
    # the sources table every minute.
    from opinion.collect import sync_source_jobs
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
    from opinion.reports.jobs import add_report_jobs
    add_report_jobs(scheduler, app, common)
    scheduler.start()
    return scheduler
