"""The figures a report shows, computed from the records for one period.

Every renderer (HTML, Word, PDF) and the leader dashboard draw from the dict built here, and the
headline counts come from opinion.stats.period_stats, so a report never disagrees with
`stats --json` for the same period.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy import case as when

from opinion.interviews.figures import period_interviews
from opinion.labels import CASE_STATUS_NAMES, EMOTION_NAMES, POLARITY_NAMES
from opinion.matrix.figures import period_matrix
from opinion.models import OPEN_CASE_STATUSES, Alert, AuditEvent, Case, Post, Reply, Topic, Unit, utcnow
from opinion.reports.performance import unit_performance
from opinion.reports.periods import Period
from opinion.reports.stats import period_stats
from opinion.settings.district import District

TOP_TOPICS = 10


def share(part: int | float, whole: int | float) -> float | None:
    return (part / whole) if whole else None


def change(now: int, before: int) -> float | None:
    """Relative change against the previous period; None when there was nothing before."""
    return ((now - before) / before) if before else None


def period_figures(session, district: District, period: Period, now: datetime | None = None) -> dict:
    """Everything the daily brief and the weekly summary show for `period`.

    `now` is when the report is made: cases "still open past deadline" are counted at that time.
    """
    now = now or utcnow()
    previous = period.previous()
    totals = period_stats(session, period.start, period.end)
    before = period_stats(session, previous.start, previous.end)
    negative = totals["posts"]["by_polarity"].get("negative", 0)
    negative_before = before["posts"]["by_polarity"].get("negative", 0)
    figures = {
        "period": period, "previous": previous, "generated_at": now,
        "district": district.name, "issuer": _issuer(session, district),
        "totals": totals, "before": before,
        "negative": negative, "negative_share": share(negative, totals["posts"]["total"]),
        "negative_share_before": share(negative_before, before["posts"]["total"]),
        "volume_change": change(totals["posts"]["total"], before["posts"]["total"]),
        # A day alone is one bar: the daily brief shows the week that ends with it instead.
        "trend": daily_trend(session, _trend_window(period), district.timezone),
        "trend_before": (daily_trend(session, previous, district.timezone)
                         if period.kind != "day" else None),
        "emotions": period_emotions(session, period),
        "topics": top_topics(session, period),
        "alerts": period_alerts(session, period),
        "escalations": period_escalations(session, period),
        "units": unit_table(session, district, period, now),
        "overdue": overdue_cases(session, now),
        # the weekly summary's 政务微博矩阵 section (the daily brief has none)
        "matrix": (period_matrix(session, period.start, period.end, now, district.timezone,
                                 district.matrix_silent_days, district.matrix_no_reply_days)
                   if period.kind == "week" else []),
        # and its 在线访谈 section: the interviews started in the week
        "interviews": period_interviews(session, period.start, period.end) if period.kind == "week" else [],
    }
    figures["narrative"] = narrative(figures)
    return figures


def _issuer(session, district: District) -> str:
    centre = session.execute(select(Unit.name).where(Unit.code == district.monitoring_centre)).scalar()
    return centre or district.name


def daily_trend(session, period: Period, tz: str) -> list[dict]:
    """Posts per local day of the period, split by polarity, with the mean sentiment."""
    zone = ZoneInfo(tz)
    days = {d: {"day": d, "total": 0, "negative": 0, "neutral": 0, "positive": 0, "sentiment": []}
            for d in period.days}
    rows = session.execute(select(Post.created_at, Post.polarity, Post.sentiment).where(
        Post.created_at >= period.start, Post.created_at < period.end))
    for created, polarity, sentiment in rows:
        day = days.get(created.astimezone(zone).date())
        if day is None:
            continue
        day["total"] += 1
        if polarity in POLARITY_NAMES:
            day[polarity] += 1
        if sentiment is not None:
            day["sentiment"].append(sentiment)
    for day in days.values():
        values = day.pop("sentiment")
        day["mean_sentiment"] = sum(values) / len(values) if values else None
    return list(days.values())


def _trend_window(period: Period) -> Period:
    if period.kind != "day":
        return period
    return Period("range", period.label, period.end - timedelta(days=7), period.end)


def period_emotions(session, period: Period) -> dict[str, int]:
    rows = session.execute(select(Post.emotion, func.count()).where(
        Post.created_at >= period.start, Post.created_at < period.end, Post.emotion.is_not(None))
        .group_by(Post.emotion))
    return {emotion: n for emotion, n in rows}


def top_topics(session, period: Period, limit: int = TOP_TOPICS) -> list[dict]:
    """The period's biggest topics by posts in the period: negativity, emotion mix, who answers,
    what was done and the most-shared post."""
    in_period = and_(Post.created_at >= period.start, Post.created_at < period.end)
    negative = func.sum(func.coalesce(_is(Post.polarity == "negative"), 0))
    rows = session.execute(
        select(Post.topic_id, func.count(), negative).where(in_period, Post.topic_id.is_not(None))
        .group_by(Post.topic_id).order_by(func.count().desc(), Post.topic_id).limit(limit)).all()
    ids = [r[0] for r in rows]
    if not ids:
        return []
    topics = {t.id: t for t in session.execute(select(Topic).where(Topic.id.in_(ids))).scalars()}
    emotions: dict[int, Counter] = defaultdict(Counter)
    for topic_id, emotion, n in session.execute(
            select(Post.topic_id, Post.emotion, func.count()).where(in_period, Post.topic_id.in_(ids),
                                                                   Post.emotion.is_not(None))
            .group_by(Post.topic_id, Post.emotion)):
        emotions[topic_id][emotion] = n
    cases_by_topic: dict[int, list[Case]] = defaultdict(list)
    for case in session.execute(select(Case).where(Case.topic_id.in_(ids)).order_by(Case.id)).scalars():
        cases_by_topic[case.topic_id].append(case)
    result = []
    for topic_id, n, neg in rows:
        topic = topics[topic_id]
        cases = cases_by_topic[topic_id]
        unit = cases[0].unit.name if cases else (topic.unit.name if topic.unit else "待研判")
        result.append({
            "id": topic_id, "label": topic.label or "未命名话题", "posts": n, "negative": int(neg or 0),
            "negative_share": share(int(neg or 0), n), "keywords": (topic.keywords or [])[:5],
            "emotions": dict(emotions[topic_id].most_common()),
            "top_emotion": emotions[topic_id].most_common(1)[0][0] if emotions[topic_id] else None,
            "unit": unit, "cases": [case_summary(c) for c in cases],
            "action": describe_actions(cases),
            "representative": representative_post(session, topic_id, in_period),
        })
    return result


def _is(condition):
    return when((condition, 1), else_=0)


REPRESENTATIVE_CANDIDATES = 30
_REPOST_CHAIN = re.compile(r"//\s*@|^\s*(转发微博|轉發微博|repost)", re.IGNORECASE)


def substantive(text: str) -> bool:
    """An original post that says something: not a repost chain ("顶！//@网友87175:顶！"), not a
    cheer or a few characters, not one character over and over."""
    text = (text or "").strip()
    if _REPOST_CHAIN.search(text):
        return False
    han = re.findall(r"[\u4e00-\u9fff]", text)
    return len(han) >= 12 and len(set(han)) >= 8


def representative_post(session, topic_id: int, where) -> dict | None:
    """The most shared and discussed original, substantive post of the topic in the period (the
    earliest on a tie); a leader reads it as what people said, so repost chains and cheers are
    passed over (the most substantive post stands in when every one is such)."""
    reach = Post.reposts + Post.comments + Post.likes
    posts = session.execute(select(Post).where(where, Post.topic_id == topic_id, Post.duplicate_of_id.is_(None))
                            .order_by(reach.desc(), Post.created_at, Post.id)
                            .limit(REPRESENTATIVE_CANDIDATES)).scalars().all()
    if not posts:
        return None
    post = next((p for p in posts if substantive(p.text or p.raw_text)), None)
    if post is None:
        post = max(posts, key=lambda p: len(set(p.text or p.raw_text or "")))
    return post_summary(post)


def post_summary(post: Post) -> dict:
    text = post.text or post.raw_text or ""
    return {"id": post.id, "author": post.author or "匿名", "text": text[:140] + ("…" if len(text) > 140 else ""),
            "created_at": post.created_at, "url": post.url, "reposts": post.reposts,
            "comments": post.comments, "likes": post.likes, "polarity": post.polarity,
            "emotion": post.emotion, "sentiment": post.sentiment}


def case_summary(case: Case) -> dict:
    replies = _published(case)
    return {"id": case.id, "title": case.title, "unit": case.unit.name, "status": case.status,
            "priority": case.priority, "level": case.escalation_level, "created_at": case.created_at,
            "first_response_at": case.first_response_at, "resolved_at": case.resolved_at,
            "replies": len(replies), "first_reply": replies[0].text[:120] if replies else None}


def _published(case: Case) -> list[Reply]:
    return [r for r in case.replies if getattr(r, "status", "published") == "published"]


def describe_actions(cases: list[Case]) -> str:
    """One line on what the responsible units did, e.g. “区教育局已回应 1 次，已办结”."""
    if not cases:
        return "未立案（未达到立案条件或待监测中心研判）"
    parts = []
    for case in cases:
        replies = len(_published(case))
        did = f"已回应 {replies} 次" if replies else "尚未公开回应"
        parts.append(f"{case.unit.name}{did}，{CASE_STATUS_NAMES.get(case.status, case.status)}")
    return "；".join(parts)


def period_alerts(session, period: Period, limit: int = 15) -> list[dict]:
    rows = session.execute(select(Alert).where(Alert.created_at >= period.start,
                                               Alert.created_at < period.end)
                           .order_by(Alert.created_at.desc(), Alert.id.desc()).limit(limit)).scalars()
    return [{"id": a.id, "kind": a.kind, "severity": a.severity, "message": a.message,
             "created_at": a.created_at, "case_id": a.case_id} for a in rows]


def period_escalations(session, period: Period) -> list[dict]:
    """Ladder steps of levels 2-5 taken in the period (level 1 reminders are too many to list)."""
    rows = session.execute(
        select(AuditEvent, Case).join(Case, Case.id == AuditEvent.object_id)
        .where(AuditEvent.action == "case.escalated", AuditEvent.object_type == "case",
               AuditEvent.at >= period.start, AuditEvent.at < period.end)
        .order_by(AuditEvent.at, AuditEvent.id)).all()
    return [{"case_id": case.id, "title": case.title, "unit": case.unit.name,
             "level": (event.after or {}).get("level"), "at": event.at, "reason": event.reason}
            for event, case in rows]


def overdue_cases(session, now: datetime) -> list[dict]:
    """Open cases with a deadline already missed at `now`, the highest ladder level first."""
    late = or_(and_(Case.acknowledged_at.is_(None), Case.acknowledge_due_at <= now),
               and_(Case.first_response_at.is_(None), Case.respond_due_at <= now),
               and_(Case.resolved_at.is_(None), Case.resolve_due_at <= now))
    rows = session.execute(select(Case).where(Case.status.in_(OPEN_CASE_STATUSES), late)
                           .order_by(Case.escalation_level.desc(), Case.resolve_due_at, Case.id)).scalars()
    result = []
    for case in rows:
        clocks = (("签收", case.acknowledge_due_at, case.acknowledged_at),
                  ("回应", case.respond_due_at, case.first_response_at),
                  ("办结", case.resolve_due_at, case.resolved_at))
        missed = [(name, due) for name, due, done in clocks if done is None and due <= now]
        result.append({"id": case.id, "title": case.title, "unit": case.unit.name,
                       "priority": case.priority, "level": case.escalation_level,
                       "missed": "、".join(name for name, _ in missed),
                       "overdue_hours": (now - min(due for _, due in missed)).total_seconds() / 3600})
    return result


def unit_table(session, district: District, period: Period, now: datetime) -> list[dict]:
    """The unit performance table (opinion.reports.performance computes each row), worst first."""
    return sort_worst_first(unit_performance(session, district, period.start, period.end, now=now))


def sort_worst_first(rows: list[dict]) -> list[dict]:
    """Lowest score first; units with nothing to score (all transferred away) last."""
    return sorted(rows, key=lambda r: (r["score"] is None, r["score"] or 0, -r["overdue"],
                                       -r["accepted"], r["unit"]))


def narrative(f: dict) -> str:
    """A short paragraph assembled from the figures, in the register of a government report."""
    t, p = f["totals"], f["period"]
    n = len(p.days)
    noun, last = {"day": ("当日", "前一日"), "week": ("本周", "上周"), "month": ("本月", "上月"),
                  "quarter": ("本季度", "上季度")}.get(p.kind, (f"近{n}日", f"此前{n}日"))
    posts = t["posts"]["total"]
    text = [f"{noun}（{p.describe()}）共监测到涉{f['district']}网络信息 {posts} 条"]
    if f["volume_change"] is not None:
        direction = "增加" if f["volume_change"] >= 0 else "减少"
        text[-1] += f"，较{last}{direction} {abs(f['volume_change']):.0%}"
    text[-1] += "。"
    if posts:
        text.append(f"其中负面信息 {f['negative']} 条，占 {f['negative_share']:.0%}")
        if f["negative_share_before"] is not None:
            delta = (f["negative_share"] - f["negative_share_before"]) * 100
            text[-1] += (f"，较{last}{'上升' if delta >= 0 else '下降'} {abs(delta):.1f} 个百分点")
        text[-1] += "。"
    if f["topics"]:
        top = f["topics"][0]
        emotion = EMOTION_NAMES.get(top["top_emotion"], "")
        text.append(f"热度最高的话题是“{top['label']}”（{top['posts']} 条，负面占 "
                    f"{top['negative_share']:.0%}{'，以' + emotion + '情绪为主' if emotion else ''}），"
                    f"由{top['unit']}负责处置。")
    c = t["cases"]
    text.append(f"{noun}新增工单 {c['opened']} 件，首次回应 {c['responded']} 件，办结 {c['resolved']} 件；"
                f"升级督办 {t['escalations']['total']} 次，其中专报批办 {t['escalations']['by_level']['5']} 次；"
                f"预警 {t['alerts']['total']} 条。")
    if f["overdue"]:
        units = Counter(o["unit"] for o in f["overdue"]).most_common(3)
        names = "、".join(name for name, _ in units)
        text.append(f"截至报告生成时，仍有 {len(f['overdue'])} 件工单超过时限未办结，主要涉及{names}，"
                    "请相关单位抓紧办理并及时回应网民关切。")
    else:
        text.append("截至报告生成时，无超期未办结工单。")
    weak = [u for u in f["units"] if u.get("grade") == "D"]
    if weak:
        text.append(f"{'、'.join(u['unit_name'] for u in weak[:3])}等 {len(weak)} 个单位本期回应绩效评为 D 级，建议予以督促。")
    return "".join(text)
