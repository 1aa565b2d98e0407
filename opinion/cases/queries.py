"""What the pages and the API read about cases: a spokesperson's inbox, one case and its records,
the monitoring centre's supervision desk and console queues, replies awaiting approval, rosters.

Reading only: nothing here changes a case (the services beside this module do). Who may see a case
is decided by opinion.cases.lifecycle.visible_cases, which every per-user query here starts from.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from opinion.cases.lifecycle import led_or_co_handled, visible_cases
from opinion.labels import PRIORITY_NAMES
from opinion.models import (
    OPEN_CASE_STATUSES,
    AuditEvent,
    Case,
    CaseExtension,
    CaseTransfer,
    CaseView,
    DutyShift,
    Instruction,
    Post,
    Reply,
    ReplyTemplate,
    RoutingCorrection,
    Unit,
    User,
    utcnow,
)


def visible_case(session, user: User, case_id: int, loads=()) -> Case | None:
    """The case if this user may see it; None for one that is not theirs, as for one that does not exist."""
    return session.execute(visible_cases(user).where(Case.id == case_id).options(*loads)).scalar_one_or_none()


def cases_on_topic(session, topic_id: int, user: User | None = None, loads=()) -> list[Case]:
    """The cases opened on a topic, oldest first; with `user`, only those the user may see."""
    query = visible_cases(user) if user is not None else select(Case)
    return session.execute(query.where(Case.topic_id == topic_id).order_by(Case.id).options(*loads)).scalars().all()


def next_due():
    """The deadline a case is racing now: acknowledge, then respond, then resolve."""
    return sql_case((Case.acknowledged_at.is_(None), Case.acknowledge_due_at),
                    (Case.first_response_at.is_(None), Case.respond_due_at),
                    else_=Case.resolve_due_at)


def inbox_query(user: User, *, status: str = "open", priority: str = "", overdue: bool = False,
                mine: bool = False, unit: Unit | None = None, now: datetime | None = None):
    """The user's visible cases with the filters applied; (select, due expression).

    `status` is a case status, "open", "done" or "all"; `unit` keeps the cases that unit leads or
    co-handles."""
    due = next_due()
    query = visible_cases(user).add_columns(due.label("due"))
    if status == "open":
        query = query.where(Case.status.in_(OPEN_CASE_STATUSES))
    elif status == "done":
        query = query.where(Case.status.not_in(OPEN_CASE_STATUSES))
    elif status != "all":  # "all": no status filter (the API offers it)
        query = query.where(Case.status == status)
    if priority in PRIORITY_NAMES:
        query = query.where(Case.priority == priority)
    if overdue:
        query = query.where(due < (now or utcnow()), Case.status.in_(OPEN_CASE_STATUSES))
    if mine:
        query = query.where(Case.assignee_id == user.id)
    if unit is not None:
        query = query.where(led_or_co_handled(unit.id))
    return query, due


def inbox_page(session, user: User, *, page: int, per_page: int, loads=(), **filters) -> tuple[list, int]:
    """One page of inbox_query's cases, the most urgent deadline first, as (case, due) rows; and
    how many cases the filters match in all."""
    query, due = inbox_query(user, **filters)
    total = session.execute(query.with_only_columns(func.count())).scalar()
    rows = session.execute(query.options(*loads).order_by(due, Case.id)
                           .limit(per_page).offset((page - 1) * per_page)).all()
    return rows, total


def inbox_counts(session, user: User, now: datetime) -> dict[str, int]:
    """The inbox's counters over all the user's open cases, whatever the filters, in one pass."""
    due = next_due()
    counters = session.execute(visible_cases(user).where(Case.status.in_(OPEN_CASE_STATUSES)).with_only_columns(
        func.count(), func.sum(sql_case((due < now, 1), else_=0)),
        func.sum(sql_case((Case.status == "new", 1), else_=0)),
        func.sum(sql_case((Case.assignee_id == user.id, 1), else_=0)),
        func.sum(sql_case((Case.priority == "urgent", 1), else_=0)))).one()
    return dict(zip(("open", "overdue", "new", "mine", "urgent"), (int(c or 0) for c in counters)))


def awaiting_approval(session, case_ids: list[int]) -> set[int]:
    """Which of these cases have a reply waiting for approval (one look-up for a page of cases)."""
    return set(session.execute(select(Reply.case_id).where(
        Reply.case_id.in_(case_ids), Reply.status == "pending_approval")).scalars())


def case_records(session, case_id: int) -> dict[str, list]:
    """What has been done on a case, in order: its audit history, transfer requests, extension
    requests and leaders' instructions (under the names the case page reads)."""
    def rows(query):
        return session.execute(query).scalars().all()
    history = rows(select(AuditEvent).where(AuditEvent.object_type == "case", AuditEvent.object_id == case_id)
                   .order_by(AuditEvent.at, AuditEvent.id))
    actors = {e.actor for e in history if e.actor and e.actor != "system"}
    return {
        "history": history,
        # The history says who by the name people know (李区长), not the log-in name (leader).
        "actor_names": dict(session.execute(select(User.username, User.name).where(User.username.in_(actors))).all())
        if actors else {},
        "transfers_done": rows(select(CaseTransfer).where(CaseTransfer.case_id == case_id).order_by(CaseTransfer.id)),
        "extensions": rows(select(CaseExtension).where(CaseExtension.case_id == case_id).order_by(CaseExtension.id)),
        "instructions": rows(select(Instruction).where(Instruction.case_id == case_id).order_by(Instruction.at)),
    }


def supervision_desk(session, limit: int = 200) -> dict[str, list | dict]:
    """What waits on the monitoring centre: transfer and extension requests to decide (oldest
    first, with their cases by id), open cases the ladder handed over (level 2 and up) and open
    cases with no assignee."""
    open_cases = Case.status.in_(OPEN_CASE_STATUSES)
    transfers = session.execute(select(CaseTransfer).where(CaseTransfer.status == "pending")
                                .order_by(CaseTransfer.requested_at)).scalars().all()
    extensions = session.execute(select(CaseExtension).where(CaseExtension.status == "pending")
                                 .order_by(CaseExtension.requested_at)).scalars().all()
    escalated = session.execute(select(Case).where(open_cases, Case.escalation_level >= 2)
                                .order_by(Case.escalation_level.desc(), Case.resolve_due_at)
                                .limit(limit)).scalars().all()
    unassigned = session.execute(select(Case).where(open_cases, Case.assignee_id.is_(None))
                                 .order_by(Case.acknowledge_due_at).limit(limit)).scalars().all()
    cases = {c.id: c for c in session.execute(select(Case).where(
        Case.id.in_([t.case_id for t in transfers] + [x.case_id for x in extensions] or [-1]))).scalars()}
    return {"transfers": transfers, "extensions": extensions, "escalated": escalated,
            "unassigned": unassigned, "cases": cases}


def console_cases(session, centre: Unit | None, limit: int = 30) -> dict[str, list | int]:
    """The monitoring console's cases: the centre's triage queue (cases routing could not give a
    unit), escalations (level 2 and up) nobody has acknowledged, and how many open cases are escalated."""
    triage = session.execute(select(Case).where(Case.unit_id == (centre.id if centre else -1),
                                                Case.status.in_(("new", "acknowledged", "transferred_back")))
                             .order_by(Case.created_at).limit(limit)).scalars().all()
    waiting = session.execute(select(Case).where(Case.escalation_level >= 2, Case.acknowledged_at.is_(None),
                                                 Case.closed_at.is_(None))
                              .order_by(Case.acknowledge_due_at).limit(limit)).scalars().all()
    escalated = session.execute(select(func.count()).select_from(Case)
                                .where(Case.escalation_level >= 2, Case.closed_at.is_(None))).scalar()
    return {"triage": triage, "waiting": waiting, "escalated": escalated}


def approvable_replies(user: User):
    """A select of the replies waiting for approval that this user's queue lists, oldest first: a
    spokesperson (a unit head) sees their own unit's, a monitor every unit's."""
    query = (select(Reply).join(Case, Reply.case_id == Case.id)
             .where(Reply.status == "pending_approval").order_by(Reply.updated_at))
    if user.role == "spokesperson":
        query = query.where(Case.unit_id == user.unit_id)
    return query


def approval_queue(session, user: User, limit: int = 200) -> list[Reply]:
    """The approval queue (回复审核) as the user sees it."""
    return session.execute(approvable_replies(user).limit(limit)).scalars().all()


def pending_reply(session, user: User, reply_id: int) -> Reply | None:
    """A reply in this user's approval queue; None for one that is not (or no longer) there."""
    return session.execute(approvable_replies(user).where(Reply.id == reply_id)).scalar_one_or_none()


def duty_shifts(session, unit_id: int, ending_after: datetime) -> list[DutyShift]:
    """A unit's duty shifts that end after the given time, earliest first."""
    return session.execute(select(DutyShift).where(DutyShift.unit_id == unit_id, DutyShift.end_at > ending_after)
                           .order_by(DutyShift.start_at)).scalars().all()


def reply_templates(session) -> list[ReplyTemplate]:
    """The reply templates (口径库), the ones in use first, by category."""
    return session.execute(select(ReplyTemplate).order_by(ReplyTemplate.active.desc(), ReplyTemplate.category,
                                                           ReplyTemplate.id)).scalars().all()


def first_post(session, case: Case) -> Post | None:
    """The post a case answers when no channel names one: the first original post of its topic."""
    if case.topic_id is None:
        return None
    return session.execute(select(Post).where(Post.topic_id == case.topic_id, Post.duplicate_of_id.is_(None))
                           .order_by(Post.created_at, Post.id).limit(1)).scalar_one_or_none()


def backlog_by_unit(session, now: datetime) -> dict[str, dict]:
    """Each unit's open cases now and how many of them are past a deadline (whenever received):
    {unit code: {unit_name, open, overdue, max_overdue_days}}. The week's figures count only the
    week's cases; a leader also needs what is still on each unit's desk."""
    rows = session.execute(select(Case, Unit.code, Unit.name).join(Unit, Case.unit_id == Unit.id)
                           .where(Case.status.in_(OPEN_CASE_STATUSES))).all()
    out: dict[str, dict] = {}
    for case, code, name in rows:
        entry = out.setdefault(code, {"unit_name": name, "open": 0, "overdue": 0, "max_overdue_days": 0})
        entry["open"] += 1
        missed = [due for due, done in ((case.acknowledge_due_at, case.acknowledged_at),
                                        (case.respond_due_at, case.first_response_at),
                                        (case.resolve_due_at, case.resolved_at)) if done is None and due and due <= now]
        if missed:
            entry["overdue"] += 1
            entry["max_overdue_days"] = max(entry["max_overdue_days"], (now - min(missed)).days)
    return out


def seen_case_ids(session, user: User, case_ids: list[int]) -> set[int]:
    """Which of these cases the person has opened: the inbox marks the others 未读."""
    if not case_ids:
        return set()
    return set(session.execute(select(CaseView.case_id).where(CaseView.user_id == user.id,
                                                              CaseView.case_id.in_(case_ids))).scalars())


def mark_case_seen(session, user: User, case_id: int, now: datetime) -> None:
    """Record that the person opened the case (a second tab racing the first is harmless)."""
    view = session.get(CaseView, (user.id, case_id))
    if view is not None:
        view.seen_at = now
        return
    try:
        with session.begin_nested():
            session.add(CaseView(user_id=user.id, case_id=case_id, seen_at=now))
    except IntegrityError:
        pass  # the other tab wrote it first; it is seen either way


def transferred_away(session, user: User, case_id: int) -> RoutingCorrection | None:
    """The latest reassignment that took case `case_id` away from the person's unit, if any: the
    original unit is told where it went instead of "page not found"."""
    if user.unit_id is None:
        return None
    return session.execute(select(RoutingCorrection).where(
        RoutingCorrection.case_id == case_id, RoutingCorrection.from_unit_id == user.unit_id)
        .order_by(RoutingCorrection.at.desc(), RoutingCorrection.id.desc()).limit(1)).scalar_one_or_none()
