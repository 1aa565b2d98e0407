"""Questions to an interview: taken in from the public form, the API or a collected post, and screened.

Every question is checked on arrival (empty, too long, web code), its personal data masked with the
public lookup's masking (the original is kept for staff), and a near-identical copy of an earlier
question is merged into it at once: the same text once punctuation is set aside, or a SimHash within
the posts' near-duplicate distance (opinion.ingest.dedup). Monitors then adopt, reject (with the
reason) or merge by hand; a question holding a word of the district's 错敏词 list is adopted only
once the monitor confirms it was read.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from simhash import Simhash
from sqlalchemy import func, select

from opinion import audit
from opinion.cases.public import mask_personal
from opinion.cases.transfers import monitors
from opinion.errors import InterviewClosed, InterviewError, PermissionDenied
from opinion.ingest.dedup import NEAR_DISTANCE, fingerprint, to_hex
from opinion.models import Interview, InterviewQuestion, Notification, Post, User
from opinion.notify import notify
from opinion.settings.district import District

MAX_QUESTION = 500   # a question, not a letter: longer ones are for the 12345 form
MAX_NICKNAME = 20
OPEN_FOR_QUESTIONS = ("scheduled", "live")
# While an interview is on, monitors hear of new questions at most once in this long: a live
# interview takes a question a minute, and one notice tells them to look at the screening page.
NOTIFY_EVERY = timedelta(minutes=5)
# Any tag-like text: <script>, <img onerror=…>, <!-- …: the page escapes it, but it is no question.
_MARKUP = re.compile(r"<\s*[/!?]?\s*[A-Za-z]")
_NOT_WORD = re.compile(r"[\W_]+")


def open_interview(session, interview_id: int | None, slug: str | None = None) -> Interview:
    """The interview questions may be sent to; InterviewClosed for an unknown, ended or published one."""
    query = select(Interview).where(Interview.slug == slug) if slug is not None else \
        select(Interview).where(Interview.id == (interview_id or 0))
    interview = session.execute(query).scalar_one_or_none()
    if interview is None:
        raise InterviewClosed("没有这场在线访谈，请核对链接")
    if interview.status not in OPEN_FOR_QUESTIONS:
        raise InterviewClosed(f"本场访谈{interview.status_name}，不再接收提问")
    return interview


def question_problem(text: str, nickname: str) -> str | None:
    """Why this question cannot be taken, in words the netizen understands, or None."""
    text = (text or "").strip()
    if not text:
        return "请填写您的问题"
    if len(text) > MAX_QUESTION:
        return f"问题太长（{len(text)} 字），请精简到 {MAX_QUESTION} 字以内"
    if _MARKUP.search(text) or _MARKUP.search(nickname or ""):
        return "问题和昵称中不能包含网页代码（如 <script>），请只填写文字"
    if len((nickname or "").strip()) > MAX_NICKNAME:
        return f"昵称太长，请不超过 {MAX_NICKNAME} 字"
    return None


def _normalised(text: str) -> str:
    return _NOT_WORD.sub("", text).lower()


def _fingerprint(text: str) -> Simhash | None:
    """The SimHash of the text's character pairs. Words would do for posts, but a question is one
    sentence: a word more or less moves its word SimHash 8 bits, its pairs' 5 (a reworded
    question 19 or more)."""
    plain = _normalised(text)
    return fingerprint([plain[i:i + 2] for i in range(len(plain) - 1)])


def duplicate_of(session, interview: Interview, text: str,
                 exclude: int | None = None) -> tuple[InterviewQuestion | None, str | None]:
    """(the earliest question of the interview this text repeats, the new text's SimHash as hex)."""
    fp = _fingerprint(text)
    plain = _normalised(text)
    earlier = session.execute(select(InterviewQuestion).where(
        InterviewQuestion.interview_id == interview.id, InterviewQuestion.status != "merged",
        InterviewQuestion.id != (exclude or 0)).order_by(InterviewQuestion.id)).scalars()
    for question in earlier:
        if _normalised(question.text) == plain:
            return question, to_hex(fp) if fp else None
        if fp is not None and question.simhash and fp.distance(Simhash(int(question.simhash, 16))) <= NEAR_DISTANCE:
            return question, to_hex(fp)
    return None, to_hex(fp) if fp else None


def add_question(session, district: District, interview: Interview, text: str, nickname: str, now: datetime, *,
                 source: str = "form", post: Post | None = None) -> InterviewQuestion:
    """Take one question in: checked, masked, merged into an earlier copy if it is one.
    Raises InterviewClosed when the interview takes no questions, InterviewError for bad input."""
    if interview.status not in OPEN_FOR_QUESTIONS:
        raise InterviewClosed(f"本场访谈{interview.status_name}，不再接收提问")
    problem = question_problem(text, nickname)
    if problem:
        raise InterviewError(problem)
    original = text.strip()
    masked = mask_personal(original)
    twin, simhash = duplicate_of(session, interview, masked)
    question = InterviewQuestion(interview_id=interview.id, text=masked, original_text=original,
                                 nickname=mask_personal((nickname or "").strip()) or "网友", source=source,
                                 post_id=post.id if post else None, received_at=now, simhash=simhash)
    if twin is not None:
        question.status, question.merged_into_id = "merged", twin.id
        question.screening_note = f"与第 {twin.id} 号提问内容相同，已自动合并"
        question.screened_at = now
    session.add(question)
    session.flush()
    if interview.status == "live" and source != "post" and twin is None:
        _tell_monitors(session, interview, now)
    return question


def _tell_monitors(session, interview: Interview, now: datetime) -> None:
    """A netizen's new question to an interview in progress: the monitors screen it, told once per
    NOTIFY_EVERY at most (the notice says how many wait, so a later one is not needed to know)."""
    subject = f"【在线访谈新提问】#{interview.id} {interview.title}"[:200]
    told = session.execute(select(Notification.id).where(
        Notification.kind == "interview_question", Notification.subject == subject,
        Notification.created_at > now - NOTIFY_EVERY).limit(1)).first()
    if told:
        return
    waiting = session.execute(select(func.count()).select_from(InterviewQuestion).where(
        InterviewQuestion.interview_id == interview.id, InterviewQuestion.status == "pending")).scalar()
    notify(session, monitors(session), subject,
           f"访谈进行中，网友提问待筛选 {waiting} 条，请打开“在线访谈 → 筛选提问”处理。", kind="interview_question", now=now)


def add_from_post(session, district: District, interview: Interview, post: Post, now: datetime) -> InterviewQuestion:
    """A collected post (a netizen asking under the interview's announcement) taken in as a question."""
    return add_question(session, district, interview, (post.text or post.raw_text)[:MAX_QUESTION],
                        (post.author or "网友")[:MAX_NICKNAME], now, source="post", post=post)


# --- screening ---------------------------------------------------------------------------------

def check_screener(user: User) -> None:
    if user.role not in ("monitor", "admin"):
        raise PermissionDenied("只有舆情监测员可以筛选访谈提问")


def sensitive_words_in(district: District, text: str) -> list[str]:
    """The words of the 错敏词 list (the reply check's) that the text holds."""
    return [w for w in district.sensitive_words if w and w in (text or "")]


def _screened(session, question: InterviewQuestion, user: User, now: datetime, status: str,
              note: str | None = None, into: InterviewQuestion | None = None) -> None:
    before = question.status
    question.status, question.screening_note = status, note
    question.merged_into_id = into.id if into else None
    question.screened_by_id, question.screened_at = user.id, now
    audit.record(session, "interview.question_screened", "interview", question.interview_id, actor=user, at=now,
                 reason=note, before={"status": before},
                 after={"question_id": question.id, "status": status,
                        **({"merged_into": into.id} if into else {})})


def adopt(session, district: District, question: InterviewQuestion, user: User, now: datetime, *,
          confirmed: bool = False) -> None:
    """采用: the question goes to the leader's office. One holding a 错敏词 word only when confirmed."""
    check_screener(user)
    if question.answer:
        raise InterviewError("该提问已答复，不能再改变筛选结果")
    words = sensitive_words_in(district, question.text)
    if words and not confirmed:
        raise InterviewError(f"第 {question.id} 号提问含敏感词“{'、'.join(words)}”：请核对内容，"
                             "勾选“已核对”后再采用，或选择不采用")
    _screened(session, question, user, now, "adopted")


def reject(session, question: InterviewQuestion, user: User, reason: str, now: datetime) -> None:
    """不采用, with the reason (与主题无关、人身攻击、广告…), kept for the record and never published."""
    check_screener(user)
    if question.answer:
        raise InterviewError("该提问已答复，不能再改变筛选结果")
    reason = (reason or "").strip()
    if not reason:
        raise InterviewError("不采用须说明理由，例如“与访谈主题无关”")
    _screened(session, question, user, now, "rejected", reason[:500])


def merge(session, question: InterviewQuestion, into: InterviewQuestion | None, user: User, now: datetime) -> None:
    """合并 into another question of the same interview: answered once, counted on that one."""
    check_screener(user)
    if into is None or into.interview_id != question.interview_id:
        raise InterviewError("请选择本场访谈中要合并到的提问编号")
    while into.merged_into_id is not None and into.merged_into is not None:
        into = into.merged_into
    if into.id == question.id:
        raise InterviewError("不能把提问合并到它自己")
    if question.answer:
        raise InterviewError("该提问已答复，不能再合并")
    _screened(session, question, user, now, "merged", f"与第 {into.id} 号提问相同，已合并", into)
    for copy in session.execute(select(InterviewQuestion).where(
            InterviewQuestion.merged_into_id == question.id)).scalars():
        copy.merged_into_id = into.id   # its own copies follow it: one level, always


def question_of_case(session, case_id: int) -> InterviewQuestion | None:
    """The interview question a case was opened for (the case page names where it came from)."""
    return session.execute(select(InterviewQuestion).where(InterviewQuestion.case_id == case_id)
                           .limit(1)).scalar_one_or_none()
