"""Figures computed from the records: the `stats --json` counts and the leaders' weekly totals.

Nothing here is stored; every figure is a query, so pages, reports and outside checks agree.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select

from opinion.models import CASE_STATUSES, OPEN_CASE_STATUSES, Alert, AuditEvent, Case, Post, Source, Topic, Unit, utcnow
from opinion.reports.performance import unit_performance


def _grouped(session, column, *where) -> dict:
    query = select(column, func.count()).group_by(column)
    for clause in where:
        query = query.where(clause)
    return {k: n for k, n in session.execute(query).all()}


def collect_stats(session) -> dict:
    """Counts of posts, topics, cases by status and escalation level, alerts and sources."""
    count = lambda model, *w: session.execute(select(func.count()).select_from(model).where(*w)).scalar()
    case_status = {s: 0 for s in CASE_STATUSES}
    case_status.update(_grouped(session, Case.status))
    levels = {str(level): 0 for level in range(6)}
    levels.update({str(k): v for k, v in _grouped(session, Case.escalation_level).items()})
    sources = session.execute(select(Source).order_by(Source.code)).scalars().all()
    return {
        "posts": {
            "total": count(Post),
            "analysed": count(Post, Post.analyzed_at.is_not(None)),
            "analysis_failed": count(Post, Post.analysis_error.is_not(None)),
            "duplicates": count(Post, Post.duplicate_of_id.is_not(None)),
            "by_polarity": _grouped(session, Post.polarity, Post.polarity.is_not(None)),
        },
        "topics": {"total": count(Topic), "by_status": _grouped(session, Topic.status)},
        "cases": {
            "total": count(Case),
            "open": count(Case, Case.status.in_(OPEN_CASE_STATUSES)),
            "by_status": case_status,
            "by_escalation_level": levels,
            "by_priority": _grouped(session, Case.priority),
        },
        "alerts": {"total": count(Alert), "by_status": _grouped(session, Alert.status),
                   "by_severity": _grouped(session, Alert.severity)},
        "sources": {
            "total": len(sources),
            "by_status": _grouped(session, Source.status),
            "items": [{"code": s.code, "name": s.name, "kind": s.kind, "enabled": s.enabled,
                       "status": s.status, "last_error": s.last_error,
                       "last_success_at": s.last_success_at.isoformat() if s.last_success_at else None}
                      for s in sources],
        },
    }


def week_bounds(now: datetime, tz: str = "Asia/Shanghai") -> tuple[datetime, datetime]:
    """Monday 00:00 to next Monday 00:00 of the week containing `now`, in the district's zone."""
    local = now.astimezone(ZoneInfo(tz))
    start = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=7)


def week_summary(session, now: datetime | None = None, tz: str = "Asia/Shanghai") -> dict:
    """This week's volume, mood and case handling, and the same per unit."""
    now = now or utcnow()
    start, end = week_bounds(now, tz)
    prev = start - timedelta(days=7)
    in_week = and_(Post.created_at >= start, Post.created_at < end)
    posts = session.execute(select(func.count()).where(in_week)).scalar()
    negative = session.execute(select(func.count()).where(in_week, Post.polarity == "negative")).scalar()
    previous = session.execute(select(func.count()).where(Post.created_at >= prev,
                                                          Post.created_at < start)).scalar()
    opened = and_(Case.created_at >= start, Case.created_at < end)
    responded_on_time = and_(Case.first_response_at.is_not(None),
                             Case.first_response_at <= Case.respond_due_at)
    overdue = or_(and_(Case.first_response_at.is_(None), Case.respond_due_at < now),
                  and_(Case.first_response_at > Case.respond_due_at))
    rows = session.execute(
        select(Unit.name, func.count(Case.id),
               func.count(Case.first_response_at),
               func.sum(_as_int(responded_on_time)),
               func.sum(_as_int(overdue)))
        .join(Case, Case.unit_id == Unit.id).where(opened)
        .group_by(Unit.name).order_by(func.count(Case.id).desc())).all()
    units = [{"unit": name, "accepted": n, "responded": r, "on_time": int(t or 0),
              "overdue": int(o or 0), "on_time_rate": (int(t or 0) / n) if n else None}
             for name, n, r, t, o in rows]
    return {"start": start, "end": end, "posts": posts, "previous_posts": previous,
            "negative": negative, "negative_share": (negative / posts) if posts else 0.0,
            "cases": sum(u["accepted"] for u in units), "responded": sum(u["responded"] for u in units),
            "overdue": sum(u["overdue"] for u in units), "units": units}


def _as_int(condition):
    return case((condition, 1), else_=0)


def period_stats(session, start: datetime, end: datetime) -> dict:
    """What happened in [start, end): posts, topics, cases opened / answered / resolved, ladder
    steps and alerts. `stats --json --week/--date` prints this and the reports use it, so a report
    and the command line always give the same figures for the same period."""

    def count(model, *where):
        return session.execute(select(func.count()).select_from(model).where(*where)).scalar()

    posts = and_(Post.created_at >= start, Post.created_at < end)
    opened = and_(Case.created_at >= start, Case.created_at < end)
    alerts = and_(Alert.created_at >= start, Alert.created_at < end)
    by_level = {str(level): 0 for level in range(2, 6)}
    for after, in session.execute(select(AuditEvent.after).where(
            AuditEvent.action == "case.escalated", AuditEvent.at >= start, AuditEvent.at < end)):
        level = str((after or {}).get("level"))
        if level in by_level:
            by_level[level] += 1
    return {
        "start": start.isoformat(), "end": end.isoformat(),
        "posts": {"total": count(Post, posts),
                  "duplicates": count(Post, posts, Post.duplicate_of_id.is_not(None)),
                  "by_polarity": _grouped(session, Post.polarity, posts, Post.polarity.is_not(None))},
        "topics": {"active": session.execute(select(func.count(func.distinct(Post.topic_id)))
                                             .where(posts, Post.topic_id.is_not(None))).scalar(),
                   "new": count(Topic, Topic.first_seen_at >= start, Topic.first_seen_at < end)},
        "cases": {"opened": count(Case, opened),
                  "by_priority": _grouped(session, Case.priority, opened),
                  "responded": count(Case, Case.first_response_at >= start, Case.first_response_at < end),
                  "resolved": count(Case, Case.resolved_at >= start, Case.resolved_at < end)},
        "escalations": {"total": sum(by_level.values()), "by_level": by_level},
        "alerts": {"total": count(Alert, alerts), "by_severity": _grouped(session, Alert.severity, alerts),
                   "by_kind": _grouped(session, Alert.kind, alerts)},
    }


def performance_stats(session, district, *, since: datetime | None = None,
                      until: datetime | None = None, week: str | None = None,
                      now: datetime | None = None) -> dict:
    """Each unit's performance (opinion.reports.performance) for --since/--until or an ISO --week
    ("2026-W47"); with neither, the current week in the district's zone."""

    now = now or utcnow()
    if week:
        try:
            year, number = week.upper().replace("-", "").split("W")
            monday = date.fromisocalendar(int(year), int(number), 1)
        except ValueError:
            raise ValueError(f"周次 “{week}” 无法识别，应写成 “2026-W47” 这样的 ISO 周") from None
        start, end = week_bounds(datetime(monday.year, monday.month, monday.day, 12,
                                          tzinfo=ZoneInfo(district.timezone)), district.timezone)
    elif since or until:
        start, end = since or datetime(1970, 1, 1, tzinfo=ZoneInfo("UTC")), until or now
    else:
        start, end = week_bounds(now, district.timezone)
    if end <= start:
        raise ValueError("统计区间的结束时间应晚于开始时间")
    return {"start": start.isoformat(), "end": end.isoformat(),
            "units": unit_performance(session, district, start, end, now=now)}


def full_stats(session, district, *, since: datetime | None = None, until: datetime | None = None,
               week: str | None = None, now: datetime | None = None) -> dict:
    """What `stats --json` prints and GET /api/v1/stats answers: the counts, each unit's
    performance for the period (default: this week) and what happened in that period.
    Raises ValueError or OpinionError for a period that cannot be read."""
    stats = collect_stats(session)
    stats["performance"] = performance_stats(session, district, since=since, until=until, week=week, now=now)
    # What happened in the same period: the figures the daily and weekly reports print.
    stats["period"] = period_stats(session, datetime.fromisoformat(stats["performance"]["start"]),
                                   datetime.fromisoformat(stats["performance"]["end"]))
    return stats
