"""Monitors' topic edits: merge, move/split, rename; kept by later clustering, audited, and the
clusterer's word statistics survive a restart."""
import pytest
from sqlalchemy import select

from opinion.cases.lifecycle import follow_topic_merge
from opinion.errors import TopicEditError
from opinion.models import AuditEvent, Post, Topic
from opinion.pipeline.batch import get_pipeline, ingest
from opinion.topics.edit import merge_topics, move_posts, rename_topic, split_topic
from tests.factories import make_item, make_source, make_user

FLOOD = ["中山路下穿隧道积水半米深，车子熄火在里面", "中山路隧道又积水了，每次下雨都变成河，排水什么时候修好",
         "早上在中山路隧道口被积水困住，隧道积水太危险了"]
SCHOOL = ["实验小学暑假补课乱收费，每个学生收两千元", "实验小学老师暑假补课收费，家长不敢不交",
          "实验小学暑假违规补课收费，教育部门管不管"]


def topic_of(session, ext) -> Topic:
    post = session.execute(select(Post).where(Post.external_id == ext)).scalar_one()
    return session.get(Topic, post.topic_id)


@pytest.fixture
def two_topics(app, session):
    source = make_source(session)
    ingest(session, app, source, [make_item(f"f{i}", t, minutes_ago=30) for i, t in enumerate(FLOOD)])
    ingest(session, app, source, [make_item(f"s{i}", t, minutes_ago=30) for i, t in enumerate(SCHOOL)])
    flood, school = topic_of(session, "f0"), topic_of(session, "s0")
    assert flood.id != school.id
    assert {topic_of(session, f"f{i}").id for i in range(3)} == {flood.id}
    return source, flood, school


def actions(session):
    return [e.action for e in session.execute(select(AuditEvent).where(
        AuditEvent.action.like("topic.%")).order_by(AuditEvent.id)).scalars()]


def test_merge_is_kept_by_later_clustering(app, session, two_topics):
    source, flood, school = two_topics
    monitor = make_user(session, "monitor1", "monitor")
    # Merged from the web process, which holds no clusterer: the ingest process catches up itself.
    merge_topics(session, None, flood, school, monitor)
    session.commit()
    assert school.status == "merged" and school.merged_into_id == flood.id
    assert flood.post_count == 6 and {topic_of(session, f"s{i}").id for i in range(3)} == {flood.id}
    assert actions(session) == ["topic.merged"]
    ingest(session, app, source, [make_item("s9", "实验小学暑假补课乱收费，家长意见很大", minutes_ago=5)])
    assert topic_of(session, "s9").id == flood.id  # not the merged topic, not a new one
    with pytest.raises(TopicEditError, match="已并入"):
        merge_topics(session, None, school, flood, monitor)


def test_split_posts_into_a_new_topic_and_the_next_similar_post_follows(app, session, two_topics):
    source, flood, school = two_topics
    monitor = make_user(session, "monitor1", "monitor")
    store = get_pipeline(app)[1]
    posts = session.execute(select(Post).where(Post.topic_id == school.id)).scalars().all()
    new = split_topic(session, store, posts[:2], monitor)
    session.commit()
    assert new.id not in (flood.id, school.id) and new.post_count == 2 and school.post_count == 1
    assert new.state["n_vectors"] == 2 and school.state["n_vectors"] == 1
    assert actions(session) == ["topic.split"]
    # A repost of a moved post follows it to its new topic.
    ingest(session, app, source, [make_item("s1r", SCHOOL[1] + "！", minutes_ago=1)])
    assert topic_of(session, "s1r").id == new.id


def test_move_posts_to_an_existing_topic(app, session, two_topics):
    _, flood, school = two_topics
    monitor = make_user(session, "monitor1", "monitor")
    post = session.execute(select(Post).where(Post.external_id == "f2")).scalar_one()
    target = move_posts(session, get_pipeline(app)[1], [post], school, monitor)
    session.commit()
    assert target.id == school.id and post.topic_id == school.id
    assert (flood.post_count, school.post_count) == (2, 4)
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "topic.posts_moved")).scalar_one()
    assert event.actor == "monitor1" and event.after["posts"] == [post.id]
    with pytest.raises(TopicEditError, match="已在该话题"):
        move_posts(session, None, [post], school, monitor)
    with pytest.raises(TopicEditError, match="选择"):
        move_posts(session, None, [], school, monitor)


def test_rename_is_kept_when_posts_arrive(app, session, two_topics):
    source, flood, _ = two_topics
    monitor = make_user(session, "monitor1", "monitor")
    rename_topic(session, flood, "中山路隧道积水", monitor)
    session.commit()
    ingest(session, app, source, [make_item("f9", "中山路隧道积水还没排干净", minutes_ago=1)])
    assert topic_of(session, "f9").id == flood.id
    session.refresh(flood)
    assert flood.label == "中山路隧道积水" and flood.label_locked
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "topic.renamed")).scalar_one()
    assert event.after["label"] == "中山路隧道积水" and event.actor == "monitor1"
    with pytest.raises(TopicEditError, match="不能为空"):
        rename_topic(session, flood, "  ", monitor)


def test_word_statistics_survive_a_restart(app, session, two_topics):
    pipeline, store = get_pipeline(app)
    store.STATS_EVERY = 0
    store.maybe_save_stats()
    assert store.stats_path.exists()
    saved = pipeline.clusterer.idf.n
    assert saved >= 6
    del app.extensions["opinion.pipeline"]  # a restart: a new pipeline, a new store
    restarted, _ = get_pipeline(app)
    assert restarted is not pipeline and restarted.clusterer.idf.n == saved


def test_upkeep_merges_converged_topics_and_keeps_a_monitors_name(app, session):
    from opinion.topics.edit import merge_converged
    source = make_source(session)
    ingest(session, app, source, [make_item(f"f{i}", t, minutes_ago=30) for i, t in enumerate(FLOOD)])
    flood = topic_of(session, "f0")
    _, store = get_pipeline(app)
    clusterer = store.clusterer
    # A second topic on the same matter, as two waves of posts that started apart would leave.
    twin = Topic(key="twin1", label="隧道积水", label_locked=True, state=dict(flood.state),
                 post_count=0, first_seen_at=flood.first_seen_at, last_seen_at=flood.last_seen_at)
    session.add(twin)
    session.commit()
    clusterer.load_topic("twin1", twin.state)
    clusterer._dirty |= {"twin1", store.cluster_key(flood.key)}
    assert merge_converged(session, store) != []
    session.commit()
    statuses = {t.id: t.status for t in (flood, twin)}
    assert sorted(statuses.values()) == ["merged", "open"]
    kept = flood if flood.status == "open" else twin
    assert kept.label == "隧道积水"  # the monitor's name survives the automatic merge
    assert {topic_of(session, f"f{i}").id for i in range(3)} == {kept.id}
    assert "topic.merged" in actions(session)
    assert merge_converged(session, store) == []  # nothing left to merge


def test_scheduler_upkeep_job_marks_quiet_topics_dormant(app, session):
    from datetime import timedelta

    from opinion.jobs import topic_upkeep
    from opinion.models import utcnow
    quiet = Topic(key="quiet1", label="旧话题", status="open", first_seen_at=utcnow() - timedelta(days=9),
                  last_seen_at=utcnow() - timedelta(days=8))
    session.add(quiet)
    session.commit()
    topic_upkeep(app)
    session.expire_all()
    assert session.get(Topic, quiet.id).status == "dormant"


def test_hot_score_cools_when_a_topic_goes_quiet(app, session):
    from datetime import timedelta

    from opinion.topics.store import cool_down
    source = make_source(session)
    ingest(session, app, source, [make_item(f"f{i}", t, minutes_ago=30) for i, t in enumerate(FLOOD)])
    topic = topic_of(session, "f0")
    hot_now = topic.hot_score
    assert hot_now > 0
    cool_down(session, topic.last_seen_at + timedelta(hours=1))
    assert topic.hot_score == hot_now  # an hour later the day's window still holds every post
    cool_down(session, topic.last_seen_at + timedelta(hours=30))
    assert 0 < topic.hot_score < hot_now / 2  # a day and more of silence: no longer hot, not 0.0
    cool_down(session, topic.last_seen_at + timedelta(hours=50))
    assert topic.hot_score == 0  # two quiet days: cold


def test_a_split_takes_the_reposts_along_and_both_sides_get_a_heat(app, session, two_topics):
    source, flood, school = two_topics
    monitor = make_user(session, "monitor1", "monitor")
    ingest(session, app, source, [make_item(f"r{i}", SCHOOL[0], minutes_ago=20 - i) for i in range(4)])
    original = session.execute(select(Post).where(Post.external_id == "s0")).scalar_one()
    reposts = session.execute(select(Post).where(Post.duplicate_of_id == original.id)).scalars().all()
    assert len(reposts) == 4 and {p.topic_id for p in reposts} == {school.id}
    new = split_topic(session, get_pipeline(app)[1], [original], monitor)
    session.commit()
    assert new.post_count == 5 and {p.topic_id for p in reposts} == {new.id}
    assert new.hot_score > 0 and school.hot_score > 0


def test_topic_keywords_leave_out_words_that_say_nothing():
    from opinion.topics.state import TopicState, top_keywords
    state = TopicState(key="t", vsum={"前": 9.0, "不": 8.0, "没有": 7.0, "中山路": 3.0, "积水": 2.0, "12": 5.0})
    assert top_keywords(state) == ["中山路", "积水"]


def _open_case(session, district, topic, unit_code):
    from opinion.cases.lifecycle import open_or_attach
    from opinion.models import Unit
    unit = session.execute(select(Unit).where(Unit.code == unit_code)).scalar_one()
    case, _ = open_or_attach(session, district, topic, unit, priority="normal", category=None,
                             reason="测试", now=topic.last_seen_at)
    return case


def test_merge_moves_the_cases_and_the_next_post_finds_them(app, session, district, two_topics):
    from opinion.cases.lifecycle import open_or_attach
    from opinion.models import Unit
    _, flood, school = two_topics
    monitor = make_user(session, "monitor1", "monitor")
    water, education = _open_case(session, district, flood, "slj"), _open_case(session, district, school, "jyj")
    session.commit()
    merge_topics(session, None, flood, school, monitor)
    moved_ids = follow_topic_merge(session, flood, school, monitor, flood.last_seen_at)  # the case stage's part
    session.commit()
    assert education.topic_id == flood.id and education.open_key == f"{flood.id}:{education.unit_id}"
    assert water.topic_id == flood.id
    # New posts of the merged matter for 教育局 land on the case it already has, not a new one.
    jyj = session.execute(select(Unit).where(Unit.code == "jyj")).scalar_one()
    again, new = open_or_attach(session, district, flood, jyj, priority="normal", category=None,
                                reason="测试", now=flood.last_seen_at)
    assert not new and again.id == education.id
    moved = session.execute(select(AuditEvent).where(AuditEvent.action == "case.topic_merged")).scalar_one()
    assert (moved.object_type, moved.object_id, moved.actor) == ("case", education.id, "monitor1")
    assert moved.before == {"topic": school.id} and moved.after == {"topic": flood.id}
    assert moved_ids == [education.id]
    assert session.execute(select(AuditEvent).where(AuditEvent.action == "topic.merged")).scalar_one()


def test_merge_keeps_two_open_cases_of_one_unit_for_a_person_to_merge(app, session, district, two_topics):
    _, flood, school = two_topics
    monitor = make_user(session, "monitor1", "monitor")
    first, second = _open_case(session, district, flood, "jyj"), _open_case(session, district, school, "jyj")
    session.commit()
    merge_topics(session, None, flood, school, monitor)
    follow_topic_merge(session, flood, school, monitor, flood.last_seen_at)
    session.commit()
    assert (first.topic_id, second.topic_id) == (flood.id, flood.id)
    assert first.open_key == f"{flood.id}:{first.unit_id}" and second.open_key is None
    assert second.status == "new"  # still open: only a person closes a case
    moved = session.execute(select(AuditEvent).where(AuditEvent.action == "case.topic_merged")).scalar_one()
    assert f"已有工单 #{first.id}" in moved.reason


def test_related_topics_rank_by_centroid_similarity_among_open_recent_topics(session):
    from datetime import timedelta

    from opinion.models import utcnow
    from opinion.topics.edit import related_topics
    now = utcnow()

    def topic(key, vsum, status="open", hours_ago=1):
        t = Topic(key=key, label=key, status=status, state={"vsum": vsum}, post_count=3,
                  first_seen_at=now - timedelta(hours=hours_ago), last_seen_at=now - timedelta(hours=hours_ago))
        session.add(t)
        return t
    me = topic("me", {"工地": 1.0, "噪音": 1.0, "人民路": 1.0})
    close = topic("close", {"工地": 1.0, "噪音": 1.0, "凌晨": 1.0})          # cosine 2/3
    topic("loose", {"噪音": 1.0, "广场舞": 1.0, "公园": 1.0, "音响": 1.0})  # cosine 0.29
    topic("far", {"积水": 1.0, "隧道": 1.0})                                 # nothing shared
    topic("quiet", {"工地": 1.0, "噪音": 1.0, "人民路": 1.0}, status="dormant")
    topic("old", {"工地": 1.0, "噪音": 1.0, "人民路": 1.0}, hours_ago=100)
    session.commit()
    found = related_topics(session, me, now - timedelta(hours=72))
    assert [(t.key, round(s, 2)) for t, s in found] == [("close", 0.67), ("loose", 0.29)]
    assert related_topics(session, me, now - timedelta(hours=72), limit=1)[0][0].id == close.id
    assert related_topics(session, Topic(key="empty", state={}), now) == []


def test_upkeep_never_folds_a_split_back_and_rechecks_old_pairs_after_a_restart(app, session, two_topics):
    """A monitor's split stays split, whatever the centroids say; topics that converged before a
    restart are merged by the first upkeep after it, not only when one of them gets a post."""
    from opinion.topics.edit import merge_converged
    source, flood, school = two_topics
    monitor = make_user(session, "monitor1", "monitor")
    ingest(session, app, source, [make_item("s3", "实验小学暑假补课收费两千元，家长不满", minutes_ago=20),
                                   make_item("s4", "实验小学暑假违规补课乱收费，谁来管管", minutes_ago=10)])
    _, store = get_pipeline(app)
    posts = session.execute(select(Post).where(Post.topic_id == school.id).order_by(Post.id)).scalars().all()
    assert len(posts) == 5
    part = split_topic(session, store, posts[:2], monitor)   # both sides keep at least two posts
    session.commit()
    assert part.state["curated"] and school.state["curated"]
    clusterer = store.clusterer
    clusterer._dirty |= {store.cluster_key(part.key), store.cluster_key(school.key)}
    merge_converged(session, store)
    session.commit()
    assert (part.status, school.status) == ("open", "open")   # still apart, as the monitor left them

    # Two uncurated topics on one matter that converged before a restart.
    twin = Topic(key="twin2", label="隧道积水", state=dict(flood.state), post_count=0,
                 first_seen_at=flood.first_seen_at, last_seen_at=flood.last_seen_at)
    session.add(twin)
    session.commit()
    del app.extensions["opinion.pipeline"]   # a restart: the new store loads both from the database
    _, restarted = get_pipeline(app)
    assert merge_converged(session, restarted) != []
    session.commit()
    assert sorted((flood.status, twin.status)) == ["merged", "open"]
    assert (part.status, school.status) == ("open", "open")
