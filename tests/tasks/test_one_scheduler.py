"""One active scheduler, and nothing sent or fired twice when two run anyway (issue 17, item 3).

Two deliverers at once send each notification once; two ladder ticks that both saw a case due fire
its level once; two `python -m opinion scheduler` processes: one acts, the other waits and takes
over after the first is SIGKILLed.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from opinion.models import AuditEvent, Notification, db
from opinion.notify import notify
from opinion.notify.delivery import deliver_pending
from opinion.sla import ladder
from tests.conftest import REPO, at
from tests.notify.test_delivery import FakeServer
from tests.sla.test_ladder import open_case


def test_two_deliverers_send_each_of_30_notifications_once(app, session):
    server = FakeServer()
    try:
        for n in range(30):
            notify(session, [server.url], f"通知 {n}", f"第 {n} 条", channels=("webhook",))
        session.commit()
        errors = []

        def deliver():
            with app.app_context():
                try:
                    deliver_pending(db.session, app)
                except Exception as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)

        threads = [threading.Thread(target=deliver) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        sent = Counter(json.loads(r["body"])["text"]["content"].split("\n")[0] for r in server.requests)
        assert sorted(sent) == sorted(f"通知 {n}" for n in range(30))
        assert set(sent.values()) == {1}, [k for k, v in sent.items() if v > 1]
        session.expire_all()
        statuses = session.execute(select(Notification.status, func.count()).group_by(Notification.status)).all()
        assert dict(statuses) == {"sent": 30}
    finally:
        server.close()


def test_a_row_claimed_by_another_deliverer_is_not_sent(app, session):
    from opinion.notify.delivery import claim
    server = FakeServer()
    try:
        [row] = notify(session, [server.url], "主题", "正文", channels=("webhook",))
        session.commit()
        assert claim(session, row.id, at("2026-11-23 10:00"))       # the other deliverer won it
        assert not claim(session, row.id, at("2026-11-23 10:00"))   # a second claim loses
        assert deliver_pending(session, app, now=at("2026-11-23 10:01"))["sent"] == 0
        assert server.requests == []
        # Its deliverer died mid-send: after the lease the row is due again, not lost.
        assert deliver_pending(session, app, now=at("2026-11-23 10:06"))["sent"] == 1
        assert len(server.requests) == 1
    finally:
        server.close()


def test_two_ticks_that_both_saw_a_case_due_fire_its_level_once(app, session, district, monkeypatch):
    case = open_case(session, district)
    case_id = case.id
    both_looked = threading.Barrier(2, timeout=30)
    seen = threading.local()
    has_work = ladder._has_work

    def has_work_then_wait(*args):
        answer = has_work(*args)
        if not getattr(seen, "waited", False):  # both ticks decide before either fires
            seen.waited = True
            both_looked.wait()
        return answer

    monkeypatch.setattr(ladder, "_has_work", has_work_then_wait)
    errors, lines = [], []

    def tick():
        with app.app_context():
            try:
                from opinion.jobs import ladder_pass
                lines.extend(ladder_pass(db.session, district, at("2026-11-23 11:01")))
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - reported below
                db.session.rollback()
                errors.append(exc)

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    session.expire_all()
    escalated = session.execute(select(AuditEvent).where(AuditEvent.action == "case.escalated",
                                                         AuditEvent.object_id == case_id)).scalars().all()
    assert [e.after["level"] for e in escalated] == [2]
    assert len([line for line in lines if "第2级" in line]) == 1


def _start_scheduler(app, log: Path) -> subprocess.Popen:
    env = {**os.environ, "OPINION_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "OPINION_INSTANCE_DIR": app.instance_path, "OPINION_SCHEDULER_LOCK_POLL": "1",
           "OPINION_BACKUP_AT": ""}
    return subprocess.Popen([sys.executable, "-m", "opinion", "scheduler"], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=log.open("w"))


def _wait_for(log: Path, words: str, proc: subprocess.Popen, limit: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if words in log.read_text(encoding="utf-8", errors="replace"):
            return time.monotonic() - start
        assert proc.poll() is None, log.read_text(encoding="utf-8", errors="replace")
        time.sleep(0.2)
    raise AssertionError(f"no “{words}” within {limit} s:\n" + log.read_text(encoding="utf-8", errors="replace"))


def test_two_scheduler_processes_one_acts_the_other_takes_over_after_sigkill(app, tmp_path):
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = _start_scheduler(app, first_log)
    second = None
    try:
        _wait_for(first_log, "已取得调度锁", first, 90)
        second = _start_scheduler(app, second_log)
        _wait_for(second_log, "待命", second, 90)
        time.sleep(3)  # several polls: the lock stays with the first
        assert "已取得调度锁" not in second_log.read_text(encoding="utf-8")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        took = _wait_for(second_log, "已取得调度锁", second, 60)
        assert took < 60
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)


def test_run_takes_the_lock_in_a_thread_of_its_own_and_a_second_run_waits(app):
    """`python -m opinion run`: the scheduler part runs in a thread, outside the app context."""
    from opinion.jobs import run_in_background
    lines, stop = [], threading.Event()
    first = second = None
    first = run_in_background(app, lines.append, stop)
    try:
        start = time.monotonic()
        while not any("已取得调度锁" in line for line in lines):
            assert first.is_alive() and time.monotonic() - start < 30, lines
            time.sleep(0.1)
        second_lines = []
        second = run_in_background(app, second_lines.append, stop)
        start = time.monotonic()
        while not second_lines:
            assert second.is_alive() and time.monotonic() - start < 30
            time.sleep(0.1)
        assert "待命" in second_lines[0]
    finally:
        stop.set()
        for thread in (first, second):
            if thread is not None:
                thread.join(20)
    assert not first.is_alive() and not second.is_alive()


def test_after_the_acting_scheduler_is_sigkilled_no_ladder_level_fires_twice(app, session, district, tmp_path):
    """The first scheduler escalates an overdue case, is killed; the second takes over, escalates a
    case that fell due since (so its ladder did tick), and never fires the first case's levels again."""
    from opinion.cases import lifecycle
    from opinion.models import Topic, Unit
    from tests.sla.test_ladder import levels
    first_case = open_case(session, district)
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = _start_scheduler(app, first_log)
    second = None
    try:
        _wait_for(first_log, "已取得调度锁", first, 90)
        second = _start_scheduler(app, second_log)
        _wait_for(second_log, "待命", second, 90)
        start = time.monotonic()
        while not levels(session, first_case):  # the ladder ticks a minute after the start
            assert time.monotonic() - start < 150, first_log.read_text(encoding="utf-8", errors="replace")
            session.rollback()
            time.sleep(1)
        fired = levels(session, first_case)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        _wait_for(second_log, "已取得调度锁", second, 60)
        unit = session.execute(select(Unit).where(Unit.code == "jyj")).scalar_one()
        topic = Topic(key="t-ladder-2", label="路口信号灯损坏", first_seen_at=at("2026-11-23 09:00"),
                      last_seen_at=at("2026-11-23 09:00"))
        session.add(topic)
        session.flush()
        later_case, _ = lifecycle.open_or_attach(session, district, topic, unit, priority="high", category="城市管理",
                                                 reason="测试", now=at("2026-11-23 09:00"))
        session.commit()
        start = time.monotonic()
        while not levels(session, later_case):  # proof that the second scheduler's ladder ticked
            assert time.monotonic() - start < 150, second_log.read_text(encoding="utf-8", errors="replace")
            session.rollback()
            time.sleep(1)
        after = levels(session, first_case)
        assert after[:len(fired)] == fired
        assert all(n == 1 for n in Counter(after).values()), f"a level fired twice: {after}"
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
