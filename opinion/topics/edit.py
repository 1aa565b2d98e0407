"""Monitors' edits of topics: merge two, move posts to another topic (or split them off into a
new one), rename. Backend only; the pages call these.

The clusterer must not undo an edit, so each edit writes the topic's new clustering state (computed
with the pure functions of topics.state) to the database and an audit event; every process's
TopicStore replays those events before its next batch (`sync_edits`), reloading the edited topics
and forgetting merged ones. A merged topic stays merged: posts the clusterer still sends to it are
redirected to the topic it went into (opinion.topics.store). A renamed topic keeps its name
(label_locked). Merges move posts, not cases: whoever merges hands the pair to the case stage
(opinion.cases.lifecycle.follow_topic_merge), which moves the cases with their slots and audit.
"""
from __future__ import annotations

import math
import uuid
from datetime import datetime

import numpy as np
from sqlalchemy import func, select, update

from opinion import audit
from opinion.errors import TopicEditError
from opinion.models import AuditEvent, Post, Topic, User, utcnow
from opinion.nlp.clean import clean
from opinion.nlp.doc import Doc
from opinion.topics import features as F
from opinion.topics.dense import SETTINGS as DENSE_SETTINGS
from opinion.topics.state import (
    TopicState,
    dense_from_dict,
    export_state,
    make_label,
    merge_states,
    remove_contribution,
    state_from_dict,
)
from opinion.topics.store import refresh_hot_score

EDIT_ACTIONS = ("topic.merged", "topic.posts_moved", "topic.split", "topic.renamed")


def _state(topic: Topic) -> TopicState:
    return state_from_dict(topic.key, topic.state) if topic.state else TopicState(key=topic.key)


def _doc(post: Post):
    """The post as the clusterer saw it: cleaned again for headline, hashtags and links; the
    stored tokens."""
    doc = Doc(raw=post.raw_text)
    clean(doc)
    doc.tokens = list(post.tokens or [])
    return doc


def _vector(store, post: Post) -> dict[str, float]:
    idf = store.clusterer.idf if store is not None else F.Idf()
    return F.vectorize(F.raw_features(_doc(post)), idf)


def _check_open(topic: Topic) -> None:
    if topic.status == "merged":
        raise TopicEditError(f"话题 #{topic.id} 已并入 #{topic.merged_into_id}，请在合并后的话题上操作")


def _save(session, topic: Topic, state: TopicState, now: datetime | None = None) -> None:
    """Write the edited state, and the counts, label and hot score that follow from the posts now
    in it (a split-off topic is as hot as its posts, not 0.0 until the next upkeep)."""
    topic.state = export_state(state)
    topic.keywords = list(topic.state.get("keywords") or [])[:10]
    if not topic.label_locked:
        topic.label = make_label(state)[:200]
    session.flush()
    count, negative, first, last = session.execute(
        select(func.count(), func.count().filter(Post.polarity == "negative"), func.min(Post.created_at),
               func.max(Post.created_at)).where(Post.topic_id == topic.id)).one()
    topic.post_count, topic.negative_count = count, negative
    if first is not None:
        topic.first_seen_at, topic.last_seen_at = first, last
    refresh_hot_score(session, topic, now or utcnow())


def merge_topics(session, store, keep: Topic, gone: Topic, user: User | None,
                 now: datetime | None = None) -> Topic:
    """Fold `gone` into `keep`: its posts move, its state joins keep's, it stays merged for good.
    Its cases are the case stage's to move (opinion.cases.lifecycle.follow_topic_merge)."""
    now = now or utcnow()
    if keep.id == gone.id:
        raise TopicEditError("不能把话题并入它自己")
    _check_open(keep)
    _check_open(gone)
    before = {"keep": {"id": keep.id, "label": keep.label, "posts": keep.post_count},
              "gone": {"id": gone.id, "label": gone.label, "posts": gone.post_count}}
    merged = merge_states(_state(keep), _state(gone), key=keep.key)
    session.execute(update(Post).where(Post.topic_id == gone.id).values(topic_id=keep.id))
    # Topics merged into `gone` earlier now point at `keep`: the chain never grows.
    session.execute(update(Topic).where(Topic.merged_into_id == gone.id).values(merged_into_id=keep.id))
    gone.status, gone.merged_into_id, gone.post_count, gone.negative_count = "merged", keep.id, 0, 0
    keep.status = "open"
    _save(session, keep, merged, now)
    audit.record(session, "topic.merged", "topic", keep.id, actor=user, at=now, before=before,
                 after={"topics": [keep.id, gone.id], "posts": keep.post_count, "label": keep.label},
                 reason=f"话题 #{gone.id}「{before['gone']['label']}」并入 #{keep.id}")
    _sync_now(session, store)
    return keep


def move_posts(session, store, posts: list[Post], target: Topic | None, user: User | None,
               now: datetime | None = None) -> Topic:
    """Move `posts` out of their topics into `target`, or into a new topic when target is None
    (a split). Returns the topic that received them."""
    now = now or utcnow()
    posts = list({p.id: p for p in posts}.values())
    if not posts:
        raise TopicEditError("请选择要移动的帖子")
    # A post's reposts (its near-duplicates, folded under it on the topic page) go where it goes:
    # a split used to leave them behind, and the new topic showed 2 posts of a 30-post wave.
    chosen = {p.id for p in posts}
    posts += session.execute(select(Post).where(Post.duplicate_of_id.in_(chosen), Post.id.not_in(chosen),
                                                Post.topic_id.in_({p.topic_id for p in posts}))).scalars().all()
    if any(p.topic_id is None for p in posts):
        raise TopicEditError("所选帖子中有未归入话题的帖子")
    sources = {t.id: t for t in session.execute(select(Topic).where(
        Topic.id.in_({p.topic_id for p in posts}))).scalars()}
    for topic in sources.values():
        _check_open(topic)
    if target is not None:
        _check_open(target)
        if set(sources) == {target.id}:
            raise TopicEditError("所选帖子已在该话题中")
    else:
        first = min(p.created_at for p in posts)
        target = Topic(key=f"edit-{uuid.uuid4().hex[:12]}", status="open", first_seen_at=first,
                       last_seen_at=max(p.created_at for p in posts), post_count=0, negative_count=0,
                       hot_score=0.0, category=posts[0].category, unit_id=posts[0].unit_id)
        session.add(target)
        session.flush()
    incoming = TopicState(key=target.key)
    states = {tid: _state(t) for tid, t in sources.items()}
    for post in posts:
        if post.topic_id == target.id:
            continue
        duplicate = post.duplicate_of_id is not None
        doc = _doc(post)
        vec = _vector(store, post)
        sketch = F.sketch(doc)
        left = remove_contribution(states[post.topic_id], vec, 1.0, duplicate)
        # Its near-duplicate sketch goes with it, so the next repost of it follows it too.
        left.sketches = [s for s in left.sketches if s != sketch]
        states[post.topic_id] = left
        piece = TopicState(key=target.key, vsum={} if duplicate else vec, n_vectors=0 if duplicate else 1,
                           volume=1.0, n_duplicates=int(duplicate), first_seen=post.created_at,
                           last_seen=post.created_at, sketches=[sketch] if sketch else [])
        if doc.headline.strip():
            piece.headlines[doc.headline.strip()] += 1
        for h in doc.hashtags:
            piece.hashtags[h.strip()] += 1
        incoming = merge_states(incoming, piece, key=target.key)
        post.topic_id = target.id
    received = merge_states(_state(target), incoming, key=target.key)
    # A monitor has drawn this line: upkeep must not merge either side back automatically.
    received.curated = True
    _save(session, target, received, now)
    for tid, topic in sources.items():
        if tid != target.id:
            states[tid].curated = True
            _save(session, topic, states[tid], now)
    action = "topic.posts_moved" if target.post_count != len(posts) else "topic.split"
    audit.record(session, action, "topic", target.id, actor=user, at=now,
                 before={"from": sorted(sources)},
                 after={"topics": sorted({*sources, target.id}), "posts": [p.id for p in posts]},
                 reason=f"{len(posts)} 条帖子移入话题 #{target.id}")
    _sync_now(session, store)
    return target


def split_topic(session, store, posts: list[Post], user: User | None, now: datetime | None = None) -> Topic:
    """Split `posts` off into a new topic of their own."""
    return move_posts(session, store, posts, None, user, now)


def rename_topic(session, topic: Topic, label: str, user: User | None, now: datetime | None = None) -> Topic:
    """Give a topic a monitor's name; clustering never relabels it afterwards."""
    label = (label or "").strip()
    if not label or len(label) > 200:
        raise TopicEditError("话题名称不能为空，且不超过 200 字")
    _check_open(topic)
    before = topic.label
    topic.label, topic.label_locked = label, True
    state = _state(topic)
    state.custom_label = label
    topic.state = export_state(state)
    audit.record(session, "topic.renamed", "topic", topic.id, actor=user, at=now or utcnow(),
                 before={"label": before}, after={"label": label, "topics": [topic.id]})
    return topic


def _sync_now(session, store) -> None:
    if store is not None:
        session.flush()
        sync_edits(session, store)


def sync_edits(session, store) -> int:
    """Replay the topic edits made since this store last looked (in any process) on its clusterer:
    edited topics are reloaded from their saved state, merged ones forgotten. Returns how many."""
    clusterer = store.clusterer
    events = session.execute(select(AuditEvent).where(AuditEvent.action.in_(EDIT_ACTIONS),
                                                      AuditEvent.id > store.edits_seen)
                             .order_by(AuditEvent.id)).scalars().all()
    if not events:
        return 0
    ids = {i for e in events for i in (e.after or {}).get("topics", [e.object_id])}
    for topic in session.execute(select(Topic).where(Topic.id.in_(ids))).scalars():
        key = store.cluster_key(topic.key)
        if topic.status == "merged":
            forget(clusterer, key)
        elif topic.state:
            clusterer.load_topic(key, topic.state)
    store.edits_seen = events[-1].id
    return len(events)


def forget(clusterer, key: str) -> None:
    """Drop a topic from the clusterer without keeping it as dormant (it was merged away)."""
    state = clusterer.topics.pop(key, None)
    if state is not None:
        for term in state.vsum:
            clusterer._unindex(term, key)
    if clusterer.dense is not None:
        clusterer.dense.drop(key)


def merge_converged(session, store, now: datetime | None = None) -> list[tuple[int, int]]:
    """The periodic upkeep (#6): topics whose centroids converged are merged, in the clusterer and
    in the database, as if a monitor had merged them (audited, actor 'system'). A topic a monitor
    renamed keeps its name even when it is the smaller one. Returns (kept id, merged id) pairs,
    for the case stage to move their cases."""
    now = now or utcnow()
    clusterer = store.clusterer
    pairs = clusterer.maintenance(now)
    if not pairs:
        return []
    done = []
    keys = {k for pair in pairs for k in pair}
    rows = {t.key: t for t in session.execute(select(Topic).where(Topic.key.in_(
        {store.db_key(k, set()) for k in keys} | keys))).scalars()}
    for big, small in pairs:
        keep = rows.get(big) or rows.get(store.db_key(big, set()))
        gone = rows.get(small) or rows.get(store.db_key(small, set()))
        if keep is None or gone is None or keep.status != "open" or gone.status != "open":
            continue  # a topic not yet stored (its batch is in flight) merges on a later pass
        if gone.label_locked and not keep.label_locked:
            keep.label, keep.label_locked = gone.label, True
        merge_topics(session, store, keep, gone, None, now)
        done.append((keep.id, gone.id))
    return done


RELATED_CANDIDATES = 200       # the hottest recent topics are compared, so a page's cost is bounded
RELATED_MIN_SIMILARITY = 0.1   # below the upkeep job's automatic merge (0.2), above chance overlap
DENSE_WEIGHT = DENSE_SETTINGS["e5"]["dense_weight"]   # as the clusterer weighs vectors against words


def related_topics(session, topic: Topic, since: datetime, limit: int = 5) -> list[tuple[Topic, float]]:
    """Open topics whose centroids are near this one's, most similar first: the fragments of one
    matter that clustering kept apart (short comments share few words) and that the upkeep job is
    not sure enough to merge, for a monitor to fold together. Nothing changes until they do.

    Where the topics carry sentence vectors (the clusterer's, opinion/topics/dense.py), nearness is
    the clusterer's own: word cosine and centred vector cosine combined, so fragments that say the
    same in other words are found too. The centre is the mean of the topics compared."""
    mine = (topic.state or {}).get("vsum") or {}
    norm = math.sqrt(sum(v * v for v in mine.values()))
    my_dense = dense_from_dict((topic.state or {}).get("dense"))
    if not norm and my_dense is None:
        return []
    candidates = list(session.execute(select(Topic).where(
        Topic.status == "open", Topic.id != topic.id, Topic.last_seen_at >= since)
        .order_by(Topic.hot_score.desc(), Topic.id).limit(RELATED_CANDIDATES)).scalars())
    dense_sims = _dense_similarities(my_dense, [dense_from_dict((o.state or {}).get("dense")) for o in candidates])
    scored = []
    for other, dsim in zip(candidates, dense_sims):
        theirs = (other.state or {}).get("vsum") or {}
        small, large = (mine, theirs) if len(mine) <= len(theirs) else (theirs, mine)
        dot = sum(v * large.get(t, 0.0) for t, v in small.items())
        their_norm = math.sqrt(sum(v * v for v in theirs.values()))
        similarity = dot / (norm * their_norm) if dot > 0 and norm and their_norm else 0.0
        if dsim is not None:
            similarity = (similarity + DENSE_WEIGHT * dsim) / (1 + DENSE_WEIGHT)
        if similarity >= RELATED_MIN_SIMILARITY:
            scored.append((other, similarity))
    scored.sort(key=lambda pair: (-pair[1], pair[0].id))
    return scored[:limit]


def _dense_similarities(mine, theirs: list) -> list[float | None]:
    """Centred cosine of my mean vector to each of theirs (None where either has none)."""
    if mine is None:
        return [None] * len(theirs)
    means = {i: d[0] / d[1] for i, d in enumerate(theirs)
             if d is not None and d[1] > 0 and d[0].shape == mine[0].shape}
    if not means or mine[1] <= 0:
        return [None] * len(theirs)
    own = mine[0] / mine[1]
    centre = np.mean([own, *means.values()], axis=0)
    q = own - centre
    out: list[float | None] = [None] * len(theirs)
    for i, m in means.items():
        c = m - centre
        d = float(np.linalg.norm(q) * np.linalg.norm(c))
        out[i] = float(q @ c) / d if d > 0 else 0.0
    return out


def close_quiet_topics(session, dormant_after, now: datetime | None = None) -> int:
    """Topics with no post for `dormant_after` leave the hot list (status 'dormant'); a new post
    on one opens it again (opinion.topics.store). Returns how many went quiet."""
    now = now or utcnow()
    result = session.execute(update(Topic).where(Topic.status == "open",
                                                 Topic.last_seen_at < now - dormant_after)
                             .values(status="dormant"))
    return result.rowcount or 0
