"""An interview's course: scheduled by an admin or monitor, opened, answered live by the leader's
office, ended, its transcript published; and the questions that need follow-up turned into cases.

An answer goes through the reply check (opinion.cases.replies.check_reply: empty, too long,
repeated, 错敏词, wrong office names) as every public text of the district does, except the parts a
case reply must have (称呼, 办理情况), which an answer in a live conversation does not. A follow-up
opens an ordinary case for the unit staff choose, with routing's suggestion shown first
(`suggested_unit`); a question that came from a collected post joins that post's topic's case.
"""
from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import func, select

from opinion import audit
from opinion.cases import lifecycle
from opinion.cases.duty import spokespersons
from opinion.cases.replies import Finding, check_reply
from opinion.errors import InterviewError, PermissionDenied
from opinion.models import Interview, InterviewQuestion, Unit, User
from opinion.notify import notify
from opinion.routing import Router
from opinion.settings.district import District

MAX_THEME = 1000


class NeedsConfirmation(InterviewError):
    """An answer with only warnings (a sensitive word, an outdated office name): sent once confirmed."""


def _field(value: str, name: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise InterviewError(f"请填写{name}")
    if len(value) > limit:
        raise InterviewError(f"{name}太长（{len(value)} 字），请不超过 {limit} 字")
    return value


def check_organiser(user: User) -> None:
    if user.role not in ("admin", "monitor"):
        raise PermissionDenied("只有系统管理员或舆情监测员可以安排和发布在线访谈")


def schedule(session, user: User, unit: Unit | None, guest_name: str, guest_title: str, theme: str,
             scheduled_at: datetime | None, now: datetime, *, title: str = "") -> Interview:
    """预告 an interview: who (嘉宾), for which unit, when and on what (主题)."""
    check_organiser(user)
    if unit is None:
        raise InterviewError("请选择嘉宾所在单位")
    if scheduled_at is None:
        raise InterviewError("请填写访谈时间")
    guest_name = _field(guest_name, "嘉宾姓名", 64)
    guest_title = _field(guest_title, "嘉宾职务", 100)
    theme = _field(theme, "访谈主题", MAX_THEME)
    title = (title or "").strip() or f"{unit.name}{guest_title}{guest_name}在线访谈"
    if len(title) > 200:
        raise InterviewError("标题太长，请不超过 200 字")
    interview = Interview(slug=secrets.token_urlsafe(6), title=title, guest_name=guest_name, guest_title=guest_title,
                          unit_id=unit.id, theme=theme, scheduled_at=scheduled_at, status="scheduled",
                          created_by_id=user.id, created_at=now)
    session.add(interview)
    session.flush()
    audit.record(session, "interview.scheduled", "interview", interview.id, actor=user, at=now,
                 after={"title": title, "unit": unit.code})
    return interview


# status -> (the step's name, the status it may start from, the time column it sets)
STEPS = {"live": ("开始访谈", "scheduled", "started_at"), "ended": ("结束访谈", "live", "ended_at"),
         "published": ("发布实录", "ended", "published_at")}


def move(session, interview: Interview, to: str, user: User, now: datetime) -> None:
    """Open, end or publish the interview, one step at a time."""
    check_organiser(user)
    name, start, column = STEPS[to]
    if interview.status != start:
        raise InterviewError(f"本场访谈当前为“{interview.status_name}”，不能{name}")
    if to == "published":
        answered = session.execute(select(func.count()).select_from(InterviewQuestion).where(
            InterviewQuestion.interview_id == interview.id, InterviewQuestion.answer.is_not(None))).scalar()
        if not answered:
            raise InterviewError("还没有任何已答复的提问，实录没有内容可发布")
    before, interview.status = interview.status, to
    setattr(interview, column, now)
    audit.record(session, f"interview.{to}", "interview", interview.id, actor=user, at=now,
                 before={"status": before}, after={"status": to})
    if to == "live":   # the leader's office answers from now on: it may not be watching the list
        notify(session, spokespersons(session, interview.unit_id), f"【在线访谈开始】{interview.title}",
               f"{interview.guest}的在线访谈已开始，请{interview.unit.name}领导办公室打开“在线访谈 → 现场答复”，"
               f"答复监测中心采用的网友提问。", kind="interview_started", now=now)


# --- answers -----------------------------------------------------------------------------------

def can_answer(user: User, interview: Interview) -> bool:
    """The leader's office (a spokesperson of the interview's unit) or the monitoring centre."""
    return user.role == "monitor" or (user.role == "spokesperson" and user.unit_id == interview.unit_id)


def check_answer(district: District, text: str) -> list[Finding]:
    return [f for f in check_reply(district, text) if f.kind != "missing_part"]


def answer(session, district: District, question: InterviewQuestion, user: User, text: str, now: datetime, *,
           confirmed: bool = False) -> None:
    """The leader's answer to an adopted question, while the interview is on (or just ended, to
    finish the last ones), until the transcript is published. Refused with the check's findings;
    warnings only (NeedsConfirmation) go through once the office confirms."""
    interview = question.interview
    if not can_answer(user, interview):
        raise PermissionDenied("只有访谈单位的发言人（领导办公室）或舆情监测员可以录入答复")
    if interview.status not in ("live", "ended"):
        raise InterviewError("访谈开始后才能答复" if interview.status == "scheduled" else "实录已发布，答复不能再修改")
    if question.status != "adopted":
        raise InterviewError(f"第 {question.id} 号提问未被采用，不能答复")
    findings = check_answer(district, text)
    errors = [f.message for f in findings if f.severity == "error"]
    if errors:
        raise InterviewError("；".join(errors))
    if findings and not confirmed:
        raise NeedsConfirmation("；".join(f.message for f in findings) + "。核对无误请勾选“已核对”后再发送")
    first = question.answer is None
    question.answer, question.answered_by_id = text.strip(), user.id
    question.answered_at = question.answered_at or now
    audit.record(session, "interview.answered" if first else "interview.answer_edited", "interview", interview.id,
                 actor=user, at=now, after={"question_id": question.id})


# --- follow-up ---------------------------------------------------------------------------------

def suggested_unit(session, router: Router, question: InterviewQuestion) -> tuple[Unit | None, str]:
    """Where routing would send this question, and why: the collected post's unit if it came from one,
    else routing's decision on the text; the interview's own unit when routing cannot tell."""
    if question.post is not None and question.post.unit_id:
        return session.get(Unit, question.post.unit_id), "来自采集的帖子，按帖子的分拨单位"
    decision = router.route_batch([question.text])[0]
    unit = session.execute(select(Unit).where(Unit.code == decision.unit)).scalar_one_or_none()
    if decision.triage or unit is None or unit.kind == "centre":
        return question.interview.unit, f"自动分拨无法确定（{decision.reason}），默认为访谈单位"
    return unit, decision.reason


def follow_up(session, district: District, question: InterviewQuestion, unit: Unit | None, user: User, note: str,
              now: datetime):
    """需要跟进: an ordinary case for `unit`, linked both ways (the case's reason names the interview
    and the question; the question keeps the case). Returns the case."""
    interview = question.interview
    if not can_answer(user, interview):
        raise PermissionDenied("只有访谈单位的发言人（领导办公室）或舆情监测员可以转交跟进")
    if question.status != "adopted":
        raise InterviewError(f"第 {question.id} 号提问未被采用，不能转交办理")
    if question.case is not None:
        raise InterviewError(f"第 {question.id} 号提问已转交{question.case.unit.name}办理（工单 #{question.case_id}）")
    if unit is None or not unit.active:
        raise InterviewError("请选择承办单位")
    reason = (f"在线访谈「{interview.title}」网友「{question.nickname}」提问，需会后跟进办理：{question.text}"
              + (f"（说明：{note.strip()[:500]}）" if (note or "").strip() else ""))
    topic = question.post.topic if question.post is not None else None
    if topic is not None:
        case, _ = lifecycle.open_or_attach(session, district, topic, unit, priority="normal",
                                           category=topic.category, reason=reason, now=now)
    else:
        case = lifecycle.open_case(session, district, unit, title=f"在线访谈提问：{question.text}",
                                   priority="normal", category=None, reason=reason, now=now)
    question.case = case
    audit.record(session, "interview.follow_up", "interview", interview.id, actor=user, at=now,
                 after={"question_id": question.id, "case_id": case.id, "unit": unit.code})
    return case
