"""The task queue: Dramatiq on Redis, for the work that can run in parallel on several workers.

Why Dramatiq: a message is acknowledged only after its task returns (a worker killed mid-task
leaves it unacknowledged, and the Redis broker gives it to another worker once the dead one's
heartbeat is older than OPINION_BROKER_HEARTBEAT_MS); retries with exponential back-off are built
in; a message that fails its last retry goes to the queue's dead-letter set, and RecordFailures
below also writes it to the database, so the admin sees it on 系统管理 → 失败任务. Celery would do
too, but acknowledges before the work unless told otherwise and needs more settings for the same.

Without OPINION_BROKER_URL there is no queue: `submit` says so and the caller runs the task in
process, exactly as the embedded default always has.
"""
from __future__ import annotations

import json
import logging
from typing import Callable

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import Middleware, Retries, default_middleware
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from opinion.models import FailedJob, db, utcnow

log = logging.getLogger(__name__)
QUEUES = ("collect", "ingest", "reports", "notify", "retrain")
# Tasks that may run longer than Dramatiq's 10-minute default.
TIME_LIMIT_MS = {"retrain": 2 * 3600 * 1000, "reports": 30 * 60 * 1000}


def plain(value):
    """A value as JSON can carry it (datetimes as ISO text): what a message holds."""
    return json.loads(json.dumps(value, default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v)))


class RecordFailures(Middleware):
    """After a message's last retry, a FailedJob row with the task, its arguments and the error."""

    def __init__(self, app):
        self.app = app

    def after_process_message(self, broker, message, *, result=None, exception=None):
        if exception is None or not message.failed:
            return
        with self.app.app_context():
            try:
                db.session.add(FailedJob(message_id=message.message_id, task=message.actor_name,
                                         queue=message.queue_name, arguments=plain(message.kwargs),
                                         attempts=message.options.get("retries", 1),  # Retries counted this one
                                         error=f"{type(exception).__name__}: {exception}"[:4000],
                                         failed_at=utcnow()))
                db.session.commit()
            except IntegrityError:  # the same message recorded already (a redelivery)
                db.session.rollback()
            finally:
                db.session.remove()


class TaskQueue:
    """The broker and one actor per task. Each task body is `fn(app, session, **kwargs)`, run in an
    app context, committed after, rolled back and re-raised on error (so Dramatiq retries it)."""

    def __init__(self, app):
        config = app.config
        self.app = app
        # Dramatiq's default middleware less Prometheus, whose metrics server belongs to the
        # `dramatiq` command's forked processes, not to a worker started by `python -m opinion worker`.
        middleware = [m() for m in default_middleware if m.__name__ != "Prometheus"]
        self.broker = RedisBroker(url=config["BROKER_URL"], middleware=middleware, namespace=config.get("BROKER_NAMESPACE", "opinion"),
                                  heartbeat_timeout=int(config.get("BROKER_HEARTBEAT_MS", 60000)),
                                  maintenance_chance=int(config.get("BROKER_MAINTENANCE_CHANCE", 1000)))
        # "after" hooks run in reverse order: placed before Retries, it sees Retries' verdict.
        self.broker.add_middleware(RecordFailures(app), before=Retries)
        self.actors: dict[str, dramatiq.Actor] = {}

    def register(self, name: str, fn: Callable, queue: str) -> None:
        app = self.app

        def run(**kwargs):
            with app.app_context():
                try:
                    fn(app, db.session, **kwargs)
                    db.session.commit()
                except BaseException:
                    db.session.rollback()
                    raise
                finally:
                    db.session.remove()

        run.__name__ = name
        config = app.config
        self.actors[name] = dramatiq.Actor(
            run, broker=self.broker, actor_name=name, queue_name=queue, priority=0,
            options={"max_retries": int(config["TASK_MAX_RETRIES"]),
                     "min_backoff": int(config["TASK_MIN_BACKOFF_MS"]),
                     "max_backoff": int(config["TASK_MAX_BACKOFF_MS"]),
                     "time_limit": TIME_LIMIT_MS.get(queue, 10 * 60 * 1000)})

    def send(self, name: str, **kwargs) -> None:
        self.actors[name].send(**plain(kwargs))

    def worker(self, queues, threads: int) -> dramatiq.Worker:
        return dramatiq.Worker(self.broker, queues=set(queues), worker_threads=threads)


def submit(app, name: str, **kwargs) -> bool:
    """Send task `name` to the queue when the app has one (True); False: run it in process."""
    queue: TaskQueue | None = app.extensions.get("opinion.task_queue")
    if queue is None:
        return False
    queue.send(name, **kwargs)
    return True


TASK_NAMES = {"collect_source": "数据源采集", "analyse_batch": "推送分析", "ingest_batch": "话题归并与入库",
              "collect_account": "政务账号采集", "daily_report": "日报生成",
              "weekly_report": "周报生成", "special_reports": "专报生成",
              "deliver_notifications": "通知发送", "retrain_routing": "分派模型训练"}


def recent_failures(session, limit: int = 100) -> list[FailedJob]:
    """The failed tasks, newest first, for the admin's 失败任务 page."""
    return session.execute(select(FailedJob).order_by(FailedJob.failed_at.desc(), FailedJob.id.desc())
                           .limit(limit)).scalars().all()
