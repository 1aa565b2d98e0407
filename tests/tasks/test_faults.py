"""Faults the scale-out mode must survive without losing or doubling a post (issue 19).

A collecting worker SIGKILLed in the middle of a run (its collection and ingest messages are
redelivered to the worker that takes over), and the broker itself killed and restarted under a
working worker (a private `redis-server` started by the test, with its append-only file, as a
broker that must not lose queued work runs). Skipped, with the reason, where no Redis or no
redis-server binary is there.
"""
from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from bench.bench_scale import feed, replay
from opinion.models import Post, Source
from tests.collectors.fake_server import FakeServer, Reply
from tests.factories import make_item, make_source
from tests.tasks.test_queue import _stop, _until, _worker, broker  # noqa: F401 - the fixture


def _count(session) -> int:
    return session.execute(select(func.count()).select_from(Post)).scalar()


def _stored_once(session, total: int) -> None:
    ids = session.execute(select(Post.external_id)).scalars().all()
    assert len(ids) == len(set(ids)) == total


def rss_sources(session, server: FakeServer, posts: list[dict], n: int, interval: int = 600) -> list[int]:
    """n RSS sources on `server`, post i on source i mod n (each feed in the stream's order)."""
    ids = []
    for k in range(n):
        server.routes[f"/feed{k}.xml"] = Reply(200, feed(posts[k::n]), {"Content-Type": "application/rss+xml"})
        source = Source(code=f"feed{k}", name=f"订阅 {k}", kind="rss", enabled=True,
                        config={"url": f"{server.base}/feed{k}.xml"}, state={}, interval_seconds=interval)
        session.add(source)
        session.flush()
        ids.append(source.id)
    session.commit()
    return ids


def needs_postgresql(app) -> None:
    """Collection runs write their source's state while the ingest consumer writes posts: on SQLite
    two writers wait on one file lock and a run fails with "database is locked". The scale-out
    mode runs on PostgreSQL (README "Scale-out"); the embedded SQLite default has no workers."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("扩展模式（多个 worker 同时采集与入库）需要 PostgreSQL；SQLite 只有一个写入者，跳过")


def test_a_collecting_worker_killed_mid_run_loses_no_post_and_stores_none_twice(app, session, broker, tmp_path,
                                                                                 shared_data):
    needs_postgresql(app)
    posts = replay(360, datetime.now(timezone.utc))
    with FakeServer() as server:
        ids = rss_sources(session, server, posts, 3)
        first = _worker(app, tmp_path / "first.log")
        second = None
        try:
            _until(lambda: "入库队列（" in (tmp_path / "first.log").read_text(encoding="utf-8"), 180,
                   "the first worker's start", first, tmp_path / "first.log")
            for source_id in ids:
                broker.send("collect_source", source_id=source_id)
            _until(lambda: _count(session) > 0, 300, "the first stored batch", first, tmp_path / "first.log")
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            assert _count(session) < len(posts), "the worker finished before it could be killed mid-run"
            second = _worker(app, tmp_path / "second.log")
            _until(lambda: _count(session) == len(posts), 400, f"all {len(posts)} posts", second,
                   tmp_path / "second.log")
            time.sleep(3)  # a redelivered batch, if any, would land now
            _stored_once(session, len(posts))
            assert session.execute(select(func.count()).select_from(Post).where(Post.topic_id.is_(None))).scalar() == 0
        finally:
            _stop(first, second)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    """A redis-server of the test's own (the machine's Redis is never touched), with an
    append-only file synced on every write, so a kill -9 loses no queued message."""

    def __init__(self, folder):
        self.binary = shutil.which("redis-server")
        self.folder, self.port, self.proc = folder, _free_port(), None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
             "--appendfsync", "always", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.RedisError:
                time.sleep(0.1)
        raise AssertionError(f"redis-server on port {self.port} did not start")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)


@pytest.fixture
def private_redis(app, tmp_path):
    pytest.importorskip("redis")
    server = PrivateRedis(tmp_path)
    if server.binary is None:
        pytest.skip("没有 redis-server 程序，无法在测试中启动并重启一个独立的 Redis，跳过消息代理重启的测试")
    server.start()
    app.config.update(BROKER_URL=server.url, BROKER_NAMESPACE=f"opinion-test-{uuid.uuid4().hex[:8]}",
                      TASK_MAX_RETRIES=5, TASK_MIN_BACKOFF_MS=100, TASK_MAX_BACKOFF_MS=1000,
                      BROKER_HEARTBEAT_MS=2000, BROKER_MAINTENANCE_CHANCE=1_000_000)
    from opinion.jobs import init_task_queue
    queue = init_task_queue(app)
    yield server, queue
    queue.broker.close()
    if server.proc is not None and server.proc.poll() is None:
        server.kill()


def test_the_broker_killed_and_restarted_under_a_worker_loses_no_post_and_stores_none_twice(
        app, session, private_redis, tmp_path):
    server, queue = private_redis
    source = make_source(session, "broker-restart", kind="file")
    from opinion.tasks.collect import to_message
    total, size = 400, 20
    items = [make_item(f"b{n}", f"第{n}条：{['某小区停水三天了', '路口信号灯坏了', '学校门口摊贩占道'][n % 3]}，"
                                f"请相关部门尽快处理 {n}") for n in range(total)]
    for start in range(0, total, size):
        queue.send("ingest_batch", source_id=source.id, items=[to_message(i) for i in items[start:start + size]])
    log = tmp_path / "worker.log"
    worker = _worker(app, log)
    try:
        _until(lambda: _count(session) > 0, 300, "the first stored batch", worker, log)
        server.kill()  # mid-run: batches queued, one perhaps being stored, its ack still to come
        stored_while_down = _count(session)
        assert stored_while_down < total, "the worker finished before the broker could be killed"
        time.sleep(3)
        server.start()  # the same port and append-only file: the queued batches are still there
        _until(lambda: _count(session) == total, 300, f"all {total} posts after the restart", worker, log)
        time.sleep(4)  # a redelivered batch, if any, would land now
        _stored_once(session, total)
        assert worker.poll() is None, "the worker died with the broker instead of reconnecting"
    finally:
        _stop(worker)
