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
    assert "话题归并与入库" in page and "#987654 已不存在" in page and "（1 条帖子）" in page


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


def test_analysis_runs_on_both_workers_and_topic_assignment_on_one(app, session, broker, tmp_path):
    """Two workers: each analyses batches (the collect queue), and exactly one of them, the holder
    of the ingest lock, assigns topics and stores; every post is stored once."""
    source = make_source(session, "queue-split", kind="file")
    from opinion.tasks.collect import to_message
    total, size = 240, 10
    items = [make_item(f"s{n}", f"第{n}条：{['某小区停水三天了', '路口信号灯坏了', '学校门口摊贩占道'][n % 3]}，"
                                f"请相关部门尽快处理 {n}") for n in range(total)]
    logs = [tmp_path / "w0.log", tmp_path / "w1.log"]
    workers = [_worker(app, log) for log in logs]
    try:
        for proc, log in zip(workers, logs):
            _until(lambda log=log: "已启动" in log.read_text(encoding="utf-8"), 120, "the worker's start", proc, log)
        for start in range(0, total, size):  # as a webhook push in queue mode sends them
            broker.send("analyse_batch", source_id=source.id, items=[to_message(i) for i in items[start:start + size]])
        count = lambda: session.execute(select(func.count()).select_from(Post)).scalar()  # noqa: E731
        _until(lambda: count() == total, 300, f"all {total} posts", workers[0], logs[0])
        time.sleep(2)
        texts = [log.read_text(encoding="utf-8") for log in logs]
        analysed = [t.count("已分析") for t in texts]
        ingested = [t.count("话题归并（进程") for t in texts]
        assert all(n > 0 for n in analysed), f"analysis ran on one worker only: {analysed}"
        assert sorted(ingested)[0] == 0 and sum(ingested) >= total // size, f"ingest on both workers: {ingested}"
        assert "已在 worker 上分析" in texts[ingested.index(max(ingested))]
        ids = session.execute(select(Post.external_id)).scalars().all()
        assert len(ids) == len(set(ids)) == total
        assert session.execute(select(func.count()).select_from(Post).where(Post.topic_id.is_(None))).scalar() == 0
    finally:
        _stop(*workers)


def test_a_webhook_push_in_queue_mode_goes_through_the_ingest_queue(app, session, broker, client):
    """With a broker the web process stores nothing itself: the push is answered at once and the
    batch is analysed on a worker and assigned by the one ingest consumer (two web processes
    never each open a topic for the same matter)."""
    from opinion.models import Source
    from tests.collectors.test_webhook import SECRET, TOKEN, push
    session.add(Source(code="hotline-q", name="12345 热线", kind="webhook", enabled=True,
                       config={"token": TOKEN, "secret": SECRET}, state={}))
    session.commit()
    rows = [{"id": f"h{n}", "text": f"某小区停水三天了，物业电话打不通 {n}"} for n in range(5)]
    answer = push(client, {"items": rows + [{"id": "bad", "text": ""}, rows[0]]}).get_json()
    assert answer["queued"] is True
    assert (answer["accepted"], answer["duplicate"], answer["rejected"]) == (5, 1, 1)
    count = lambda: session.execute(select(func.count()).select_from(Post)).scalar()  # noqa: E731
    assert count() == 0  # not ingested in the web process
    worker = broker.worker(["collect", "ingest"], 1)
    worker.start()
    try:
        _until(lambda: count() == 5, 120, "the pushed posts")
    finally:
        worker.stop()
    assert session.execute(select(func.count()).select_from(Post).where(Post.topic_id.is_(None))).scalar() == 0
    again = push(client, {"items": rows}).get_json()  # stored now: answered duplicate, queued nothing
    assert again["duplicate"] == 5 and again["accepted"] == 0
