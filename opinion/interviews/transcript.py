"""What the public may see of an interview: the announcement, and once published the transcript.

As the case lookup does (opinion.cases.public), the public page and the Word document never get an
Interview or a question row: `public_interview` copies out the masked question, the nickname, the
answer and their times, for the adopted and answered questions only; a question not adopted never
leaves the building. A question turned into a case says which unit took it (已转交 XX 办理).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from opinion.models import Interview, InterviewQuestion


@dataclass
class PublicExchange:
    nickname: str
    question: str
    asked_at: datetime
    answer: str
    answered_at: datetime
    also_asked: int = 0             # other netizens whose identical question was merged into this one
    follow_up_unit: str | None = None


@dataclass
class PublicInterview:
    slug: str
    title: str
    guest: str          # 区住房和城乡建设局局长 王建国
    guest_name: str     # 王建国, who speaks in the transcript
    unit: str
    theme: str
    scheduled_at: datetime
    status: str
    status_name: str
    published_at: datetime | None
    exchanges: list[PublicExchange] = field(default_factory=list)


def public_interview(session, interview: Interview, *, with_transcript: bool | None = None) -> PublicInterview:
    """The interview as the public sees it; the exchanges only once published (or when staff ask)."""
    view = PublicInterview(interview.slug, interview.title, interview.guest, interview.guest_name, interview.unit.name,
                           interview.theme,
                           interview.scheduled_at, interview.status, interview.status_name, interview.published_at)
    if not (interview.status == "published" if with_transcript is None else with_transcript):
        return view
    copies = dict(session.execute(
        select(InterviewQuestion.merged_into_id, func.count()).where(
            InterviewQuestion.interview_id == interview.id, InterviewQuestion.status == "merged")
        .group_by(InterviewQuestion.merged_into_id)).all())
    rows = session.execute(select(InterviewQuestion).where(
        InterviewQuestion.interview_id == interview.id, InterviewQuestion.status == "adopted",
        InterviewQuestion.answer.is_not(None)).order_by(InterviewQuestion.answered_at, InterviewQuestion.id)).scalars()
    view.exchanges = [PublicExchange(q.nickname, q.text, q.received_at, q.answer, q.answered_at,
                                     copies.get(q.id, 0), q.case.unit.name if q.case is not None else None)
                      for q in rows]
    return view
