"""Ingest: posts stored once, analysed, grouped into topics and opened as cases with deadlines."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from opinion.models import AuditEvent, Case, Post, Topic
from opinion.pipeline import batch as ingest_module
from opinion.pipeline.batch import ingest
from tests.factories import make_item, make_source, make_user

FLOOD = ["中山路下穿隧道积水半米深，车子熄火在里面[怒]",
         "中山路隧道又积水了，每次下雨都变成河，排水什么时候修好",
         "早上在中山路隧道口被积水困住，太危险了"]


def count(session, model, *where):
    return session.execute(select(func.count()).select_from(model).where(*where)).scalar()


def test_posts_become_one_case_with_deadlines(app, session):
    make_user(session, "slj_fyr", "spokesperson", "slj")
    source = make_source(session)
    report = ingest(session, app, source, [make_item(f"f{i}", t) for i, t in enumerate(FLOOD)])
    assert len(report.accepted) == 3 and report.cases_opened == 1
    case = session.execute(select(Case)).scalar_one()
    assert case.unit.code == "slj" and case.status == "new" and case.assignee.username == "slj_fyr"
    assert case.acknowledge_due_at < case.respond_due_at <= case.resolve_due_at
    assert case.open_key == f"{case.topic_id}:{case.unit_id}"
    topic = session.get(Topic, case.topic_id)
    assert topic.post_count == 3 and topic.label
    assert count(session, AuditEvent, AuditEvent.action == "case.opened") == 1
    post = session.execute(select(Post).where(Post.external_id == "f0")).scalar_one()
    assert post.raw_text == FLOOD[0] and post.tokens and post.sentiment is not None


def test_same_input_twice_stores_nothing_new(app, session):
    source = make_source(session)
    items = [make_item(f"f{i}", t) for i, t in enumerate(FLOOD)]
    ingest(session, app, source, items)
    again = ingest(session, app, source, items)
    assert again.accepted == [] and sorted(again.duplicate) == ["f0", "f1", "f2"]
    assert count(session, Post) == 3 and count(session, Case) == 1


def test_later_posts_attach_to_the_open_case(app, session):
    source = make_source(session)
    ingest(session, app, source, [make_item("f0", FLOOD[0])])
    report = ingest(session, app, source, [make_item("f1", FLOOD[1]), make_item("f2", FLOOD[2])])
    assert report.cases_opened == 0
    assert count(session, Case) == 1
    assert count(session, Post, Post.topic_id == session.execute(select(Case.topic_id)).scalar()) == 3


def test_an_urgent_post_raises_the_open_case(app, session):
    source = make_source(session)
    ingest(session, app, source, [make_item("f0", FLOOD[0])])
    case = session.execute(select(Case)).scalar_one()
    assert case.priority != "urgent"
    ingest(session, app, source, [make_item("f9", "中山路下穿隧道积水半米深，车子熄火在里面，司机溺水身亡")])
    session.refresh(case)
    assert session.execute(select(Post.topic_id).where(Post.external_id == "f9")).scalar() == case.topic_id
    assert case.priority == "urgent"
    assert case.respond_due_at == case.created_at + timedelta(hours=5)


def test_praise_is_watched_not_opened_as_a_case(app, session):
    source = make_source(session)
    report = ingest(session, app, source, [make_item("p1", "感谢消防员半夜及时赶到扑灭大火，辛苦了，点赞[心]")])
    assert report.cases_opened == 0 and count(session, Topic) == 1


@pytest.mark.parametrize("item,reason", [
    (make_item("", "正文"), "缺少 id"),
    (make_item("e1", "   "), "正文为空"),
    (make_item("e2", "长" * 100_001), "正文过长"),
    (make_item("e3", "未来的帖子", minutes_ago=-600), "未来"),
])
def test_bad_items_are_rejected_with_a_reason(app, session, item, reason):
    report = ingest(session, app, make_source(session), [item, make_item("ok", FLOOD[0])])
    assert report.accepted == ["ok"]
    assert len(report.rejected) == 1 and reason in report.rejected[0][1]


def test_html_and_script_are_kept_raw_and_cleaned_for_display(app, session):
    raw = '<p>井盖丢了<script>alert(1)</script>，南环路上很危险</p>'
    ingest(session, app, make_source(session), [make_item("h", raw)])
    post = session.execute(select(Post)).scalar_one()
    assert post.raw_text == raw
    assert "<script>" not in post.text and "alert" not in post.text and "井盖" in post.text


def test_a_post_that_fails_analysis_is_stored_raw_with_its_error(app, session, monkeypatch):
    from opinion.pipeline.batch import get_pipeline
    pipeline, _ = get_pipeline(app)
    original = pipeline.stages
    broken = [(n, (lambda es: (_ for _ in ()).throw(ValueError("模型损坏"))) if n == "emotion" else s)
              for n, s in original]
    monkeypatch.setattr(pipeline, "stages", broken)
    report = ingest(session, app, make_source(session), [make_item("x", FLOOD[0])])
    assert report.accepted == ["x"] and report.analysis_failed
    post = session.execute(select(Post)).scalar_one()
    assert "emotion" in post.analysis_error and post.raw_text == FLOOD[0] and post.topic_id is None


def test_a_crash_mid_batch_leaves_no_half_written_rows(app, session, monkeypatch):
    source = make_source(session)
    real = ingest_module._open_case
    calls = {"n": 0}

    def crash(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # the process is killed here
        return real(*args, **kwargs)

    monkeypatch.setattr(ingest_module, "_open_case", crash)
    with pytest.raises(KeyboardInterrupt):
        ingest(session, app, source, [make_item("a", FLOOD[0]), make_item("b", "南门口工地半夜施工噪音扰民")])
    session.rollback()
    assert count(session, Post) == 0 and count(session, Case) == 0 and count(session, Topic) == 0
    monkeypatch.setattr(ingest_module, "_open_case", real)
    report = ingest(session, app, source, [make_item("a", FLOOD[0]), make_item("b", "南门口工地半夜施工噪音扰民")])
    assert sorted(report.accepted) == ["a", "b"] and count(session, Post) == 2


def test_exact_duplicates_across_sources_point_to_the_original(app, session):
    ingest(session, app, make_source(session, "one"), [make_item("a", FLOOD[0])])
    ingest(session, app, make_source(session, "two"), [make_item("a", FLOOD[0] + " ")])
    first, second = session.execute(select(Post).order_by(Post.id)).scalars().all()
    assert second.duplicate_of_id == first.id and first.duplicate_of_id is None


def test_history_is_stored_and_clustered_but_opens_no_case_and_raises_no_alert(app, session):
    from opinion.alerts.engine import evaluate_all
    from opinion.ingest.importer import ImportSummary
    from opinion.models import Alert
    make_user(session, "slj_fyr", "spokesperson", "slj")
    old = [make_item(f"h{i}", t + "，化工厂爆炸", minutes_ago=60 * 24 * 30) for i, t in enumerate(FLOOD)]
    report = ingest(session, app, make_source(session), old)
    assert len(report.accepted) == 3 and report.history == ["h0", "h1", "h2"]
    assert report.cases_opened == 0
    assert count(session, Case) == 0 and count(session, Alert) == 0
    posts = session.execute(select(Post)).scalars().all()
    assert all(p.topic_id is not None and p.sentiment is not None for p in posts)
    evaluate_all(session, app)  # the scheduler's pass does not pick them up either
    assert count(session, Alert, Alert.kind == "sensitive_word") == 0
    assert "3 条是历史帖子" in ImportSummary(file="old.jsonl", lines=3, report=report).describe()
    # A fresh post on the same matter opens the case and fires the alert as usual.
    report = ingest(session, app, make_source(session), [make_item("new", FLOOD[0] + "，化工厂爆炸")])
    assert report.history == [] and report.cases_opened == 1
    assert count(session, Alert, Alert.kind == "sensitive_word") == 1


def test_the_history_limit_is_configuration(app, session):
    app.config["CASE_MAX_POST_AGE_HOURS"] = 24 * 60
    report = ingest(session, app, make_source(session),
                    [make_item("h0", FLOOD[0], minutes_ago=60 * 24 * 30)])
    assert report.history == [] and report.cases_opened == 1


def test_a_batch_mixing_last_weeks_post_with_todays_is_stored_whole(app, session):
    # The week-old post's topic goes dormant as soon as today's post is clustered, before the
    # batch is written: it must still get its label and state.
    report = ingest(session, app, make_source(session), [
        make_item("old", "北关路公交改线后老人出行不便", minutes_ago=60 * 24 * 8),
        make_item("new", FLOOD[0])])
    assert report.accepted == ["old", "new"] and report.history == ["old"]
    old = session.execute(select(Post).where(Post.external_id == "old")).scalar_one()
    assert old.topic is not None and old.topic.label and old.topic.state


def test_a_late_vector_moves_the_stored_post_at_upkeep(app, session, monkeypatch):
    """The live stream placed a post by words while the encoder was behind; when the upkeep gives
    it its vector and the clusterer moves it (TopicClusterer.refine), the stored post follows."""
    source = make_source(session)
    ingest(session, app, source, [make_item(f"f{i}", t) for i, t in enumerate(FLOOD)])
    ingest(session, app, source, [make_item("n0", "小区门口的路灯坏了一个多月，晚上回家黑漆漆的")])
    session.commit()
    post = session.execute(select(Post).where(Post.external_id == "n0")).scalar_one()
    flood = session.execute(select(Post).where(Post.external_id == "f0")).scalar_one().topic
    lamp = post.topic
    assert lamp.id != flood.id and flood.post_count == 3
    pipeline, store = ingest_module.get_pipeline(app)
    move = ("n0", store.cluster_key(lamp.key), store.cluster_key(flood.key))
    asked = []
    monkeypatch.setattr(pipeline, "refine_topics", lambda limit: asked.append(limit) or [move])
    ingest_module.upkeep_topics(session, app, flood.last_seen_at)
    session.expire_all()
    post = session.get(Post, post.id)
    assert asked and post.topic_id == flood.id
    assert session.get(Topic, flood.id).post_count == 4 and session.get(Topic, lamp.id).post_count == 0
    # A move naming a post that is not (or no longer) on the topic it leaves changes nothing.
    monkeypatch.setattr(pipeline, "refine_topics", lambda limit: [move])
    ingest_module.upkeep_topics(session, app, flood.last_seen_at)
    session.expire_all()
    assert session.get(Topic, flood.id).post_count == 4 and session.get(Post, post.id).topic_id == flood.id
