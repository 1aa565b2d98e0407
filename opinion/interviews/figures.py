"""The weekly report's 在线访谈 section: the interviews held in the week, what netizens asked and what
was answered, and the follow-up cases the questions opened with where they stand now.

Plain dicts, as the report writers (HTML, Word) read every figure; an interview counts in the week
it started, so one running across midnight on Sunday is reported once.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from opinion.labels import CASE_STATUS_NAMES
from opinion.models import Case, Interview, InterviewQuestion


def period_interviews(session, start: datetime, end: datetime) -> list[dict]:
    """Interviews started in [start, end), first started first; empty when none, and the report
    then leaves the section out."""
    interviews = session.execute(select(Interview).where(Interview.started_at >= start, Interview.started_at < end)
                                 .order_by(Interview.started_at, Interview.id)).scalars().all()
    if not interviews:
        return []
    ids = [i.id for i in interviews]
    q = InterviewQuestion
    counts = {row[0]: row[1:] for row in session.execute(
        select(q.interview_id, func.count(q.id), func.count(q.id).filter(q.status == "adopted"),
               func.count(q.id).filter(q.status == "adopted", q.answer.is_not(None)))
        .where(q.interview_id.in_(ids)).group_by(q.interview_id))}
    follow_ups: dict[int, list[dict]] = {i: [] for i in ids}
    for interview_id, case in session.execute(select(q.interview_id, Case).join(Case, Case.id == q.case_id)
                                              .where(q.interview_id.in_(ids)).order_by(Case.id)):
        follow_ups[interview_id].append({"id": case.id, "unit": case.unit.name,
                                         "status": CASE_STATUS_NAMES.get(case.status, case.status),
                                         "closed": case.closed_at is not None})
    rows = []
    for interview in interviews:
        received, adopted, answered = counts.get(interview.id, (0, 0, 0))
        rows.append({"title": interview.title, "unit": interview.unit.name, "guest": interview.guest,
                     "started_at": interview.started_at, "status": interview.status_name,
                     "received": received, "adopted": adopted, "answered": answered,
                     "follow_ups": follow_ups[interview.id]})
    return rows
