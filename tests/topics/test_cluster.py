from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from opinion.topics.cluster import TopicClusterer
from opinion.topics.features import sketch, sketch_similarity
from opinion.topics.state import merge_states, remove_contribution

T0 = datetime(2024, 7, 1, 8, 0)

FLOOD = [
    "中山路地下通道积水严重，一辆轿车被困在水里",
    "中山路下穿地下通道又积水了，排水系统太差",
    "暴雨后中山路地下通道积水半米深，车辆无法通行",
    "中山路地下通道积水，公交改道，市政排水什么时候来",
    "今天早上中山路地下通道积水淹了好几辆车",
    "中山路地下通道每次下雨都积水，排水问题年年说年年有",
]
SCHOOL = [
    "实验小学推迟开学，家长们都在问什么时候复课",
    "听说实验小学开学推迟两周，孩子在家上网课",
    "实验小学推迟开学的通知出来了，家长群炸了",
    "实验小学开学时间推迟，双职工家长孩子没人带",
    "实验小学为什么推迟开学，教育局给个说法",
    "实验小学推迟开学，网课安排太乱了",
]
NOISE = [
    "滨江花园旁边工地夜间施工噪音太大，根本睡不着",
    "工地凌晨还在施工，噪音扰民，滨江花园业主投诉无门",
    "滨江花园工地半夜打桩噪音，孩子被吵醒好几次",
    "投诉滨江花园对面工地夜间施工噪音，城管管不管",
    "滨江花园工地噪音扰民，晚上十一点还在施工",
    "工地夜间施工噪音吵得滨江花园居民整夜失眠",
]


def feed(c: TopicClusterer, docs, start=T0, step=timedelta(minutes=5)):
    return [c.assign(d, start + i * step, post_id=i) for i, d in enumerate(docs)]


@pytest.fixture()
def mixed(make_doc):
    # Interleaved, as a live stream would bring them.
    return [make_doc(t) for trio in zip(FLOOD, SCHOOL, NOISE) for t in trio]


def test_same_matter_together_different_apart(mixed):
    out = feed(TopicClusterer(), mixed)
    groups = [{out[i].topic_key for i in range(k, len(out), 3)} for k in range(3)]
    # Each matter mostly in one topic ...
    for g_idx, k in enumerate(range(3)):
        keys = [out[i].topic_key for i in range(k, len(out), 3)]
        assert max(keys.count(x) for x in keys) >= 5, (g_idx, keys)
    # ... and the three main topics are different.
    main = [max(set(ks := [out[i].topic_key for i in range(k, len(out), 3)]), key=ks.count)
            for k in range(3)]
    assert len(set(main)) == 3, groups


def test_duplicate_adds_volume_not_centroid(make_doc):
    c = TopicClusterer()
    feed(c, [make_doc(t) for t in FLOOD[:3]])
    key = c.assign(make_doc(FLOOD[0] + "，大家注意安全"), T0 + timedelta(hours=1)).topic_key
    before = dict(c.topic(key).vsum)
    vol = c.topic(key).volume
    a = c.assign(make_doc("//@市民小王:" + FLOOD[0] + "，大家注意安全"), T0 + timedelta(hours=2))
    assert a.is_duplicate and a.topic_key == key
    assert c.topic(key).vsum == before
    assert c.topic(key).volume == vol + 1


def test_sketch_similarity_separates_copies_from_others(make_doc):
    a, b = make_doc(FLOOD[0] + "请绕行"), make_doc(FLOOD[0] + "请大家绕行")
    assert sketch_similarity(sketch(a), sketch(b)) >= 0.5
    assert sketch_similarity(sketch(a), sketch(make_doc(SCHOOL[0]))) < 0.2


def test_dormancy_closes_quiet_topics(make_doc):
    c = TopicClusterer(dormant_after=timedelta(hours=72))
    first = feed(c, [make_doc(t) for t in FLOOD[:3]])
    key = first[0].topic_key
    c.maintenance(T0 + timedelta(hours=73))
    assert key not in c.topics and key in c.pop_dormant() and not c.went_dormant
    late = c.assign(make_doc(FLOOD[3]), T0 + timedelta(hours=74))
    assert late.is_new and late.topic_key != key


def test_max_active_bounds_open_topics(make_doc):
    c = TopicClusterer(max_active=2)
    feed(c, [make_doc(FLOOD[0]), make_doc(SCHOOL[0]), make_doc(NOISE[0])])
    assert len(c.topics) == 2


def test_merge_combines_volume_and_keywords(make_doc):
    c = TopicClusterer(threshold=0.99)     # everything a new topic, so we have two to merge
    a, b = feed(c, [make_doc(FLOOD[0]), make_doc(FLOOD[1])])
    va, vb = c.topic(a.topic_key).volume, c.topic(b.topic_key).volume
    c.merge(a.topic_key, b.topic_key)
    assert b.topic_key not in c.topics
    assert c.topic(a.topic_key).volume == va + vb
    assert "中山路" in c.topic(a.topic_key).keywords


def test_maintenance_merges_converging_topics(make_doc):
    c = TopicClusterer(threshold=0.99, merge_threshold=0.3)
    feed(c, [make_doc(t) for t in FLOOD[:4]])
    # Pairwise-only topics never merge (singletons are skipped), so make two 2-post topics.
    keys = list(c.topics)
    c.merge(keys[0], keys[1])
    c.merge(keys[2], keys[3])
    c._dirty.update(c.topics)
    merges = c.maintenance(T0 + timedelta(hours=1))
    assert len(merges) == 1 and len(c.topics) == 1


def test_maintenance_order_does_not_follow_hash_seed():
    # Topics of equal size are checked in key order, not in the dirty set's (hash-seeded) order,
    # so the same stream gives the same topics in every process.
    from opinion.topics.state import TopicState
    c = TopicClusterer()
    keys = [f"t{i}" for i in (7, 3, 12, 5, 1)]
    for k in keys:
        c.topics[k] = TopicState(key=k, vsum={"积水": 1.0}, norm=1.0, n_vectors=3, last_seen=T0)
    c.topics["t9"] = TopicState(key="t9", vsum={"积水": 2.0}, norm=2.0, n_vectors=2, last_seen=T0)
    c._dirty = set(keys) | {"t9"}
    seen = []
    c._best_other = lambda s: (seen.append(s.key), (None, 0.0))[1]
    c.maintenance(T0)
    assert seen == ["t9", "t1", "t12", "t3", "t5", "t7"]


def test_pure_merge_and_remove_are_inverse(make_doc):
    c = TopicClusterer(threshold=0.99)
    a, b = feed(c, [make_doc(FLOOD[0]), make_doc(SCHOOL[0])])
    sa, sb = c.topic(a.topic_key), c.topic(b.topic_key)
    merged = merge_states(sa, sb)
    assert merged.volume == 2 and c.topic(b.topic_key).volume == 1   # inputs untouched
    back = remove_contribution(merged, c.vectorize(make_doc(SCHOOL[0])))
    assert back.volume == 1
    assert max(back.vsum, key=back.vsum.get) in sa.vsum
    assert sum(v for t, v in back.vsum.items() if t not in sa.vsum) < 0.2


def test_export_load_round_trip_same_assignments(make_doc):
    docs = [make_doc(t) for trio in zip(FLOOD, SCHOOL, NOISE) for t in trio]
    c = TopicClusterer()
    feed(c, docs[:12])
    saved = {k: json.loads(json.dumps(c.export_state(k))) for k in c.topics}
    stats = json.loads(json.dumps(c.export_stats()))
    r = TopicClusterer()
    r.load_stats(stats)
    for k, st in saved.items():
        r.load_topic(k, st)
    later = docs[12:]
    a = feed(c, later, start=T0 + timedelta(hours=2))
    b = feed(r, later, start=T0 + timedelta(hours=2))
    assert [x.topic_key for x in a] == [x.topic_key for x in b]
    # export rounds centroid weights to 6 decimals, so similarities agree to ~1e-5
    assert all(abs(x.similarity - y.similarity) < 1e-4 for x, y in zip(a, b))


def test_label_is_short_and_names_the_matter(mixed):
    c = TopicClusterer()
    out = feed(c, mixed)
    label = c.label(out[0].topic_key)
    assert 0 < len(label) <= 20 and "中山路" in label and "积水" in label and "·" not in label
    c.rename(out[0].topic_key, "中山路积水")
    assert c.label(out[0].topic_key) == "中山路积水"


def test_other_hashtags_pull_posts_together(make_doc):
    c = TopicClusterer()
    a = c.assign(make_doc("#中山路积水# 太吓人了"), T0)
    b = c.assign(make_doc("#中山路积水# 我家楼下也是"), T0 + timedelta(minutes=1))
    assert b.topic_key == a.topic_key and not b.is_new


def test_a_topic_that_just_went_dormant_can_still_be_read(prepare):
    from datetime import timezone

    from opinion.nlp.doc import Doc
    c = TopicClusterer()
    now = datetime(2026, 11, 30, 9, tzinfo=timezone.utc)
    old = c.assign(prepare(Doc(raw="北关路公交改线后老人出行不便")), now - timedelta(days=8)).topic_key
    c.assign(prepare(Doc(raw="中山路隧道积水半米深")), now)
    assert old not in c.topics  # dormant ...
    assert "公交" in c.label(old) and c.export_state(old)["key"] == old  # ... and still readable


def test_the_label_is_a_clause_people_wrote_and_survives_a_restart(make_doc):
    posts = ["夏天垃圾清运不及时，小区门口臭气熏天", "垃圾清运车什么时候来？夏天太臭了", "夏天垃圾清运太慢了，天天都臭"]
    c = TopicClusterer()
    keys = {a.topic_key for a in feed(c, [make_doc(t) for t in posts])}
    assert len(keys) == 1
    key = keys.pop()
    assert c.label(key) == "夏天垃圾清运不及时"  # a title, not "夏天·垃圾清运·不"
    r = TopicClusterer()
    r.load_topic(key, json.loads(json.dumps(c.export_state(key))))
    assert r.label(key) == c.label(key)


def test_clauses_break_at_brackets_so_no_label_carries_half_a_headline():
    from opinion.topics.state import clauses_of
    assert clauses_of("新华菜市场售卖过期食品】昨天在新华菜市场买的熟食，过期三天了") == [
        "新华菜市场售卖过期食品", "昨天在新华菜市场买的熟食", "过期三天了"]


def test_without_a_clause_that_names_it_the_label_falls_back_to_words(make_doc):
    c = TopicClusterer()
    [a] = feed(c, [make_doc("垃圾！清运！")])  # no clause of four characters
    assert c.label(a.topic_key) == "垃圾·清运"
