"""The satisfaction survey (回访) that reaches the citizen.

When a case is resolved the citizen gets a link: on the public lookup page (the code the reply
carried leads there) and by SMS where the case knows a phone number. The link works once and
until the case would close for want of an answer (callback_no_answer_days); the answer is the
case's callback with the same effects as a monitor's phone callback (不满意 reopens it), which
stays possible: whichever comes first counts, the other is then refused.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update

from opinion import audit
from opinion.cases import lifecycle
from opinion.errors import CaseStateError
from opinion.labels import SATISFACTION_NAMES
from opinion.models import Case, SurveyLink, User
from opinion.notify import notify
from opinion.settings.district import District

__all__ = ["resolve", "issue_link", "link_for", "answer", "survey_url", "LinkUnusable"]

MAX_COMMENT = 1000


class LinkUnusable(CaseStateError):
    """The link is unknown, used, expired, or its case no longer awaits a callback; one answer
    for all, so a link cannot be probed."""

    def __init__(self):
        super().__init__("该回访链接已使用或已失效。如需反映意见，请通过查询码查看办理进度，或拨打政务服务热线。")


def survey_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/p/survey/{token}"


def issue_link(session, district: District, case: Case, now: datetime, *, base_url: str) -> SurveyLink:
    """A new survey link for a resolved case; an SMS with it where the case has a phone number."""
    link = SurveyLink(case_id=case.id, token=secrets.token_urlsafe(24), created_at=now,
                      expires_at=now + timedelta(days=district.callback_no_answer_days))
    session.add(link)
    session.flush()
    if case.contact_phone:
        notify(session, [case.contact_phone], "办理结果回访",
               f"您反映的“{case.title[:40]}”已办结，请评价：{survey_url(base_url, link.token)}"
               f"（{district.callback_no_answer_days}天内有效，仅可提交一次）",
               channels=("sms",), case=case, now=now)
    return link


def resolve(session, district: District, case: Case, user: User, note: str, now: datetime, *,
            base_url: str) -> SurveyLink:
    """办结 (opinion.cases.lifecycle.resolve), then the citizen's survey link."""
    lifecycle.resolve(session, case, user, note, now)
    return issue_link(session, district, case, now, base_url=base_url)


def link_for(session, token: str | None, now: datetime) -> SurveyLink:
    """The usable link with this token, or LinkUnusable."""
    link = session.execute(select(SurveyLink).where(SurveyLink.token == (token or "")[:64])
                           ).scalar_one_or_none() if token else None
    if link is None or link.used_at is not None or link.expires_at <= now or link.case.status != "resolved":
        raise LinkUnusable()
    return link


def answer(session, district: District, token: str | None, satisfaction: str, comment: str,
           now: datetime) -> Case:
    """Record the citizen's answer as the case's callback; the link is spent in the same
    transaction, claimed by a conditional UPDATE so two submissions at once count once."""
    link = link_for(session, token, now)
    if satisfaction not in SATISFACTION_NAMES:
        raise CaseStateError("请选择您的评价：满意、基本满意或不满意")
    comment = (comment or "").strip()[:MAX_COMMENT]
    claimed = session.execute(update(SurveyLink).where(SurveyLink.id == link.id, SurveyLink.used_at.is_(None))
                              .values(used_at=now, satisfaction=satisfaction, comment=comment or None)
                              .execution_options(synchronize_session="fetch"))
    if claimed.rowcount != 1:
        raise LinkUnusable()
    case = link.case
    lifecycle.apply_callback(session, district, case, None, satisfaction, comment, now, channel="survey")
    audit.record(session, "case.survey_answered", "case", case.id, at=now,
                 after={"satisfaction": satisfaction, "link": link.id}, reason=comment or None)
    return case
