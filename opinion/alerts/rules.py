"""The six alert rules, each a query that returns the conditions holding now as Findings.

A Finding's `key` is the identity of its condition (rule + topic, author, source or case): the
engine raises one alert per key and clears it when the key stops being found. Post rules look at
the posts of one ingest batch (so an alert follows its post within seconds); the others look at
the whole district on the scheduler's tick.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from opinion.ingest.schedule import expected_period
from opinion.labels import CLOCK_NAMES
from opinion.models import OPEN_CASE_STATUSES, Case, Post, Source, Topic
from opinion.nlp.fold import to_simplified
from opinion.settings.alerts import VULNERABLE_WORDS
from opinion.settings.district import District
from opinion.topics.hot import burst

MAX_POST_LINKS = 50  # an alert keeps the first posts of a wave, enough to read, bounded for storage


@dataclass
class Finding:
    rule: str
    key: str
    severity: str
    message: str
    post_ids: list[int] = field(default_factory=list)
    topic_id: int | None = None
    case_id: int | None = None
    source_id: int | None = None
    details: dict = field(default_factory=dict)


def _span(delta) -> str:
    minutes = delta.total_seconds() / 60
    if minutes >= 48 * 60:
        return f"{round(minutes / 1440, 1):g} 天"
    return f"{round(minutes / 60, 1):g} 小时" if minutes >= 60 else f"{round(minutes):g} 分钟"


def _times_usual(count: int, expected: float) -> str:
    """The comparison in words a leader reads ("是平时的 6 倍"), not a test statistic; the p-value
    stays in the alert's details for whoever audits the rule."""
    if expected < 0.5:
        return "平时几乎没有相关信息"
    ratio = count / expected
    if ratio >= 2:
        return f"是平时的 {ratio:.0f} 倍（平时约 {expected:.0f} 条）"
    return f"比平时多 {ratio - 1:.0%}（平时约 {expected:.0f} 条）"


def _snippet(text: str, n: int = 40) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[:n] + "…"


def _topic_name(topic: Topic | None) -> str:
    return f"话题「{topic.label or f'#{topic.id}'}」" if topic else "未归入话题的帖子"


def safety_words_in(district: District, text: str) -> list[str]:
    """The safety and incident words (opinion.settings.alerts.SAFETY_WORDS or the district's own
    list) the text contains, in simplified characters."""
    folded = to_simplified(text or "")
    return [w for w in district.alerts.rule("sensitive_word")["safety_words"] if w and w in folded]


def sensitive_word(district: District, posts: list[Post], now: datetime) -> list[Finding]:
    """A post containing a sensitive word; one alert per topic and word while posts keep coming.

    A post speaking of harm to people (毒跑道, 流鼻血, 中毒, 火灾 …) is an incident: one critical alert
    per topic, whatever sensitive words it also has, ranked above every paperwork alert."""
    rule = district.alerts.rule("sensitive_word")
    words = rule["words"] if rule["words"] is not None else district.sensitive_words
    found: dict[str, Finding] = {}
    for post in posts:
        if post.created_at < now - rule["window"]:
            continue  # an import of old posts is history, not an alarm
        text = post.text or post.raw_text
        folded = to_simplified(text)  # 暴力執法 is 暴力执法: the word lists are simplified
        scope = f"topic:{post.topic_id}" if post.topic_id else f"post:{post.id}"
        safety = safety_words_in(district, text) if district.alerts.enabled("sensitive_word") else []
        matched = [w for w in words if w and w in folded]
        if safety:
            who = [w for w in VULNERABLE_WORDS if w in folded]
            key = f"sensitive_word:{scope}:safety"
            if key not in found:
                found[key] = Finding(
                    "sensitive_word", key, "critical",
                    f"{_topic_name(post.topic)}出现安全事件用语“{'、'.join(safety)}”"
                    f"{'（涉及' + '、'.join(who) + '）' if who else ''}：{_snippet(text)}",
                    topic_id=post.topic_id, details={"word": safety[0], "safety_words": safety, "incident": True,
                                                     "last_post_at": post.created_at.isoformat()})
            matched = [key]
        else:
            matched = [f"sensitive_word:{scope}:{w}" for w in matched]
        for key in matched:
            if key not in found:
                word = key.rsplit(":", 1)[1]
                critical = word in rule["critical_words"]
                found[key] = Finding(
                    "sensitive_word", key, "critical" if critical else rule["severity"],
                    f"{_topic_name(post.topic)}出现敏感词“{word}”：{_snippet(text)}",
                    topic_id=post.topic_id, details={"word": word, "last_post_at": post.created_at.isoformat()})
            f = found[key]
            f.post_ids.append(post.id)
            f.details["last_post_at"] = max(f.details["last_post_at"], post.created_at.isoformat())
    return list(found.values())


def influential_negative(district: District, posts: list[Post], now: datetime) -> list[Finding]:
    """A widely followed author posting negatively; one alert per author and topic."""
    rule = district.alerts.rule("influential_negative")
    threshold = rule["min_followers"] or district.influential_followers
    found: dict[str, Finding] = {}
    for post in posts:
        if (post.polarity != "negative" or (post.author_followers or 0) < threshold
                or post.created_at < now - rule["window"]):
            continue
        author = post.author or f"来源{post.source_id}用户"
        key = f"influential_negative:{author}:topic:{post.topic_id or f'post{post.id}'}"
        if key not in found:
            found[key] = Finding(
                "influential_negative", key, rule["severity"],
                f"高影响力作者 {author}（粉丝 {post.author_followers:,}）发布负面内容，"
                f"{_topic_name(post.topic)}：{_snippet(post.text or post.raw_text)}",
                topic_id=post.topic_id,
                details={"author": author, "followers": post.author_followers,
                         "last_post_at": post.created_at.isoformat()})
        f = found[key]
        f.post_ids.append(post.id)
        f.details["last_post_at"] = max(f.details["last_post_at"], post.created_at.isoformat())
    return list(found.values())


def topic_rules(session, district: District, topic_ids: set[int], now: datetime) -> list[Finding]:
    """Negative surge and volume burst on the given topics, against each topic's own recent past.

    Windows count back from `now`: bucket 0 is the last `window`, the `baseline` before it gives
    the expected rate, and hot.burst's Poisson test decides (at least min_count posts as well)."""
    if not topic_ids:
        return []
    surge, vol = district.alerts.rule("negative_surge"), district.alerts.rule("volume_burst")
    # Neither rule fires below its minimum count in the current window: one grouped count leaves
    # out the many small topics before any history is read.
    window = max(surge["window"], vol["window"])
    floor = min(surge["min_negative"], vol["min_count"])
    topic_ids = {tid for tid, n in session.execute(
        select(Post.topic_id, func.count()).where(Post.topic_id.in_(topic_ids), Post.created_at > now - window,
                                                   Post.created_at <= now).group_by(Post.topic_id)).all()
                 if n >= floor}
    if not topic_ids:
        return []
    span = max(surge["window"] + surge["baseline"], vol["window"] + vol["baseline"])
    rows = session.execute(select(Post.topic_id, Post.id, Post.created_at, Post.polarity).where(
        Post.topic_id.in_(topic_ids), Post.created_at > now - span, Post.created_at <= now)).all()
    by_topic = defaultdict(list)
    for row in rows:
        by_topic[row.topic_id].append(row)
    topics = {t.id: t for t in session.execute(select(Topic).where(Topic.id.in_(list(by_topic)))).scalars()}
    findings = []
    for topic_id, posts in by_topic.items():
        topic = topics[topic_id]
        if surge["enabled"]:
            findings += _surge(topic, posts, surge, now)
        if vol["enabled"]:
            findings += _burst(topic, posts, vol, now)
    return findings


def _buckets(posts, rule: dict, now: datetime, keep=lambda p: True) -> tuple[list[int], list[int]]:
    """Per-window counts, oldest first (the last is the current window), and the current posts."""
    n = max(1, round(rule["baseline"] / rule["window"]))
    counts = [0] * (n + 1)
    current = []
    for p in posts:
        i = int((now - p.created_at) / rule["window"])
        if i <= n and keep(p):
            counts[n - i] += 1
            if i == 0:
                current.append(p.id)
    return counts, current


def _surge(topic: Topic, posts, rule: dict, now: datetime) -> list[Finding]:
    negative, ids = _buckets(posts, rule, now, lambda p: p.polarity == "negative")
    total, _ = _buckets(posts, rule, now)
    share = negative[-1] / total[-1] if total[-1] else 0.0
    test = burst(negative, alpha=rule["alpha"], min_count=rule["min_negative"])
    if not (test.is_burst and share >= rule["min_share"]):
        return []
    return [Finding("negative_surge", f"negative_surge:topic:{topic.id}", rule["severity"],
                    f"{_topic_name(topic)}负面激增：近 {_span(rule['window'])} 负面 {negative[-1]} 条"
                    f"（占 {share:.0%}），{_times_usual(negative[-1], test.expected)}",
                    post_ids=ids[:MAX_POST_LINKS], topic_id=topic.id,
                    details={"negative": negative[-1], "share": round(share, 3),
                             "expected": round(test.expected, 2), "p_value": test.p_value})]


def _burst(topic: Topic, posts, rule: dict, now: datetime) -> list[Finding]:
    counts, ids = _buckets(posts, rule, now)
    test = burst(counts, alpha=rule["alpha"], min_count=rule["min_count"])
    if not test.is_burst:
        return []
    return [Finding("volume_burst", f"volume_burst:topic:{topic.id}", rule["severity"],
                    f"{_topic_name(topic)}声量突增：近 {_span(rule['window'])} {counts[-1]} 条，"
                    f"{_times_usual(counts[-1], test.expected)}",
                    post_ids=ids[:MAX_POST_LINKS], topic_id=topic.id,
                    details={"count": counts[-1], "expected": round(test.expected, 2), "p_value": test.p_value})]


def source_silent(session, district: District, now: datetime) -> list[Finding]:
    """An enabled stream source that has brought no post (or kept failing) for its own expected
    update period where the source has one, else the rule's `silent_for`."""
    rule = district.alerts.rule("source_silent")
    last_post = dict(session.execute(select(Post.source_id, func.max(Post.collected_at))
                                     .group_by(Post.source_id)).all())
    findings = []
    for source in session.execute(select(Source).where(Source.enabled.is_(True),
                                                       Source.kind.in_(rule["kinds"]))).scalars():
        since = last_post.get(source.id) or source.created_at
        if since is None or now - since < (expected_period(source) or rule["silent_for"]):
            continue
        why = (f"采集连续失败 {source.failure_count} 次（{_snippet(source.last_error or '', 60)}）"
               if source.status == "failing" else "采集正常但没有新帖子")
        findings.append(Finding(
            "source_silent", f"source_silent:source:{source.id}", rule["severity"],
            f"数据源「{source.name}」已 {_span(now - since)} 没有新帖子：{why}", source_id=source.id,
            details={"since": since.isoformat(), "status": source.status}))
    return findings


def case_overdue(session, district: District, now: datetime) -> list[Finding]:
    """An open case past any of its deadlines: one alert per case, naming every clock missed and
    turning critical when a critical clock (by default: resolve, or any on an urgent case) is."""
    rule = district.alerts.rule("case_overdue")
    findings = []
    for case in session.execute(select(Case).where(Case.status.in_(OPEN_CASE_STATUSES))).scalars():
        missed = [(clock, due) for clock, due, done in (
            ("acknowledge", case.acknowledge_due_at, case.acknowledged_at),
            ("respond", case.respond_due_at, case.first_response_at),
            ("resolve", case.resolve_due_at, case.resolved_at)) if done is None and due <= now]
        if not missed:
            continue
        critical = any(clock in rule["critical_when"] for clock, _ in missed) or (
            case.priority == "urgent" and "urgent" in rule["critical_when"])
        findings.append(Finding(
            "case_overdue", f"case_overdue:case:{case.id}", "critical" if critical else rule["severity"],
            f"工单 #{case.id}「{case.title}」超时：" +
            "，".join(f"{CLOCK_NAMES[clock]}已超时 {_span(now - due)}" for clock, due in missed),
            case_id=case.id, topic_id=case.topic_id,
            details={"clocks": [clock for clock, _ in missed], "due": missed[0][1].isoformat()}))
    return findings
