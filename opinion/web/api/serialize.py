"""The JSON shapes of the read API (opinion.web.api.read), described in openapi.json.

Times are ISO-8601 with the district's offset (2026-11-23T09:10:00+08:00); names in Chinese sit
beside the codes (`status` and `status_name`) so a dashboard needs no table of its own.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy.orm import selectinload

from opinion.alerts.queries import bursting_topics
from opinion.labels import CASE_STATUS_NAMES, LEVEL_NAMES, PRIORITY_NAMES, RULE_NAMES, SEVERITY_NAMES
from opinion.models import Alert, Case, CaseCoUnit, Topic, Unit, utcnow
from opinion.topics.queries import emotion_counts, topic_priorities

CASE_LOADS = (selectinload(Case.unit), selectinload(Case.topic), selectinload(Case.assignee),
              selectinload(Case.co_units).selectinload(CaseCoUnit.unit))


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).isoformat(timespec="seconds")


def unit(row: Unit | None) -> dict | None:
    return {"code": row.code, "name": row.name} if row else None


def topics(session, rows: list[Topic]) -> list[dict]:
    """Topics with their emotion mix, burst flag and priority, in a few grouped queries."""
    ids = [t.id for t in rows]
    emotions, bursting = emotion_counts(session, ids), bursting_topics(session, ids)
    return [{
        "id": t.id, "label": t.label or "未命名话题", "keywords": list(t.keywords or []),
        "hot_score": round(t.hot_score or 0.0, 2), "volume": t.post_count,
        "negative_share": round(t.negative_count / t.post_count, 3) if t.post_count else 0.0,
        "emotions": dict(emotions[t.id].most_common()), "category": t.category, "department": unit(t.unit),
        "priority": priority, "priority_name": PRIORITY_NAMES.get(priority),
        "burst": t.id in bursting, "first_seen_at": iso(t.first_seen_at), "last_seen_at": iso(t.last_seen_at),
    } for t, priority in zip(rows, topic_priorities(session, ids))]


def post(summary: dict | None) -> dict | None:
    """A post as opinion.reports.figures.post_summary gives it (text cut at 140 characters)."""
    if summary is None:
        return None
    return {**summary, "created_at": iso(summary["created_at"])}


def alert(row: Alert) -> dict:
    return {"id": row.id, "kind": row.kind, "kind_name": RULE_NAMES.get(row.kind, row.kind),
            "severity": row.severity, "severity_name": SEVERITY_NAMES.get(row.severity, row.severity),
            "message": row.message, "status": row.status, "created_at": iso(row.created_at),
            "topic_id": row.topic_id, "case_id": row.case_id, "post_id": row.post_id, "source_id": row.source_id,
            "acknowledged_at": iso(row.acknowledged_at),
            "acknowledged_by": row.acknowledged_by.username if row.acknowledged_by else None}


def case(row: Case, detail: bool = False) -> dict:
    due = (row.acknowledge_due_at if row.acknowledged_at is None else
           row.respond_due_at if row.first_response_at is None else row.resolve_due_at)
    data = {
        "id": row.id, "title": row.title, "status": row.status, "status_name": CASE_STATUS_NAMES.get(row.status),
        "priority": row.priority, "priority_name": PRIORITY_NAMES.get(row.priority), "category": row.category,
        "unit": unit(row.unit), "co_units": [unit(c.unit) for c in row.co_units],
        "topic": {"id": row.topic.id, "label": row.topic.label} if row.topic else None,
        "assignee": {"username": row.assignee.username, "name": row.assignee.name} if row.assignee else None,
        "escalation_level": row.escalation_level, "escalation_name": LEVEL_NAMES.get(row.escalation_level),
        "supervised": row.supervised, "special_report": row.special_report,
        "acknowledge_due_at": iso(row.acknowledge_due_at), "respond_due_at": iso(row.respond_due_at),
        "resolve_due_at": iso(row.resolve_due_at), "next_due_at": iso(due) if row.is_open else None,
        "overdue": row.is_open and due <= utcnow(),
        "created_at": iso(row.created_at), "acknowledged_at": iso(row.acknowledged_at),
        "first_response_at": iso(row.first_response_at), "resolved_at": iso(row.resolved_at),
        "closed_at": iso(row.closed_at),
    }
    if detail:
        data.update(routing_reason=row.routing_reason, resolution_note=row.resolution_note,
                    satisfaction=row.satisfaction, extended_working_days=row.extended_working_days,
                    merged_into_id=row.merged_into_id,
                    replies=[{"id": r.id, "text": r.text, "channel": r.channel, "url": r.external_url,
                              "published_at": iso(r.published_at or r.created_at)} for r in row.published_replies])
    return data
