"""Turning the rules' findings into alerts: raise once, extend, clear, notify, acknowledge.

An alert's condition (its dedup key) fires once and stays live, collecting the further posts that
match it, until an evaluation no longer finds it; then it is cleared, and the same condition
holding again later is a new alert. `Alert.open_key` is unique, so the ingest process and the
scheduler raising the same condition at the same moment still make one alert.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from opinion import audit
from opinion.alerts import rules
from opinion.errors import AlertStateError, PermissionDenied
from opinion.labels import LEVEL_NAMES, RULE_NAMES, SEVERITY_NAMES
from opinion.models import OPEN_CASE_STATUSES, Alert, Case, Post, User, utcnow
from opinion.notify import notify
from opinion.settings.alerts import SEVERITIES
from opinion.sla.ladder import Escalation

log = logging.getLogger(__name__)
POST_RULES = ("sensitive_word", "influential_negative")
TOPIC_RULES = ("negative_surge", "volume_burst")
ACK_ROLES = ("monitor", "admin")
# Rules whose reason is a state (how long overdue or silent), not the first post: kept current.
REWORDED = ("case_overdue", "source_silent")
# The scheduler re-reads the posts collected this long ago for the post rules: a batch whose own
# evaluation failed still gets its alerts (dedup makes the second look harmless).
RECHECK_POSTS = timedelta(minutes=5)


def evaluate_batch(session, app, post_ids: list[int], now: datetime | None = None) -> list[Alert]:
    """The post rules, and the topic rules on the topics these posts joined, right after an ingest
    batch committed: this is what makes post-to-alert time seconds. Returns the alerts raised."""
    now = now or utcnow()
    district = app.extensions["district"]
    posts = session.execute(select(Post).options(selectinload(Post.topic)).where(
        Post.id.in_(post_ids), Post.analysis_error.is_(None))).scalars().all() if post_ids else []
    findings: list[rules.Finding] = []
    for name in POST_RULES:
        if district.alerts.enabled(name):
            findings += getattr(rules, name)(district, posts, now)
    topic_ids = {p.topic_id for p in posts if p.topic_id}
    findings += rules.topic_rules(session, district, topic_ids, now)
    return apply_findings(session, app, findings, now, clear={r: topic_ids for r in TOPIC_RULES})


def evaluate_all(session, app, now: datetime | None = None) -> list[str]:
    """The scheduler's pass: topic, source and case rules over the district, and clearing of every
    condition that stopped holding. Returns a line per alert raised or cleared."""
    now = now or utcnow()
    district = app.extensions["district"]
    settings = district.alerts
    window = max(settings.rule(r)["window"] for r in TOPIC_RULES)
    live_topics = select(Alert.topic_id).where(Alert.kind.in_(TOPIC_RULES), Alert.open_key.is_not(None))
    topic_ids = set(session.execute(select(Post.topic_id).where(
        Post.created_at > now - window, Post.topic_id.is_not(None)).distinct()).scalars())
    topic_ids |= set(session.execute(live_topics).scalars())
    findings = rules.topic_rules(session, district, topic_ids, now)
    recent = session.execute(select(Post).options(selectinload(Post.topic)).where(
        Post.collected_at > now - RECHECK_POSTS, Post.analysis_error.is_(None),
        or_(*_post_rule_candidates(district)))).scalars().all()
    for name in POST_RULES:
        if settings.enabled(name):
            findings += getattr(rules, name)(district, recent, now)
    for name in ("source_silent", "case_overdue"):
        if settings.enabled(name):
            findings += getattr(rules, name)(session, district, now)
    cleared_before = _clear_post_alerts(session, district, now) + _clear_closed_case_alerts(session, now)
    clear = {r: topic_ids for r in TOPIC_RULES} | {"source_silent": None, "case_overdue": None}
    for name in (*POST_RULES, *TOPIC_RULES):
        if not settings.enabled(name):
            clear[name] = None  # a rule switched off clears what it raised
    cleared: list[Alert] = []
    raised = apply_findings(session, app, findings, now, clear=clear, cleared=cleared)
    lines = [f"预警 #{a.id} {RULE_NAMES.get(a.kind, a.kind)}：{a.message}" for a in raised]
    cleared = cleared_before + cleared
    return lines + [f"解除预警 #{a.id} {RULE_NAMES.get(a.kind, a.kind)}" for a in cleared]


def _post_rule_candidates(district) -> list:
    """SQL conditions a post must meet to matter to a post rule, so the scheduler's second look
    reads a handful of rows, not every post of the last minutes (200 a second at peak)."""
    settings = district.alerts
    conditions = [Post.id < 0]  # never true: keeps or_() valid when both rules are off
    if settings.enabled("sensitive_word"):
        rule = settings.rule("sensitive_word")
        words = [*(rule["words"] if rule["words"] is not None else district.sensitive_words), *rule["safety_words"]]
        conditions += [Post.text.contains(w, autoescape=True) for w in words if w]
    if settings.enabled("influential_negative"):
        threshold = settings.rule("influential_negative")["min_followers"] or district.influential_followers
        conditions.append(and_(Post.polarity == "negative", Post.author_followers >= threshold))
    return conditions


def apply_findings(session, app, findings: list[rules.Finding], now: datetime,
                   clear: dict[str, set | None], cleared: list[Alert] | None = None) -> list[Alert]:
    """Raise an alert per new condition, extend live ones, clear live ones of the rules in `clear`
    (within the given topic ids, or all for None) that were not found. Notifies about new ones."""
    keys = {f.key for f in findings}
    live = {a.open_key: a for a in session.execute(
        select(Alert).where(Alert.open_key.in_(keys))).scalars()} if keys else {}
    raised, escalated = [], []
    for f in findings:
        alert = live.get(f.key)
        if alert is not None:
            if _extend(alert, f):
                escalated.append(alert)
            continue
        alert = Alert(kind=f.rule, severity=f.severity, message=f.message, dedup_key=f.key,
                      open_key=f.key, status="open", post_id=f.post_ids[0] if f.post_ids else None,
                      post_ids=f.post_ids[:rules.MAX_POST_LINKS] or None, topic_id=f.topic_id,
                      case_id=f.case_id, source_id=f.source_id, details=f.details, created_at=now)
        try:
            with session.begin_nested():
                session.add(alert)
        except IntegrityError:
            continue  # the other process raised this very condition a moment ago
        live[f.key] = alert
        raised.append(alert)
    for rule, scope in clear.items():
        if scope is not None and not scope:
            continue
        query = select(Alert).where(Alert.kind == rule, Alert.open_key.is_not(None))
        if scope is not None:
            query = query.where(Alert.topic_id.in_(scope))
        for alert in session.execute(query).scalars():
            if alert.open_key not in keys:
                _clear(alert, now)
                if cleared is not None:
                    cleared.append(alert)
    for alert in raised + escalated:  # a condition that got worse is news again
        notify_monitors(session, app, alert, now)
    return raised


def _extend(alert: Alert, f: rules.Finding) -> bool:
    """The condition still holds: keep its new posts and figures; it does not fire again.
    Returns True when it got more severe (e.g. a case now past its resolve deadline too)."""
    ids = list(alert.post_ids or [])
    ids += [i for i in f.post_ids if i not in ids]
    alert.post_ids = ids[:rules.MAX_POST_LINKS] or None
    details = alert.details or {}
    alert.details = {**details, **f.details, "repeats": int(details.get("repeats", 0)) + 1}
    if f.rule in REWORDED:
        level = details.get("level")
        alert.message = f.message + (f"；已升级为{LEVEL_NAMES[level]}" if level in LEVEL_NAMES else "")
        if level is not None:
            alert.details["base_message"] = f.message
    if SEVERITIES.index(f.severity) > SEVERITIES.index(alert.severity):
        alert.severity = f.severity
        return True
    return False


def _clear(alert: Alert, now: datetime) -> None:
    alert.status, alert.cleared_at, alert.open_key = "cleared", now, None
    alert.details = {**(alert.details or {}), "cleared_reason": "条件已不再成立"}


def _clear_post_alerts(session, district, now: datetime) -> list[Alert]:
    """A post rule's condition holds while matching posts keep arriving within its window."""
    cleared = []
    for alert in session.execute(select(Alert).where(Alert.kind.in_(POST_RULES),
                                                     Alert.open_key.is_not(None))).scalars():
        window = district.alerts.rule(alert.kind)["window"]
        last = (alert.details or {}).get("last_post_at")
        if not district.alerts.enabled(alert.kind) or last is None \
                or datetime.fromisoformat(last) < now - window:
            _clear(alert, now)
            cleared.append(alert)
    return cleared


def case_key(case_id: int) -> str:
    """The identity of a case's condition: overdue and escalated are one alert per case."""
    return f"case_overdue:case:{case_id}"


def raise_escalations(session, escalations: list[Escalation], now: datetime) -> list[Alert]:
    """The monitors' alert for each case the ladder escalated in a tick: one live alert per case
    (shared with its overdue alert), at the highest level it reached. A further escalation updates
    that alert; it opens again only when it got more severe. Returns the alerts raised or worsened."""
    cases = {c.id: c for c in session.execute(
        select(Case).where(Case.id.in_([e.case_id for e in escalations]))).scalars()} if escalations else {}
    top: dict[int, Escalation] = {}
    for e in escalations:
        if e.case_id not in top or e.level > top[e.case_id].level:
            top[e.case_id] = e
    live = {a.open_key: a for a in session.execute(select(Alert).where(
        Alert.open_key.in_([case_key(i) for i in top]))).scalars()} if top else {}
    raised = []
    for case_id, e in top.items():
        case = cases[case_id]
        # Paperwork unless the case is urgent or at the top of the ladder (a leader's 批办).
        severity = "critical" if e.level >= 5 or case.priority == "urgent" else "warning"
        step = f"升级为{LEVEL_NAMES[e.level]}（{e.reason}）"
        alert = live.get(case_key(case_id))
        if alert is not None:
            details = alert.details or {}
            base = details.get("base_message") or alert.message
            alert.message = f"{base}；{step}"
            alert.details = {**details, "base_message": base, "level": e.level,
                             "repeats": int(details.get("repeats", 0)) + 1, "last_seen_at": now.isoformat()}
            if SEVERITIES.index(severity) > SEVERITIES.index(alert.severity):
                alert.severity, alert.status = severity, "open"
                raised.append(alert)
            continue
        base = f"工单 #{case.id}「{case.title}」"
        alert = Alert(kind="escalation", severity=severity, message=f"{base}{step}",
                      dedup_key=case_key(case.id), open_key=case_key(case.id), case_id=case.id,
                      topic_id=case.topic_id, created_at=now,
                      details={"base_message": base, "level": e.level, "last_seen_at": now.isoformat()})
        try:
            with session.begin_nested():
                session.add(alert)
        except IntegrityError:
            continue
        raised.append(alert)
    return raised


def _clear_closed_case_alerts(session, now: datetime) -> list[Alert]:
    """A case's alert holds while the case is open; an escalated case that was finished clears."""
    cleared = []
    for alert in session.execute(select(Alert).join(Case, Alert.case_id == Case.id).where(
            Alert.open_key.is_not(None), Alert.case_id.is_not(None),
            Case.status.not_in(OPEN_CASE_STATUSES))).scalars():
        _clear(alert, now)
        cleared.append(alert)
    return cleared


def acknowledge_alerts(session, alerts: list[Alert], user: User, now: datetime | None = None) -> int:
    """A monitor takes several open alerts in hand at once (each audited); alerts already taken or
    cleared are passed over. Returns how many were acknowledged. Raises PermissionDenied."""
    now = now or utcnow()
    if user.role not in ACK_ROLES:
        raise PermissionDenied("只有舆情监测员或系统管理员可以确认预警")
    done = 0
    for alert in alerts:
        if alert.status == "open":
            acknowledge_alert(session, alert, user, now)
            done += 1
    return done


def notify_monitors(session, app, alert: Alert, now: datetime) -> list:
    """Tell the monitors: in-app always; e-mail, robot webhook and SMS per the severity's channels,
    and outside quiet hours unless the alert is critical."""
    settings = app.extensions["district"].alerts
    channels = list(settings.channels[alert.severity])
    local = now.astimezone(ZoneInfo(app.config["TIMEZONE"])).time()
    if settings.quiet_hours and settings.quiet_hours.contains(local) and alert.severity != "critical":
        channels = [c for c in channels if c == "inapp"]
    monitors = session.execute(select(User).where(User.role == "monitor", User.active.is_(True))
                               .order_by(User.id)).scalars().all()
    subject = f"【{SEVERITY_NAMES[alert.severity]}预警】{RULE_NAMES.get(alert.kind, alert.kind)}"
    body = f"{alert.message}\n时间：{now.astimezone(ZoneInfo(app.config['TIMEZONE'])):%Y-%m-%d %H:%M}（北京时间）"
    rows = notify(session, monitors, subject, body, channels=("inapp",), alert=alert, now=now) \
        if "inapp" in channels else []
    for channel, field in (("email", "email"), ("sms", "phone")):
        reachable = [u for u in monitors if getattr(u, field, None)]
        if channel in channels and reachable:
            rows += notify(session, reachable, subject, body, channels=(channel,), alert=alert, now=now)
    hooks = app.config.get("ALERT_WEBHOOK_URLS") or []
    if "webhook" in channels and hooks:
        rows += notify(session, hooks, subject, body, channels=("webhook",), alert=alert, now=now)
    alert.details = {**(alert.details or {}), "channels": sorted({r.channel for r in rows})}
    return rows


def acknowledge_alert(session, alert: Alert, user: User, now: datetime | None = None) -> Alert:
    """A monitor takes an open alert in hand; audited. Raises PermissionDenied or AlertStateError."""
    now = now or utcnow()
    if user.role not in ACK_ROLES:
        raise PermissionDenied("只有舆情监测员或系统管理员可以确认预警")
    if alert.status == "acknowledged":
        who = alert.acknowledged_by.name if alert.acknowledged_by else "他人"
        raise AlertStateError(f"该预警已由 {who} 确认，无需重复确认")
    if alert.status != "open":
        raise AlertStateError("该预警已解除，无需确认")
    alert.status, alert.acknowledged_at, alert.acknowledged_by_id = "acknowledged", now, user.id
    audit.record(session, "alert.acknowledged", "alert", alert.id, actor=user,
                 before={"status": "open"}, after={"status": "acknowledged"}, at=now,
                 reason=f"{RULE_NAMES.get(alert.kind, alert.kind)}：{alert.message[:100]}")
    return alert


def live_alerts(session, since: timedelta | None = None, now: datetime | None = None):
    """Open and acknowledged alerts, newest first (for the monitor page and stats)."""
    query = select(Alert).where(or_(Alert.status == "open", Alert.status == "acknowledged"))
    if since is not None:
        query = query.where(Alert.created_at >= (now or utcnow()) - since)
    return session.execute(query.order_by(Alert.created_at.desc())).scalars().all()
