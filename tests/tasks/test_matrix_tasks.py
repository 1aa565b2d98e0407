"""The 政务微博矩阵 with a broker: the scheduler's matrix job sends one `collect_account` task per
due account and workers read the platforms, as they do sources; a run sent twice stores once.
Skipped, with the reason, where no Redis answers."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from opinion.models import OfficialAccount, OfficialPost, utcnow
from tests.collectors.fake_server import FakeServer, FakeWeibo
from tests.collectors.test_matrix import _unit, _weibo_account
from tests.tasks.test_queue import _until, broker  # noqa: F401 - the fixture


def test_due_accounts_are_collected_on_a_worker_and_a_run_sent_twice_stores_once(app, session, broker):
    from opinion.jobs import matrix_collect
    now = utcnow()
    with FakeServer() as server:
        weibo = FakeWeibo(server)
        ids = []
        for n, uid in enumerate(("2001", "2002")):
            weibo.add_account(uid, f"账号{uid}", followers=100 + n)
            for day in (2, 1):
                weibo.add_own_post(uid, f"{uid} 政务公告第{day}号", now - timedelta(days=day), likes=day)
            ids.append(_weibo_account(session, weibo, _unit(session, n), uid=uid).id)
        count = lambda: session.execute(select(func.count()).select_from(OfficialPost)).scalar()  # noqa: E731

        matrix_collect(app, now=now)
        assert count() == 0  # sent to the queue, not read in the scheduler's process
        broker.send("collect_account", account_id=ids[0])  # the same run once more, as a redelivery would
        worker = broker.worker(["collect"], 2)
        worker.start()
        try:
            _until(lambda: count() == 4 and all(session.get(OfficialAccount, i).status == "ok" for i in ids),
                   60, "both accounts collected")
            broker.broker.join("collect", timeout=30_000)
        finally:
            worker.stop()
        session.expire_all()
        assert count() == 4
        assert sorted(session.get(OfficialAccount, i).followers for i in ids) == [100, 101]
