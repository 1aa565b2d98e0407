"""The task queue on a real Redis broker (Dramatiq) with real worker processes.

A task sent by the app runs on a `python -m opinion worker` subprocess; a task that keeps failing
is retried with back-off and then recorded for the admin's 失败任务 page; a worker SIGKILLed in the
middle of ingest batches loses no post and stores none twice once another worker takes over.
Skipped, with the reason, where no Redis answers at OPINION_TEST_REDIS_URL or 127.0.0.1:6379.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from opinion.models import FailedJob, Notification, Post, db
from opinion.notify import notify
from tests.conftest import REPO
from tests.factories import login, make_item, make_source, make_user
from tests.notify.test_delivery import FakeServer

REDIS_URL = os.environ.get("OPINION_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def broker(app):
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis 不可用（{REDIS_URL}：{exc}），跳过任务队列的测试")
    namespace = f"opinion-test-{uuid.uuid4().hex[:8]}"
    app.config.update(BROKER_URL=REDIS_URL, BROKER_NAMESPACE=namespace, TASK_MAX_RETRIES=2,
                      TASK_MIN_BACKOFF_MS=100, TASK_MAX_BACKOFF_MS=300, BROKER_HEARTBEAT_MS=2000,
                      BROKER_MAINTENANCE_CHANCE=1_000_000)
    from opinion.jobs import init_task_queue
    queue = init_task_queue(app)
    yield queue
    queue.broker.close()
    for key in client.scan_iter(f"{namespace}*"):
        client.delete(key)


def _worker(app, log: Path) -> subprocess.Popen:
    c = app.config
    env = {**os.environ, "OPINION_DATABASE_URL": c["SQLALCHEMY_DATABASE_URI"], "OPINION_INSTANCE_DIR": app.instance_path,
           "OPINION_BROKER_URL": c["BROKER_URL"], "OPINION_BROKER_NAMESPACE": c["BROKER_NAMESPACE"],
           "OPINION_TASK_MAX_RETRIES": "2", "OPINION_TASK_MIN_BACKOFF_MS": "100",
           "OPINION_BROKER_HEARTBEAT_MS": "2000", "OPINION_BROKER_MAINTENANCE_CHANCE": "1000000",
           "OPINION_SCHEDULER_LOCK_POLL": "1"}
    return subprocess.Popen([sys.executable, "-m", "opinion", "worker", "--threads", "2"], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=log.open("w"))


def _until(check, limit: float, what: str, proc=None, log: Path | None = None):
    start = time.monotonic()
    while time.monotonic() - start < limit:
        db.session.expire_all()
        db.session.rollback()
        value = check()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"worker exited: {log.read_text(encoding='utf-8', errors='replace')}")
        time.sleep(0.3)
    raise AssertionError(f"{what} not within {limit} s" + (f":\n{log.read_text(encoding='utf-8')}" if log else ""))


def _stop(*procs):
    for proc in procs:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)


def test_a_task_sent_by_the_app_runs_on_a_worker_process(app, session, broker, tmp_path):
    server = FakeServer()
    worker = None
    try:
        [row] = notify(session, [server.url], "队列通知", "由 worker 发送", channels=("webhook",))
        session.commit()
        from opinion.tasks.queue import submit
        assert submit(app, "deliver_notifications")  # queued, not run here
        assert server.requests == []
        worker = _worker(app, tmp_path / "worker.log")
        _until(lambda: session.get(Notification, row.id).status == "sent", 120, "delivery on the worker",
               worker, tmp_path / "worker.log")
        assert len(server.requests) == 1
    finally:
        _stop(worker)
        server.close()


def test_without_a_broker_the_timer_runs_the_task_in_process(app, session):
    from opinion.jobs import _dispatch, init_task_queue
    server = FakeServer()
    try:
        assert init_task_queue(app) is None and not app.config["BROKER_URL"]
        notify(session, [server.url], "进程内", "正文", channels=("webhook",))
        session.commit()
        _dispatch(app, "deliver_notifications")
        assert len(server.requests) == 1
    finally:
        server.close()


def test_a_failing_task_is_retried_then_recorded_for_the_admin(app, session, broker, client):
    broker.send("ingest_batch", source_id=987654, items=[{"external_id": "x1", "text": "测试"}])
    worker = broker.worker(["ingest"], 1)
    worker.start()
    try:
        job = _until(lambda: session.execute(select(FailedJob)).scalar_one_or_none(), 60, "the failure record")
    finally:
        worker.stop()
    assert job.task == "ingest_batch" and job.attempts == 3  # the first try and 2 retries
    assert "#987654" in job.error and job.arguments["source_id"] == 987654
    make_user(session, "admin1", "admin")
    login(client, "admin1")
    page = client.get("/admin/failed-jobs").get_data(as_text=True)
    assert "入库与分析" in page and "#987654 已不存在" in page and "（1 条帖子）" in page


def test_a_worker_killed_mid_batch_loses_no_post_and_stores_none_twice(app, session, broker, tmp_path):
    source = make_source(session, "queue-test", kind="file")
    from opinion.tasks.collect import to_message
    total, size = 400, 40
    items = [make_item(f"q{n}", f"第{n}条：某小区停水三天了，物业电话打不通，请相关部门尽快处理 {n}") for n in range(total)]
    for start in range(0, total, size):
        broker.send("ingest_batch", source_id=source.id, items=[to_message(i) for i in items[start:start + size]])
    count = lambda: session.execute(select(func.count()).select_from(Post)).scalar()  # noqa: E731
    first = _worker(app, tmp_path / "first.log")
    second = None
    try:
        _until(lambda: count() > 0, 240, "the first stored batch", first, tmp_path / "first.log")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        stored_when_killed = count()
        assert stored_when_killed < total, "the worker finished before it could be killed mid-run"
        second = _worker(app, tmp_path / "second.log")
        _until(lambda: count() == total, 300, f"all {total} posts", second, tmp_path / "second.log")
        time.sleep(3)  # a redelivered batch, if any, would land now
        ids = session.execute(select(Post.external_id)).scalars().all()
        assert len(ids) == len(set(ids)) == total
    finally:
        _stop(first, second)
