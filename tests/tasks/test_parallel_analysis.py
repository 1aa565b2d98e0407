"""The per-post analysis runs on any worker; only topic assignment and storing wait for the one
ingest consumer. No broker here: the split itself, and the message that carries an analysed batch."""
from __future__ import annotations

from sqlalchemy import select

from opinion.models import Post
from opinion.pipeline.analysis import ANALYSIS_STAGES, TOPIC_STAGES
from opinion.pipeline.batch import analyse, get_pipeline, ingest
from opinion.tasks.collect import entry_from_message, entry_to_message
from tests.factories import make_item, make_source

TEXTS = ["某小区停水三天了，物业电话打不通，请相关部门尽快处理", "#交通# 早高峰某路口信号灯坏了，堵了一公里 //@路人:确实",
         "感谢街道工作人员连夜清理积雪[赞]", "学校门口的流动摊贩占道经营，孩子放学很危险"]


def test_the_analysis_and_the_topic_stage_together_are_every_stage(app):
    pipeline, _ = get_pipeline(app)
    names = {name for name, _ in pipeline.stages}
    assert ANALYSIS_STAGES | TOPIC_STAGES == names and not ANALYSIS_STAGES & TOPIC_STAGES


def test_an_analysed_entry_survives_the_message(app):
    [entry] = analyse(app, [make_item("m1", TEXTS[1])])
    assert entry.doc.tokens and entry.category and entry.topic_key is None  # analysed, not assigned
    back = entry_from_message(entry_to_message(entry))
    assert back == entry and back.doc.repost_chain == entry.doc.repost_chain


def test_a_batch_analysed_on_a_worker_is_stored_as_if_analysed_in_process(app, session):
    here, there = make_source(session, "in-process"), make_source(session, "on-a-worker")
    ingest(session, app, here, [make_item(f"a{n}", t) for n, t in enumerate(TEXTS)])
    items = [make_item(f"b{n}", t) for n, t in enumerate(TEXTS)]
    entries = [entry_from_message(entry_to_message(e)) for e in analyse(app, items)]
    report = ingest(session, app, there, items, analysed={e.id: e for e in entries})
    assert sorted(report.accepted) == sorted(i.external_id for i in items)

    def stored(source):
        posts = session.execute(select(Post).where(Post.source_id == source.id).order_by(Post.external_id)).scalars()
        return [(p.text, p.tokens, p.keywords, p.sentiment, p.polarity, p.emotion, p.category, p.priority,
                 p.unit_id, p.topic_id is not None, p.analysis_error) for p in posts]
    assert stored(there) == stored(here)
    assert all(row[-2] for row in stored(there))  # every post got its topic on the consumer
    # sent again (a redelivered message): nothing stored twice
    again = ingest(session, app, there, items, analysed={e.id: e for e in entries})
    assert again.accepted == [] and len(stored(there)) == len(TEXTS)


def test_a_collection_task_sends_only_new_posts_analysed_and_the_consumer_stores_them(app, session):
    """collect_source on a worker: the items already stored are not analysed again, the new ones
    travel with their analysis; ingest_batch (the one consumer) assigns topics and stores them."""
    from datetime import datetime, timedelta, timezone
    from xml.sax.saxutils import escape

    from opinion.models import Source
    from opinion.tasks.collect import collect_source, ingest_batch
    from tests.collectors.fake_server import FakeServer, Reply

    now = datetime.now(timezone.utc)
    items = "".join(f"<item><title>t{n}</title><link>https://weibo.example.cn/{n}</link><description>{escape(t)}"
                    f"</description><guid isPermaLink=\"false\">r{n}</guid><pubDate>"
                    f"{(now - timedelta(minutes=n + 1)).strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate></item>"
                    for n, t in enumerate(TEXTS))
    body = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>f</title>'
            f'<link>https://weibo.example.cn/</link>{items}</channel></rss>').encode("utf-8")
    with FakeServer() as server:
        server.routes["/feed.xml"] = Reply(200, body, {"Content-Type": "application/rss+xml"})
        source = Source(code="rss-q", name="测试 RSS", kind="rss", enabled=True,
                        config={"url": f"{server.base}/feed.xml"}, state={}, interval_seconds=600)
        session.add(source)
        session.commit()
        ingest(session, app, source, [make_item("r0", TEXTS[0])])  # one of them is stored already
        sent = []
        collect_source(app, session, source.id, lambda **batch: sent.append(batch))
        session.commit()
    [batch] = sent
    assert sorted(i["external_id"] for i in batch["items"]) == ["r1", "r2", "r3"]
    entries = [entry_from_message(e) for e in batch["entries"]]
    assert all(e.doc.tokens and e.category and e.topic_key is None for e in entries)
    ingest_batch(app, session, source.id, batch["items"], batch["entries"])
    posts = session.execute(select(Post).where(Post.source_id == source.id)).scalars().all()
    assert sorted(p.external_id for p in posts) == ["r0", "r1", "r2", "r3"]
    assert all(p.topic_id is not None and p.tokens for p in posts)
    assert "已分析并交给入库队列 3 条" in str(session.get(Source, source.id).state)
