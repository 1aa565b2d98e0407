"""The scheduler's jobs. Exactly one scheduler process runs them at a time (PRODUCT.md): several
may be started for availability, the one holding the scheduler lock (opinion.tasks.lock) acts, the
others wait to take over. Each job opens its own app context, calls a service and logs what went
wrong instead of dying.

Jobs take ids, not objects, and call the stages in order where a pass spans several: the ladder
pass escalates (sla), alerts the monitors (alerts) and closes finished cases (cases).
"""
from __future__ import annotations

import functools
import logging
import os
import random
import threading
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import select

from collectors import PUSH_KINDS
from opinion.alerts.engine import evaluate_all, raise_escalations
from opinion.backup import backup_database
from opinion.cases.lifecycle import close_finished
from opinion.ingest.archive import apply_retention
from opinion.ingest.schedule import jitter_seconds
from opinion.matrix.collect import collect_due as collect_matrix_due, collect_if_due, due_accounts
from opinion.matrix.statements import publish_due as publish_statements_due
from opinion.models import Source, db, utcnow
from opinion.notify import webhooks
from opinion.notify.delivery import deliver_pending
from opinion.pipeline.batch import get_analyser, get_pipeline, upkeep_topics
from opinion.pipeline.runs import collect_one
from opinion.reports import scheduled
from opinion.settings.district import District
from opinion.settings.overrides import refresh_district
from opinion.sla.ladder import tick
from opinion.tasks import collect as queued
from opinion.tasks.lock import INGEST_KEY, SchedulerLock, poll_seconds
from opinion.tasks.queue import TaskQueue, submit

log = logging.getLogger(__name__)


def job(what: str):
    """The job boundary: an app context, a commit at the end, and a logged failure (rolled back)
    instead of a dead scheduler thread; the next run retries."""
    def wrap(body):
        @functools.wraps(body)
        def run(app, **kwargs) -> None:   # kwargs: e.g. now=, for replaying a run at a given time
            with app.app_context():
                try:
                    body(app, db.session, **kwargs)
                    db.session.commit()
                except Exception:  # noqa: BLE001 - job boundary
                    db.session.rollback()
                    log.exception("%s failed", what)
        run.task = body  # the same work as a queued task: errors raised, for the queue's retries
        return run
    return wrap


def ladder_pass(session, district: District, now: datetime) -> list[str]:
    """One pass of the ladder: reminders and escalations (sla), the monitors' alert for each
    escalated case (alerts), then the auto-close of finished cases (cases). Replaying it at the same
    `now` changes nothing. Returns a line per firing and per closed case."""
    fired, escalations = tick(session, district, now)
    raise_escalations(session, escalations, now)
    return fired + close_finished(session, district, now)


@job("SLA tick")
def sla_tick(app, session) -> None:
    refresh_district(app)  # deadlines and the ladder as the admin last saved them
    for line in ladder_pass(session, app.extensions["district"], utcnow()):
        log.info(line)


@job("alert rules")
def alert_rules(app, session) -> None:
    for line in evaluate_all(session, app, utcnow()):
        log.info(line)


@job("notification delivery")  # rows that fail stay pending and are retried
def deliver_notifications(app, session) -> None:
    counts = deliver_pending(session, app, utcnow())
    if any(counts.values()):
        log.info("notifications: %s", counts)


@job("case-event webhooks")  # failed deliveries stay pending and are retried with back-off
def case_webhooks(app, session) -> None:
    counts = webhooks.run(session, app.config, utcnow())
    if any(counts.values()):
        log.info("case webhooks: %s", counts)


@job("routing retraining")  # on failure the current model stays in use
def retrain_routing(app, session) -> None:
    # lazy: training loads scikit-learn and SciPy; the scheduler needs them once a week
    from opinion.routing.retrain import retrain_from_corrections
    log.info(retrain_from_corrections(app))


@job("database backup")  # a failure is logged; yesterday's copy stays
def backup(app, session) -> None:
    log.info("数据库已备份到 %s", backup_database(app))


@job("post archive")  # a failure is logged; what was archived stays archived, the rest waits a month
def archive_old_posts(app, session, now=None) -> None:
    run = apply_retention(app, session, now)
    if run is not None:
        log.info(run.describe())


@job("topic upkeep")
def topic_upkeep(app, session) -> None:
    """Merge topics whose centroids converged, take quiet topics off the hot list and let the
    others' hot scores cool as of now."""
    for keep, gone in upkeep_topics(session, app, utcnow()):
        log.info("话题 #%s 并入 #%s（自动合并）", gone, keep)


@job("account matrix")  # a failing account records its error and backs off; the others go on
def matrix_collect(app, session, now=None) -> None:
    """The units' official accounts that are due (their interval, back-off, Retry-After, as a
    source's): their own posts and figures (opinion.matrix); then the approved statements whose
    scheduled time has come go out from those accounts."""
    if app.config.get("BROKER_URL"):
        for account_id in due_accounts(session, now or utcnow()):  # a worker each, as sources
            submit(app, "collect_account", account_id=account_id)
    else:
        for line in collect_matrix_due(session, now or utcnow()):
            log.info(line)
    for line in publish_statements_due(session, app.extensions["district"], now or utcnow()):
        log.info(line)


def _made(what: str, made, app=None, session=None) -> None:
    """Log what a report job made; with `app`, e-mail it to the admin's recipients for its kind."""
    for report in made if isinstance(made, list) else [made]:
        log.info("%s: #%s %s %s", what, report.id, report.title, report.status)
        if app is not None:
            scheduled.mail_to_recipients(session, app.extensions["district"], report,
                                         app.config.get("PUBLIC_URL", ""), utcnow())


def _periodic(kind: str, what: str):
    """The job that makes the last complete period's report of `kind` (day, week, month, quarter)."""
    def body(app, session, now=None) -> None:
        _made(what, scheduled.periodic_due(session, kind, now or utcnow()), app, session)
    body.__name__ = body.__qualname__ = what.replace(" ", "_")
    return job(what)(body)


daily_report = _periodic("day", "daily report")
weekly_report = _periodic("week", "weekly report")
monthly_report = _periodic("month", "monthly report")
quarterly_report = _periodic("quarter", "quarterly report")


@job("special reports")
def special_reports(app, session, now=None) -> None:
    _made("special reports", scheduled.special_due(session, now or utcnow()), app, session)


# --- collection: one job per pull source --------------------------------------------------------

def _source_job_id(source_id: int) -> str:
    return f"collect:{source_id}"


def sync_source_jobs(app, scheduler, common: dict) -> None:
    """Give each enabled pull source a job at its own interval and jitter; drop the others.

    Runs every minute, so a source added, edited or disabled on the web page or the command line
    is picked up by the scheduler process without a restart.
    """
    with app.app_context():
        wanted = {}
        for source in db.session.execute(select(Source).where(Source.enabled.is_(True))).scalars():
            if source.kind not in PUSH_KINDS:
                wanted[_source_job_id(source.id)] = (source.id, source.interval_seconds, jitter_seconds(source))
        db.session.remove()
    for job_ in scheduler.get_jobs():
        if job_.id.startswith("collect:") and job_.id not in wanted:
            job_.remove()
    for job_id, (source_id, interval, jitter) in wanted.items():
        current = scheduler.get_job(job_id)
        signature = (interval, jitter)
        if current is not None and getattr(current, "kwargs", {}).get("signature") == signature:
            continue
        # A random first delay spreads the sources so they do not all start at once.
        first = utcnow() + timedelta(seconds=random.uniform(0, min(interval, 30)))
        scheduler.add_job(_collect, "interval", seconds=max(interval, 10), jitter=jitter,
                          args=[app, source_id], kwargs={"signature": signature}, id=job_id,
                          next_run_time=first, replace_existing=True, **common)


def _collect(app, source_id: int, signature=None) -> None:
    try:
        if submit(app, "collect_source", source_id=source_id):
            return  # a worker fetches it; its batches go to the ingest queue
        collect_one(app, source_id)
    except Exception:  # noqa: BLE001 - job boundary: log, the next run retries
        log.exception("collection job for source %s failed", source_id)


# --- the queued tasks (with OPINION_BROKER_URL): name -> (body, queue) ----------------------------

def _collect_task(app, session, source_id: int) -> None:
    line = queued.collect_source(app, session, source_id,
                                 lambda **batch: app.extensions["opinion.task_queue"].send("ingest_batch", **batch))
    if line:
        log.info(line)


def _account_task(app, session, account_id: int) -> None:
    line = collect_if_due(session, account_id, utcnow())
    if line:
        log.info(line)


def _analyse_task(app, session, source_id: int, items: list[dict]) -> None:
    queued.analyse_batch(app, session, source_id, items)
    log.info("已分析 %d 条并交给入库队列（进程 %d）", len(items), os.getpid())


def _ingest_task(app, session, source_id: int, items: list[dict], entries: list[dict] | None = None) -> None:
    report = queued.ingest_batch(app, session, source_id, items, entries)
    log.info("入库 %d 条、话题归并（进程 %d，%s）", len(report.accepted), os.getpid(),
             "已在 worker 上分析" if entries is not None else "在此分析")


TASKS = {
    "collect_source": (_collect_task, "collect"),
    "analyse_batch": (_analyse_task, "collect"),
    "collect_account": (_account_task, "collect"),
    "ingest_batch": (_ingest_task, "ingest"),
    "daily_report": (daily_report.task, "reports"),
    "weekly_report": (weekly_report.task, "reports"),
    "monthly_report": (monthly_report.task, "reports"),
    "quarterly_report": (quarterly_report.task, "reports"),
    "special_reports": (special_reports.task, "reports"),
    "deliver_notifications": (deliver_notifications.task, "notify"),
    "retrain_routing": (retrain_routing.task, "retrain"),
}


def init_task_queue(app) -> TaskQueue | None:
    """The app's task queue when OPINION_BROKER_URL is set (each process that sends or works)."""
    if not app.config.get("BROKER_URL"):
        return None
    queue = app.extensions.get("opinion.task_queue")
    if queue is None:
        queue = app.extensions["opinion.task_queue"] = TaskQueue(app)
        for name, (body, queue_name) in TASKS.items():
            queue.register(name, body, queue_name)
    return queue


def _dispatch(app, name: str) -> None:
    """A timer fired: send its task to a worker, or run it here when there is no broker."""
    if not submit(app, name):
        globals()[name](app)


def start_scheduler(app, blocking: bool):
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per job run is noise
    scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone=app.config["TIMEZONE"])
    init_task_queue(app)
    # coalesce + max_instances=1: a slow run is never stacked on itself.
    common = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}
    # One job per pull source at its own interval and jitter, kept in step with the sources table
    # every minute.
    sync_source_jobs(app, scheduler, common)
    scheduler.add_job(sync_source_jobs, "interval", seconds=60, args=[app, scheduler, common],
                      id="collect_sync", **common)
    scheduler.add_job(sla_tick, "interval", minutes=1, args=[app], id="sla_tick", **common)
    scheduler.add_job(matrix_collect, "interval", minutes=1, args=[app], id="matrix_collect", **common)
    scheduler.add_job(topic_upkeep, "interval", minutes=5, args=[app], id="topic_upkeep", **common)
    scheduler.add_job(alert_rules, "interval", minutes=1, args=[app], id="alert_rules", **common)
    scheduler.add_job(_dispatch, "interval", seconds=20, args=[app, "deliver_notifications"], id="notify", **common)
    scheduler.add_job(case_webhooks, "interval", seconds=30, args=[app], id="case_webhooks", **common)
    # Sunday night, when nobody routes by hand: the week's corrections join the training data.
    scheduler.add_job(_dispatch, "cron", day_of_week="sun", hour=2, args=[app, "retrain_routing"], id="retrain_routing",
                      **common)
    if app.config.get("BACKUP_AT"):
        hour, minute = (int(x) for x in app.config["BACKUP_AT"].split(":"))
        scheduler.add_job(backup, "cron", hour=hour, minute=minute, args=[app], id="backup", **common)
    scheduler.add_job(archive_old_posts, "cron", day=1, hour=3, args=[app], id="archive_old_posts", **common)
    add_report_jobs(scheduler, app, common)
    scheduler.start()
    return scheduler


def add_report_jobs(scheduler, app, common: dict) -> None:
    """Daily brief, weekly summary (times from config) and the level-5 special reports."""
    weekly = scheduled.parse_schedule(app.config.get("REPORT_WEEKLY_AT", "mon 07:30"))
    daily = scheduled.parse_schedule(app.config.get("REPORT_DAILY_AT", "07:00"))
    # A report missed while the scheduler was down is still worth making an hour later.
    late = {**common, "misfire_grace_time": 3600}
    scheduler.add_job(_dispatch, "cron", args=[app, "weekly_report"], id="weekly_report", **weekly, **late)
    scheduler.add_job(_dispatch, "cron", args=[app, "daily_report"], id="daily_report", **daily, **late)
    # Monthly and quarterly reports after the daily brief on the 1st (Beijing time, as the others).
    at = {k: v for k, v in daily.items() if k != "day_of_week"}
    at["minute"] = (at["minute"] + 15) % 60
    scheduler.add_job(_dispatch, "cron", args=[app, "monthly_report"], id="monthly_report", day=1, **at, **late)
    scheduler.add_job(_dispatch, "cron", args=[app, "quarterly_report"], id="quarterly_report", month="1,4,7,10",
                      day=1, **at, **late)
    scheduler.add_job(_dispatch, "interval", minutes=5, args=[app, "special_reports"], id="special_reports", **common)


def run_exclusively(app, say, stop: threading.Event | None = None) -> None:
    """The `scheduler` process: wait for the scheduler lock, then run the timers for as long as the
    lock is held. Returns when `stop` is set; raises RuntimeError when the lock is lost (its
    database connection died), so a process manager restarts a process that then waits again."""
    stop = stop or threading.Event()
    with app.app_context():  # `run` calls this in a thread of its own, outside any app context
        lock = SchedulerLock(db.engine, app.instance_path)
    if not lock.try_acquire():
        say(f"另一个调度进程持有调度锁（{lock.describe()}），本进程待命，它停止后一分钟内接替")
        if not lock.wait(stop=stop.is_set):
            return
    say(f"已取得调度锁（{lock.describe()}），本进程负责定时任务（进程号 {os.getpid()}）")
    scheduler = start_scheduler(app, blocking=False)
    try:
        while not stop.wait(min(poll_seconds(), 10)):
            if not lock.still_held():
                raise RuntimeError("调度锁丢失（数据库连接中断），本进程停止定时任务；请由进程管理器重新启动它")
    finally:
        scheduler.shutdown(wait=False)
        lock.release()


def run_in_background(app, say, stop: threading.Event | None = None) -> threading.Thread:
    """For `run` (web and scheduler in one process): the scheduler part waits for the lock in a
    thread, so a second `run` serves the web at once and takes over the timers when the first stops."""
    thread = threading.Thread(target=run_exclusively, args=(app, say, stop), daemon=True, name="scheduler-lock")
    thread.start()
    return thread


def run_worker(app, say, threads: int = 2, stop: threading.Event | None = None) -> None:
    """The `worker` process: consume the parallel queues with `threads` threads, and the ingest
    queue with one thread while this process holds the ingest lock (one consumer in the whole
    install, so topic assignment stays serial; a standby worker takes it over within a minute)."""
    queue = init_task_queue(app)
    if queue is None:
        raise RuntimeError("未设置 OPINION_BROKER_URL：没有任务队列，任务在调度进程内运行，无需启动 worker")
    stop = stop or threading.Event()
    # One line per batch analysed or ingested, with the process id: the operator (and the test)
    # sees analysis spread over the workers and topic assignment on one.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("dramatiq").setLevel(logging.WARNING)
    with app.app_context():
        get_analyser(app)  # models and jieba, before the first collected batch waits for them
    parallel = queue.worker(sorted({q for _, q in TASKS.values()} - {"ingest"}), threads)
    parallel.start()
    say(f"worker 已启动（进程号 {os.getpid()}，{threads} 个线程），队列：采集与分析、报告、通知、模型训练")
    with app.app_context():
        lock = SchedulerLock(db.engine, app.instance_path, name="ingest", key=INGEST_KEY)
    ingest_worker = None
    try:
        while not stop.is_set():
            if ingest_worker is None and lock.try_acquire():
                with app.app_context():
                    get_pipeline(app)  # models, jieba and the open topics, before the first batch waits
                ingest_worker = queue.worker(["ingest"], 1)
                ingest_worker.start()
                say(f"本 worker 负责入库队列（话题归并串行，{lock.describe()}）")
            elif ingest_worker is not None and not lock.still_held():
                raise RuntimeError("入库锁丢失（数据库连接中断），worker 退出；请由进程管理器重新启动它")
            stop.wait(min(poll_seconds(), 10))
    finally:
        if ingest_worker is not None:
            ingest_worker.stop()
        parallel.stop()
        lock.release()
