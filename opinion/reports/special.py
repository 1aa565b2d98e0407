"""The special report (舆情专报) on one case or one topic: what happened, in order, what was done,
what is still open, and room for the leader's instruction (批示).

It is made on demand and, by the scheduler, for every case the ladder has taken to level 5 (专报批办).
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from opinion.errors import ReportError
from opinion.labels import ACTION_NAMES, LEVEL_NAMES
from opinion.matrix import rumours
from opinion.models import (
    OPEN_CASE_STATUSES,
    Alert,
    AuditEvent,
    Case,
    Instruction,
    Post,
    SpecialReportNote,
    Topic,
    Unit,
    utcnow,
)
from opinion.reports.figures import case_summary, post_summary, share
from opinion.settings.district import District

TOP_POSTS = 12


def special_figures(session, district: District, *, case_id: int | None = None,
                    topic_id: int | None = None, now: datetime | None = None) -> dict:
    """Figures for the special report on case `case_id` or topic `topic_id` (exactly one)."""
    now = now or utcnow()
    if (case_id is None) == (topic_id is None):
        raise ReportError("专报须指定一个工单（--case）或一个话题（--topic）")
    if case_id is not None:
        case = session.get(Case, case_id)
        if case is None:
            raise ReportError(f"工单 #{case_id} 不存在")
        topic = case.topic
        cases = [case]
    else:
        topic = session.get(Topic, topic_id)
        if topic is None:
            raise ReportError(f"话题 #{topic_id} 不存在")
        cases = session.execute(select(Case).where(Case.topic_id == topic.id).order_by(Case.id)).scalars().all()
    zone = ZoneInfo(district.timezone)
    posts = (session.execute(select(Post).where(Post.topic_id == topic.id).order_by(Post.created_at, Post.id))
             .scalars().all() if topic else [])
    polarity = Counter(p.polarity for p in posts if p.polarity)
    centre = session.execute(select(Unit.name).where(Unit.code == district.monitoring_centre)).scalar()
    reach = lambda p: (p.reposts or 0) + (p.comments or 0) + (p.likes or 0)  # noqa: E731
    note = session.execute(select(SpecialReportNote).where(SpecialReportNote.key == (
        f"case-{case_id}" if case_id is not None else f"topic-{topic_id}"))).scalar_one_or_none()
    return {
        "subject": "case" if case_id is not None else "topic",
        # the analyst's words (opinion.models.SpecialReportNote), empty until written
        "assessment": note.assessment if note else "", "recommendation": note.recommendation if note else "",
        "title": (cases[0].title if case_id is not None else topic.label) or "未命名话题",
        "topic": topic, "cases": [case_summary(c) for c in cases],
        "case_ids": [c.id for c in cases], "district": district.name, "issuer": centre or district.name,
        "generated_at": now,
        "posts_total": len(posts), "negative": polarity.get("negative", 0),
        "negative_share": share(polarity.get("negative", 0), len(posts)),
        "polarity": dict(polarity),
        "emotions": dict(Counter(p.emotion for p in posts if p.emotion).most_common()),
        "first_post_at": posts[0].created_at if posts else None,
        "last_post_at": posts[-1].created_at if posts else None,
        "posts": [post_summary(p) for p in sorted(posts, key=lambda p: (-reach(p), p.created_at))[:TOP_POSTS]],
        "buckets": sentiment_buckets(posts, zone),
        "timeline": timeline(session, cases, topic, posts, zone),
        "actions": [{"unit": c.unit.name, "at": r.created_at, "text": r.text, "channel": r.channel}
                    for c in cases for r in c.replies if getattr(r, "status", "published") == "published"],
        "questions": open_questions(cases, posts, now, zone),
        "instructions": instructions(session, [c.id for c in cases]),
        **refutation(session, topic, now),
    }


def sentiment_buckets(posts: list[Post], zone: ZoneInfo) -> list[dict]:
    """Posts per hour when the story spans two days or less, per day otherwise."""
    if not posts:
        return []
    first, last = posts[0].created_at.astimezone(zone), posts[-1].created_at.astimezone(zone)
    hourly = last - first <= timedelta(hours=48)
    step = timedelta(hours=1) if hourly else timedelta(days=1)
    start = first.replace(minute=0, second=0, microsecond=0)
    if not hourly:
        start = start.replace(hour=0)
    buckets: list[dict] = []
    cursor = start
    while cursor <= last:
        if hourly:  # the day only where it changes, so the axis stays readable
            label = f"{cursor.day}日{cursor.hour}时" if not buckets or cursor.hour == 0 else f"{cursor.hour}时"
        else:
            label = f"{cursor.month}/{cursor.day}"
        buckets.append({"start": cursor, "label": label, "total": 0, "negative": 0})
        cursor += step
    for post in posts:
        index = int((post.created_at.astimezone(zone) - start) / step)
        buckets[index]["total"] += 1
        buckets[index]["negative"] += post.polarity == "negative"
    return buckets


def timeline(session, cases: list[Case], topic: Topic | None, posts: list[Post], zone) -> list[dict]:
    """The story in order: first post, the peak, every action on the cases and every alert."""
    events = []
    if posts:
        events.append({"at": posts[0].created_at, "what": "首条相关信息",
                       "detail": f"{posts[0].author or '网民'}：{(posts[0].text or posts[0].raw_text)[:60]}"})
        per_day = Counter(p.created_at.astimezone(zone).date() for p in posts)
        peak_day, n = per_day.most_common(1)[0]
        peak_at = next(p.created_at for p in posts if p.created_at.astimezone(zone).date() == peak_day)
        events.append({"at": peak_at, "what": "传播高峰", "detail": f"{peak_day:%m月%d日} 当日 {n} 条"})
    ids = [c.id for c in cases]
    if ids:
        for event in session.execute(select(AuditEvent).where(
                AuditEvent.object_type == "case", AuditEvent.object_id.in_(ids),
                AuditEvent.action != "case.reminded").order_by(AuditEvent.at, AuditEvent.id)).scalars():
            what = ACTION_NAMES.get(event.action, event.action)
            if event.action == "case.escalated":
                what = LEVEL_NAMES.get((event.after or {}).get("level"), what)
            events.append({"at": event.at, "what": f"#{event.object_id} {what}",
                           "detail": event.reason or _actor(event)})
    alerts = select(Alert).where(Alert.kind != "escalation")
    alerts = alerts.where(Alert.topic_id == topic.id) if topic else alerts.where(Alert.case_id.in_(ids or [-1]))
    for alert in session.execute(alerts.order_by(Alert.created_at)).scalars():
        events.append({"at": alert.created_at, "what": "预警", "detail": alert.message})
    return sorted(events, key=lambda e: e["at"])


def _actor(event: AuditEvent) -> str:
    return "系统" if event.actor == "system" else event.actor


def open_questions(cases: list[Case], posts: list[Post], now: datetime, zone: ZoneInfo) -> list[str]:
    """What a leader should know is not settled yet, worded from the records."""
    questions = []
    if not cases:
        questions.append("尚未确定责任单位、未立案，需监测中心研判。")
    for case in cases:
        if not case.is_open:
            continue
        for name, due, done in (("签收", case.acknowledge_due_at, case.acknowledged_at),
                                ("首次回应", case.respond_due_at, case.first_response_at),
                                ("办结", case.resolve_due_at, case.resolved_at)):
            if done is None:
                late = "已超时" if due <= now else "时限"
                questions.append(f"工单 #{case.id}（{case.unit.name}）尚未{name}，{late} "
                                 f"{due.astimezone(zone):%m-%d %H:%M}。")
                break
    replied = [c.first_response_at for c in cases if c.first_response_at]
    if replied and posts:
        after = [p for p in posts if p.created_at > max(replied)]
        negative = sum(p.polarity == "negative" for p in after)
        if negative:
            questions.append(f"最近一次回应后仍有 {len(after)} 条相关信息，其中负面 {negative} 条，网民关切尚未完全消除。")
    elif posts and not replied:
        questions.append("尚无公开回应，网民关切未得到答复。")
    return questions


def instructions(session, case_ids: list[int]) -> list[dict]:
    if not case_ids:
        return []
    rows = session.execute(select(Instruction).where(Instruction.case_id.in_(case_ids))
                           .order_by(Instruction.at)).scalars()
    return [{"case_id": i.case_id, "text": i.text, "at": i.at,
             "author": i.author.name if i.author else "领导"} for i in rows]


def cases_awaiting_instruction(session) -> list[Case]:
    """Open cases at level 5 (专报批办) that no leader has written an instruction on yet.

    A case merged into another, resolved or closed needs no instruction any more."""
    has = select(func.count(Instruction.id)).where(Instruction.case_id == Case.id).scalar_subquery()
    return session.execute(select(Case).where(Case.escalation_level >= 5, has == 0,
                                              Case.status.in_(OPEN_CASE_STATUSES))
                           .order_by(Case.resolve_due_at, Case.id)).scalars().all()


def refutation(session, topic: Topic | None, now: datetime) -> dict:
    """The topic's refutation (辟谣) and its posts before and after it, when it has one."""
    check = rumours.refuted_check(session, topic.id) if topic else None
    return {"rumour": check, "refutation": rumours.refutation_text(session, check) if check else None,
            "rumour_figures": rumours.before_after(session, topic.id, check.refutation_at, now) if check else None}
