"""The clusterer with sentence vectors (issue 20): paraphrases that share no word meet, posts that
match clearly by words are not encoded, and a post whose vector is late is assigned by words first
and moved by `refine` once the vector comes."""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from opinion.topics.cluster import TopicClusterer
from opinion.topics.dense import Budgeted, DenseIndex, source_and_settings

T0 = datetime(2024, 6, 1, 8)
# Two matters, each said twice with no word in common.
FLOOD = ["中山路隧道积水半米深车辆熄火", "下穿通道被淹汽车开不过去"]
SCHOOL = ["实验小学推迟开学家长着急", "孩子上课时间延后爸妈发愁"]


class Meaning:
    """A stand-in encoder: what a reader would take each text to mean, as a fixed vector."""

    def __init__(self):
        rng = np.random.default_rng(0)
        self.axes = {"flood": rng.normal(size=16), "school": rng.normal(size=16)}
        self.noise = {}
        self.calls = 0

    def encode_docs(self, docs):
        self.calls += len(docs)
        out = []
        for d in docs:
            body = d.body
            axis = self.axes["flood" if any(t in body for t in ("隧道", "通道", "积水", "淹")) else "school"]
            rng = np.random.default_rng(sum(map(ord, body)))   # deterministic, per text
            v = axis + 0.2 * rng.normal(size=16)
            out.append((v / np.linalg.norm(v)).astype(np.float32))
        return np.stack(out)


def _feed(clusterer, make_doc, texts):
    return [clusterer.assign(make_doc(t), T0 + timedelta(minutes=i), post_id=i) for i, t in enumerate(texts)]


def test_paraphrases_that_share_no_word_meet_only_with_vectors(make_doc):
    texts = [FLOOD[0], SCHOOL[0], FLOOD[1], SCHOOL[1]]
    words = _feed(TopicClusterer(), make_doc, texts)
    assert len({a.topic_key for a in words}) == 4          # words alone: four topics
    meant = _feed(TopicClusterer(vectors=Budgeted(Meaning())), make_doc, texts)
    keys = [a.topic_key for a in meant]
    assert keys[0] == keys[2] and keys[1] == keys[3] and keys[0] != keys[1]


def test_a_post_that_matches_clearly_by_words_is_not_encoded(make_doc):
    meaning = Meaning()
    c = TopicClusterer(vectors=Budgeted(meaning), clear_match=0.3)
    _feed(c, make_doc, ["中山路隧道积水半米深车辆熄火了", "中山路隧道积水半米深，车辆熄火，有人被困"])
    assert meaning.calls == 1       # the second post matched the first by words


def test_over_budget_posts_go_by_words_then_refine_moves_them(make_doc):
    meaning = Meaning()
    budget = Budgeted(meaning, budget_s=2, clock=iter(range(100)).__next__)   # two posts per batch
    c = TopicClusterer(vectors=budget)
    a = _feed(c, make_doc, [FLOOD[0], SCHOOL[0], FLOOD[1]])
    assert not a[0].needs_refine and not a[1].needs_refine
    assert a[2].needs_refine and a[2].topic_key not in (a[0].topic_key, a[1].topic_key)
    assert budget.deferred == 1 and meaning.calls == 2
    moves = c.refine()
    assert moves == [(2, a[2].topic_key, a[0].topic_key)]
    assert c.topics[a[0].topic_key].n_vectors == 2 and not c.unrefined


def test_without_vectors_the_clusterer_is_the_words_only_one(make_doc, monkeypatch):
    monkeypatch.setenv("OPINION_TOPIC_VECTORS", "e5")
    monkeypatch.setenv("OPINION_ENCODER", "off")
    table = object()
    monkeypatch.setattr("opinion.nlp.static.shipped_table", lambda: table)
    assert source_and_settings()["vectors"].source is table     # encoder off: the static table
    monkeypatch.setattr("opinion.nlp.static.shipped_table", lambda: None)
    assert source_and_settings() == {}                          # and without it, words alone
    texts = FLOOD + SCHOOL
    plain = [a.topic_key for a in _feed(TopicClusterer(), make_doc, texts)]
    off = [a.topic_key for a in _feed(TopicClusterer(**source_and_settings()), make_doc, texts)]
    assert plain == off


def test_topic_vectors_survive_export_load_and_merge(make_doc):
    c = TopicClusterer(vectors=Budgeted(Meaning()))
    a = _feed(c, make_doc, [FLOOD[0], SCHOOL[0]])
    state = c.export_state(a[0].topic_key)
    assert state["dense"]["n"] == 1
    fresh = TopicClusterer(vectors=Budgeted(Meaning()))
    fresh.load_stats(c.export_stats())             # a restart: statistics, then the topics
    fresh.load_topic(a[0].topic_key, state)
    b = fresh.assign(make_doc(FLOOD[1]), T0 + timedelta(hours=1), post_id=9)
    assert b.topic_key == a[0].topic_key
    merged = c.merge(a[0].topic_key, a[1].topic_key)
    assert merged.dense[1] == 2 and a[1].topic_key not in c.dense


def test_dense_index_centred_cosine_and_reuse_of_rows():
    idx = DenseIndex(3)
    for v in ([1, 0, 0], [0, 1, 0], [0, 0, 1]):
        idx.observe(np.array(v, np.float32))
    for i in range(100):                         # grows past its first 64 rows
        idx.add(f"k{i}", np.array([1, 0, 0] if i % 2 else [0, 1, 0], np.float32))
    near = idx.nearest(np.array([1, 0, 0], np.float32), 3)
    assert all(int(k[1:]) % 2 for k in near) and max(near.values()) == pytest.approx(1.0, abs=1e-5)
    idx.drop("k1")
    assert "k1" not in idx and "k1" not in idx.nearest(np.array([1, 0, 0], np.float32), 100)


def _dense(v):
    from opinion.topics.state import dense_to_dict
    return dense_to_dict((np.asarray(v, np.float32), 1.0))


def test_related_topics_find_a_fragment_that_says_the_same_in_other_words(session):
    from opinion.models import Topic, utcnow
    from opinion.topics.edit import related_topics
    now = utcnow()

    def topic(key, vsum, dense):
        t = Topic(key=key, label=key, status="open", state={"vsum": vsum, "dense": _dense(dense)},
                  post_count=3, first_seen_at=now - timedelta(hours=1), last_seen_at=now - timedelta(hours=1))
        session.add(t)
        return t
    me = topic("me", {"隧道": 1.0, "积水": 1.0}, [1, 0, 0])
    topic("same-meaning", {"下穿通道": 1.0, "被淹": 1.0}, [0.9, 0.1, 0])     # no word shared
    topic("other", {"小学": 1.0, "开学": 1.0}, [0, 0, 1])
    topic("other2", {"医院": 1.0, "挂号": 1.0}, [0, 1, 0])
    session.commit()
    found = [t.key for t, _ in related_topics(session, me, now - timedelta(hours=72))]
    assert found == ["same-meaning"]
