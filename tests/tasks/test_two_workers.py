"""Topics and cases from two workers equal those from one process on the same input (issue 19).

A few hundred real posts (weibo-stream) are collected from local RSS feeds by two `python -m
opinion worker` processes; the batches their one ingest consumer stored are then ingested, in the
same order, by a single process without a broker on an empty database: the topics (label and
posts) and the cases (topic, unit, priority, category, title) must be the same sets. Skipped, with
the reason, where Redis or the shared data are absent.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from bench.bench_scale import ingested_batches, replay, serial_replay, snapshot
from tests.collectors.fake_server import FakeServer
from tests.conftest import _admin_connect
from tests.tasks.test_faults import _count, _stored_once, needs_postgresql, rss_sources
from tests.tasks.test_queue import _stop, _until, _worker, broker  # noqa: F401 - the fixture


def _empty_database(app):
    """A second empty PostgreSQL database beside the test's: (url, drop)."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    admin, _ = _admin_connect()
    name = f"opinion_test_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')

    def drop():
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    return url.rsplit("/", 1)[0] + "/" + name, drop


def test_two_workers_make_the_topics_and_cases_one_process_makes(app, session, broker, tmp_path, shared_data):
    needs_postgresql(app)
    posts = replay(300, datetime.now(timezone.utc))
    logs = [tmp_path / "w0.log", tmp_path / "w1.log"]
    with FakeServer() as server:
        ids = rss_sources(session, server, posts, 6)
        workers = [_worker(app, log) for log in logs]
        try:
            for proc, log in zip(workers, logs):
                _until(lambda log=log: "已启动" in log.read_text(encoding="utf-8"), 180, "the worker's start", proc, log)
            for source_id in ids:
                broker.send("collect_source", source_id=source_id)
            _until(lambda: _count(session) == len(posts), 400, f"all {len(posts)} posts", workers[0], logs[0])
        finally:
            _stop(*workers)
    _stored_once(session, len(posts))
    two = snapshot(session)
    batches = ingested_batches(session)
    assert len(batches) >= 6 and sum(len(items) for _, _, items in batches) == len(posts)
    url, drop = _empty_database(app)
    try:
        alone = serial_replay(url, batches, str(tmp_path / "alone-instance"))
    finally:
        drop()
    assert len(two["topics"]) > 10 and len(two["cases"]) > 5  # a real comparison, not two empty sets
    assert alone["topics"] == two["topics"]
    assert alone["cases"] == two["cases"]
