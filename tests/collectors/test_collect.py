"""Running sources: the bad-input corpus through run_source, back-off, silence, scheduling, idempotency."""
import time
from datetime import timedelta

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select

from collectors import CollectorError, make_collector
from collectors.base import NormalisedPost
from opinion.ingest.schedule import MAX_BACKOFF, is_due, next_run_at
from opinion.jobs import sync_source_jobs
from opinion.models import Post, Source, utcnow
from opinion.pipeline import runs as collect_module
from opinion.pipeline.runs import run_source
from tests.collectors.fake_server import Reply, wait_for
from tests.factories import login, make_source, make_user


def rss_source(session, server, path="/feed.xml", code="rss", **config):
    source = make_source(session, code, kind="rss")
    source.config = {"url": f"{server.base}{path}", **config}
    source.interval_seconds = 600
    session.commit()
    return source


def count(session):
    return session.execute(select(func.count()).select_from(Post)).scalar()


def feed(n: int, start: int = 0, big: str | None = None) -> bytes:
    items = "".join(f"<item><title>第{i}条</title><guid>g{i}</guid><description>南环路第{i}号路灯不亮了，晚上很黑</description></item>"
                    for i in range(start, start + n))
    if big is not None:
        items += f"<item><title>超长</title><guid>huge</guid><description>{big}</description></item>"
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()


@pytest.mark.parametrize("route,config,words", [
    (Reply(500, b"Internal Server Error"), {}, "HTTP 状态码 500"),
    ("hang", {"timeout_read": 1}, "服务器无响应"),
    ("redirect-loop", {}, "重定向次数过多"),
    (Reply(200, b"<html><body>\xe7\xbd\x91\xe7\xab\x99\xe7\xbb\xb4\xe6\x8a\xa4</body></html>", {"Content-Type": "text/html"}), {}, "HTML 网页"),
    (Reply(200, b"x" * 300_000), {"max_bytes": 200_000}, "响应超过"),
])
def test_source_faults_are_shown_on_the_source(app, session, server, route, config, words):
    server.routes["/feed.xml"] = route
    source = rss_source(session, server, **config)
    started = time.monotonic()
    line = run_source(app, source)
    assert time.monotonic() - started < 10  # a hanging server never holds the run
    assert source.status == "failing" and words in source.last_error and words in line
    assert source.failure_count == 1 and source.state["last_run"]["error"] == source.last_error


def test_a_whole_run_never_takes_longer_than_the_total_timeout(server):
    def drip(method, path, query, headers, body):
        time.sleep(0.6)
        return Reply(200, b"<rss/>")
    server.routes["/slow"] = drip
    c = make_collector("rss", {"url": f"{server.base}/slow", "timeout_read": 0.3}, {})
    with pytest.raises(CollectorError, match="服务器无响应"):
        list(c.collect(None))


def test_a_10_mb_item_is_rejected_and_the_rest_kept(app, session, server):
    server.routes["/feed.xml"] = Reply(200, feed(2, big="长" * (10 * 1024 * 1024 // 3)))
    source = rss_source(session, server)
    line = run_source(app, source)
    assert source.status == "ok" and "新增 2" in line and "拒收 1" in line
    assert source.state["last_run"]["rejected"][0][0].endswith("/huge") and "正文过长" in source.state["last_run"]["rejected"][0][1]
    assert count(session) == 2


def test_duplicate_deliveries_and_bozo_warnings_are_recorded(app, session, server, fixture_bytes):
    server.routes["/feed.xml"] = Reply(200, fixture_bytes("dates_ids_duplicates.xml"))
    source = rss_source(session, server)
    line = run_source(app, source)
    assert "新增 5" in line and "重复 1" in line and count(session) == 5
    server.routes["/feed.xml"] = Reply(200, fixture_bytes("malformed.xml"))
    line = run_source(app, source)
    assert source.status == "ok" and "订阅格式有误" in line
    assert any("订阅格式有误" in w for w in source.state["last_run"]["warnings"])


def test_backoff_doubles_capped_and_recovers_by_itself(app, session, server, fixture_bytes):
    server.routes["/feed.xml"] = Reply(503, b"busy")
    source = rss_source(session, server)
    now = utcnow()
    waits = []
    for i in range(12):
        run_source(app, source, now=now)
        waits.append(next_run_at(source) - now)
        assert not is_due(source, now + waits[-1] - timedelta(seconds=1)) and is_due(source, now + waits[-1])
    assert waits[:3] == [timedelta(seconds=1200), timedelta(seconds=2400), timedelta(seconds=4800)]
    assert waits[-1] == MAX_BACKOFF and source.failure_count == 12
    server.routes["/feed.xml"] = Reply(200, fixture_bytes("real_world.xml"))
    run_source(app, source, now=now)
    assert source.status == "ok" and source.failure_count == 0 and next_run_at(source) == now + timedelta(seconds=600)


def test_retry_after_is_respected(app, session, server):
    server.routes["/feed.xml"] = Reply(429, b"slow down", {"Retry-After": "7200"})
    source = rss_source(session, server)
    now = utcnow()
    line = run_source(app, source, now=now)
    assert "被限流" in line and next_run_at(source) == now + timedelta(seconds=7200)


def test_a_source_silent_past_its_expected_period_says_so(app, session, server, fixture_bytes):
    server.routes["/feed.xml"] = Reply(200, fixture_bytes("real_world.xml"))
    source = rss_source(session, server, expected_period_seconds=3600)
    now = utcnow()
    run_source(app, source, now=now)
    assert source.status == "ok"
    run_source(app, source, now=now + timedelta(minutes=30))  # nothing new, still within the period
    assert source.status == "ok"
    run_source(app, source, now=now + timedelta(hours=2))
    assert source.status == "silent" and "预期更新周期（1 小时）" in source.last_error
    server.routes["/feed.xml"] = Reply(200, feed(1, start=900))
    run_source(app, source, now=now + timedelta(hours=3))
    assert source.status == "ok" and source.last_error is None


def test_each_source_gets_its_own_job_with_jitter(app, session, server):
    a = rss_source(session, server, code="a")
    b = rss_source(session, server, code="b", jitter_seconds=5)
    b.interval_seconds = 120
    hotline = make_source(session, "hotline", kind="webhook")
    session.commit()
    scheduler = BackgroundScheduler(timezone="Asia/Shanghai")
    sync_source_jobs(app, scheduler, {"coalesce": True, "max_instances": 1})
    jobs = {j.id: j for j in scheduler.get_jobs()}
    assert set(jobs) == {f"collect:{a.id}", f"collect:{b.id}"} and hotline.kind == "webhook"
    assert jobs[f"collect:{a.id}"].trigger.interval == timedelta(seconds=600)
    assert jobs[f"collect:{a.id}"].trigger.jitter == 60 and jobs[f"collect:{b.id}"].trigger.jitter == 5
    a.enabled = False
    b.interval_seconds = 300
    session.commit()
    sync_source_jobs(app, scheduler, {"coalesce": True, "max_instances": 1})
    jobs = {j.id: j for j in scheduler.get_jobs()}
    assert set(jobs) == {f"collect:{b.id}"} and jobs[f"collect:{b.id}"].trigger.interval == timedelta(seconds=300)


def test_a_hanging_source_does_not_hold_the_others(app, session, server, fixture_bytes):
    server.routes["/slow.xml"] = "hang"
    server.routes["/fast.xml"] = Reply(200, fixture_bytes("real_world.xml"))
    slow = rss_source(session, server, "/slow.xml", code="slow", timeout_read=8)
    fast = rss_source(session, server, "/fast.xml", code="fast")
    scheduler = BackgroundScheduler(timezone="Asia/Shanghai")
    sync_source_jobs(app, scheduler, {"coalesce": True, "max_instances": 1})
    for job in scheduler.get_jobs():
        job.modify(next_run_time=utcnow())
    jobs = {slow.id: scheduler.get_job(f"collect:{slow.id}"), fast.id: scheduler.get_job(f"collect:{fast.id}")}
    assert all(jobs.values())
    slow_id, fast_id = slow.id, fast.id
    scheduler.start()
    try:
        def state(source_id):
            with app.app_context():
                from opinion.models import db
                s = db.session.get(Source, source_id)
                return s.status
        assert wait_for(lambda: state(fast_id) == "ok", timeout=15)
        assert state(slow_id) == "never"  # still waiting on its server, and nobody waited for it
    finally:
        server.stop_hanging.set()
        scheduler.shutdown(wait=True)


def test_a_5000_item_feed_is_idempotent_across_runs_and_after_a_kill(app, session, server, monkeypatch, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("5,000 posts through the whole pipeline: once, on SQLite, is enough (1–2 minutes)")
    server.routes["/feed.xml"] = Reply(200, feed(5000))
    source = rss_source(session, server)
    real, calls = collect_module.ingest, {"n": 0}

    def killed(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the scheduler process is killed in the third batch
        return real(*args, **kwargs)

    monkeypatch.setattr(collect_module, "ingest", killed)
    with pytest.raises(KeyboardInterrupt):
        run_source(app, source)
    session.rollback()
    assert count(session) == 2 * collect_module.BATCH
    monkeypatch.setattr(collect_module, "ingest", real)
    source = session.get(Source, source.id)
    assert "etag" not in (source.state or {})  # the interrupted run saved no cursor
    line = run_source(app, source)
    assert f"新增 {5000 - 2 * collect_module.BATCH}" in line and f"重复 {2 * collect_module.BATCH}" in line
    assert count(session) == 5000
    again = run_source(app, source)
    assert "新增 0" in again and "重复 5000" in again and count(session) == 5000
    ids = session.execute(select(Post.external_id)).scalars().all()
    assert len(set(ids)) == 5000


def test_long_items_are_analysed_in_batches_bounded_by_their_text(app, session, server, monkeypatch):
    # 120 whole articles of 3,000 characters: 360,000 characters, under the 500-item batch size.
    # Analysis holds a batch's tokens at once, so the batch is bounded by its text as well.
    article = "南环路排水管网改造期间夜间实施交通管制，请市民绕行。" * 120
    items = "".join(f"<item><title>第{i}号通告</title><guid>long-{i}</guid><description>{i}{article}</description></item>"
                    for i in range(120))
    server.routes["/feed.xml"] = Reply(200, f'<rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
                                       .encode("utf-8"))
    sizes, real_ingest = [], collect_module.ingest

    def recording(session_, app_, source_, batch, now=None):
        sizes.append((len(batch), sum(len(p.text) for p in batch)))
        return real_ingest(session_, app_, source_, batch, now=now)
    monkeypatch.setattr(collect_module, "ingest", recording)
    line = run_source(app, rss_source(session, server))
    assert "新增 120" in line and count(session) == 120
    assert sum(n for n, _ in sizes) == 120 and len(sizes) >= 2
    assert all(chars <= collect_module.BATCH_CHARS for _, chars in sizes), sizes


def test_batches_keep_order_and_give_an_oversized_item_a_batch_of_its_own():
    posts = [NormalisedPost(external_id=str(i), text="字" * n) for i, n in enumerate([10, 10, 100, 10, 10, 10])]
    got = [[p.external_id for p in b] for b in collect_module.batches(list(posts), size=2, chars=50)]
    assert got == [["0", "1"], ["2"], ["3", "4"], ["5"]]


def test_an_undeclared_big5_feed_is_stored_readable_and_the_guess_is_on_the_source_page(
        app, session, server, fixture_bytes, client):
    server.routes["/feed.xml"] = Reply(200, fixture_bytes("big5_undeclared.xml"), {"Content-Type": "text/xml"})
    source = rss_source(session, server)
    line = run_source(app, source)
    assert "新增 2" in line and "已按内容推测为 Big5（繁体中文）" in line
    raw = session.execute(select(Post.raw_text).where(Post.external_id == "big5-u-1")).scalar_one()
    assert raw.startswith("區政府回應南環路積水問題")
    assert any("Big5" in w for w in source.state["last_run"]["warnings"])
    make_user(session, "monitor1", "monitor", "center")
    login(client, "monitor1")
    page = client.get("/sources/").get_data(as_text=True)
    assert "注意：订阅未声明编码，已按内容推测为 Big5（繁体中文）" in page
