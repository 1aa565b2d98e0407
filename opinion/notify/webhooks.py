"""Case-event webhooks: partner systems (the city's 12345 platform, a hotline) are told when a case
is created, escalated, replied to, resolved or reopened, signed, and retried until they take it.

The events are the audit log's (every case change is audited, opinion.cases.lifecycle), so no
code path can change a case without its event. `enqueue` turns new audit events into one
WebhookDelivery per configured URL with its body fixed; `deliver_due` posts the due ones, each
committed after its attempt so a crash never sends twice what a receiver already took.

Each request carries
    X-Opinion-Event: case.resolved            X-Opinion-Delivery: <delivery id, for de-duplication>
    X-Opinion-Timestamp: <Unix seconds>       X-Opinion-Signature: sha256=<hex>
where the signature is HMAC-SHA256(CASE_WEBHOOK_SECRET, timestamp + "." + body) — the same scheme
as the inbound push API (POST /api/v1/ingest), so a receiver can refuse replays older than a few
minutes. A non-2xx answer or no answer is retried after 1, 2, 4 … minutes (opinion.notify.delivery
.backoff) up to CASE_WEBHOOK_MAX_ATTEMPTS, then the row is `failed` with its last error.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select

from opinion.errors import DeliveryError
from opinion.models import AuditEvent, Case, WebhookDelivery, utcnow
from opinion.notify.channels import _http
from opinion.notify.delivery import backoff

__all__ = ["EVENTS", "enqueue", "deliver_due", "sign", "run"]

# audit action -> the event name partners subscribe to
EVENTS = {"case.opened": "case.created", "case.escalated": "case.escalated", "case.replied": "case.replied",
          "case.resolved": "case.resolved", "case.reopened": "case.reopened"}
FIRST_LOOKBACK = timedelta(hours=24)  # the first run after webhooks are configured sends the last day's


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _body(event: AuditEvent, case: Case) -> str:
    data = {"event": EVENTS[event.action], "event_id": event.id, "occurred_at": _iso(event.at),
            "case": {"id": case.id, "lookup_code": case.lookup_code, "title": case.title, "status": case.status,
                     "priority": case.priority, "unit": case.unit.code if case.unit else None,
                     "escalation_level": case.escalation_level, "satisfaction": case.satisfaction,
                     "acknowledge_due_at": _iso(case.acknowledge_due_at),
                     "respond_due_at": _iso(case.respond_due_at), "resolve_due_at": _iso(case.resolve_due_at),
                     "resolved_at": _iso(case.resolved_at)},
            "change": {"before": event.before, "after": event.after}}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def enqueue(session, urls: list[str], now: datetime | None = None) -> int:
    """Queue the case events since the last one queued, one row per URL; returns rows added."""
    if not urls:
        return 0
    now = now or utcnow()
    last = session.execute(select(func.max(WebhookDelivery.event_id))).scalar()
    query = select(AuditEvent).where(AuditEvent.object_type == "case", AuditEvent.action.in_(EVENTS))
    query = query.where(AuditEvent.id > last) if last else query.where(AuditEvent.at >= now - FIRST_LOOKBACK)
    added = 0
    for event in session.execute(query.order_by(AuditEvent.id).limit(1000)).scalars():
        case = session.get(Case, event.object_id)
        if case is None:
            continue
        body = _body(event, case)
        for url in urls:
            session.add(WebhookDelivery(event_id=event.id, url=url, event=EVENTS[event.action], body=body,
                                        created_at=now))
            added += 1
    session.flush()
    return added


def deliver_due(session, secret: str, now: datetime | None = None, *, timeout: float = 10,
                max_attempts: int = 8, limit: int = 200) -> dict[str, int]:
    """Post the pending deliveries that are due, oldest event first; counts by outcome."""
    now = now or utcnow()
    rows = session.execute(select(WebhookDelivery).where(
        WebhookDelivery.status == "pending",
        or_(WebhookDelivery.next_attempt_at.is_(None), WebhookDelivery.next_attempt_at <= now))
        .order_by(WebhookDelivery.event_id, WebhookDelivery.id).limit(limit)).scalars().all()
    counts = {"sent": 0, "retry": 0, "failed": 0}
    for row in rows:
        row.attempts = (row.attempts or 0) + 1
        body = row.body.encode("utf-8")
        stamp = str(int(time.time()))
        headers = {"Content-Type": "application/json; charset=utf-8", "X-Opinion-Event": row.event,
                   "X-Opinion-Delivery": str(row.id), "X-Opinion-Timestamp": stamp,
                   "X-Opinion-Signature": sign(secret, stamp, body), "User-Agent": "opinion-webhooks/1"}
        try:
            _http(row.url, body, headers, timeout)
        except DeliveryError as exc:
            row.error = str(exc)[:2000]
            if row.attempts >= max_attempts:
                row.status = "failed"
                counts["failed"] += 1
            else:
                row.next_attempt_at = now + backoff(row.attempts)
                counts["retry"] += 1
        else:
            row.status, row.sent_at, row.error = "sent", now, None
            counts["sent"] += 1
        session.commit()
    return counts


def run(session, config: dict, now: datetime | None = None) -> dict[str, int]:
    """The scheduler's pass: queue what happened, then send what is due."""
    urls = list(config.get("CASE_WEBHOOK_URLS") or [])
    if not urls:
        return {"sent": 0, "retry": 0, "failed": 0}
    if not config.get("CASE_WEBHOOK_SECRET"):
        raise DeliveryError("已配置工单事件推送地址，但没有签名密钥（环境变量 OPINION_CASE_WEBHOOK_SECRET）")
    enqueue(session, urls, now)
    session.commit()
    return deliver_due(session, config["CASE_WEBHOOK_SECRET"], now, timeout=float(config.get("NOTIFY_TIMEOUT") or 10),
                       max_attempts=int(config.get("CASE_WEBHOOK_MAX_ATTEMPTS") or 8))
