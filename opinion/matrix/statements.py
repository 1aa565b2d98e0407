"""Publishing from the unit's own account: the 统一发布稿 (权威发布, 情况通报, 辟谣, 通知).

A reply answers someone else's post; a statement is the unit speaking first, to everyone, under its
own name, so it is held to more than a reply: the same 错敏词 check (opinion.cases.replies), but a
wrong office name or a 情况通报 without its parts (the district's `situation_report_parts`) stops it
outright rather than asking the author to confirm, and every statement is approved by the unit's
head or a monitor (never its own author) before it goes out. It goes out through the account's
channel where one can publish (Weibo's `statuses/share`), at once or at its scheduled time;
otherwise it is recorded as published with the link where someone posted it by hand.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import func, select

from collectors import CollectorError, SourceNotConfigured, make_collector
from opinion import audit
from opinion.cases.replies import Finding, check_reply, rejection_note
from opinion.errors import CaseStateError, PermissionDenied, PublishError
from opinion.models import STATEMENT_KINDS, OfficialAccount, OfficialPost, Post, UnitStatement, User
from opinion.notify import notify
from opinion.settings.district import District

# On a statement these stop it; on a reply they are warnings the author may confirm.
_BLOCKING = {"erroneous", "missing_part"}


@dataclass
class Outcome:
    """What `submit` did: blocked (findings say why) or pending_approval."""

    status: str
    statement: UnitStatement
    findings: list[Finding]


def check_statement(district: District, kind: str, text: str) -> list[Finding]:
    """Everything wrong with `text` as a statement of this kind; errors stop it, warnings need a confirm."""
    parts = district.situation_report_parts if kind == "situation" else []
    found = check_reply(replace(district, reply_required_parts=parts), text)
    return [replace(f, severity="error", message=f"{f.message}（情况通报须写明）" if f.kind == "missing_part"
                    else f.message) if f.kind in _BLOCKING else f for f in found]


def can_draft(user: User, account: OfficialAccount) -> bool:
    """The unit's spokespersons write in its voice; a monitor may draft for any unit."""
    return user.role == "monitor" or (user.role == "spokesperson" and user.unit_id == account.unit_id)


def can_approve(user: User, statement: UnitStatement, rule: str = "head_or_monitor") -> bool:
    """A monitor, or (unless the district's `statement_approval` is monitor) the head of the
    account's unit; never the author (four eyes)."""
    if statement.author_id == user.id:
        return False
    return user.role == "monitor" or (rule == "head_or_monitor" and user.role == "spokesperson"
                                       and user.is_unit_head and user.unit_id == statement.account.unit_id)


def who_approves(rule: str) -> str:
    """The refusal's words for the district's `statement_approval`."""
    return ("本区设置发布稿仅由舆情监测中心审核" if rule == "monitor"
            else "只有本单位负责人或舆情监测员可以审核") + "，且不能审核自己起草的发布稿"


def save_draft(session, user: User, account: OfficialAccount, kind: str, text: str, now: datetime, *,
               statement: UnitStatement | None = None, topic_id: int | None = None,
               case_id: int | None = None, scheduled_at: datetime | None = None) -> UnitStatement:
    """Keep what the author wrote, whatever the check says next."""
    if not can_draft(user, account):
        raise PermissionDenied("只有本单位的新闻发言人或舆情监测员可以起草该账号的发布稿")
    if kind not in STATEMENT_KINDS:
        raise CaseStateError(f"未知的发布类型“{kind}”，请选择：{'、'.join(STATEMENT_KINDS.values())}")
    if statement is not None and not can_draft(user, statement.account):
        raise PermissionDenied("这份发布稿属于其他单位，不能修改")
    if statement is None:
        statement = UnitStatement(author_id=user.id, created_at=now)
        session.add(statement)
    elif statement.status not in ("draft", "rejected", "failed"):
        raise CaseStateError("该发布稿已提交审核或已发布，不能再修改")
    statement.account, statement.kind, statement.text = account, kind, (text or "").strip()[:20000]
    statement.topic_id, statement.case_id, statement.scheduled_at = topic_id, case_id, scheduled_at
    statement.status = "draft"
    session.flush()
    return statement


def approvers(session, statement: UnitStatement, exclude: User | None = None,
              rule: str = "head_or_monitor") -> list[User]:
    """Who is told a statement waits: the unit's heads, or the monitors where the unit has none
    (or where the district has the centre approve every statement)."""
    def active(*conditions):
        rows = session.execute(select(User).where(User.active.is_(True), *conditions)).scalars()
        return [u for u in rows if exclude is None or u.id != exclude.id]
    heads = (active(User.unit_id == statement.account.unit_id, User.is_unit_head.is_(True))
             if rule == "head_or_monitor" else [])
    return heads or active(User.role == "monitor")


def submit(session, district: District, statement: UnitStatement, user: User, now: datetime, *,
           confirmed: bool = False) -> Outcome:
    """Check, then send to approval; a blocked statement stays a draft (the caller commits)."""
    findings = check_statement(district, statement.kind, statement.text)
    if any(f.severity == "error" for f in findings) or (findings and not confirmed):
        return Outcome("blocked", statement, findings)
    statement.status, statement.review_note = "pending_approval", None
    audit.record(session, "statement.submitted", "unit_statement", statement.id, actor=user, at=now,
                 after={"kind": statement.kind, "account_id": statement.account_id})
    notify(session, approvers(session, statement, exclude=user, rule=district.statement_approval), f"待审核发布稿：{statement.kind_name}",
           f"{user.name} 提交了“{statement.account.handle}”的{statement.kind_name}，请审核。", now=now)
    return Outcome("pending_approval", statement, findings)


def approve(session, district: District, statement: UnitStatement, user: User, now: datetime, *,
            link: str | None = None) -> None:
    """An approver lets it go: published at once, or left approved until its scheduled time."""
    if statement.status != "pending_approval":
        raise CaseStateError("该发布稿不在待审核状态")
    if not can_approve(user, statement, district.statement_approval):
        raise PermissionDenied(who_approves(district.statement_approval))
    statement.status, statement.approver_id, statement.approved_at = "approved", user.id, now
    audit.record(session, "statement.approved", "unit_statement", statement.id, actor=user, at=now)
    if statement.scheduled_at is None or statement.scheduled_at <= now:
        publish(session, district, statement, now, link=link, actor=user)


def reject(session, statement: UnitStatement, user: User, note: str, now: datetime, *,
           rule: str = "head_or_monitor") -> None:
    """Send a pending statement back to its author with the reason."""
    note = rejection_note(statement.status, can_approve(user, statement, rule), note, "发布稿", who_approves(rule))
    statement.status, statement.review_note = "rejected", note
    if statement.author is not None:
        notify(session, [statement.author], f"发布稿被退回：{statement.kind_name}",
               f"{user.name} 退回了您的发布稿：{note[:500]}", kind="reply_rejected", now=now)
    audit.record(session, "statement.rejected", "unit_statement", statement.id, actor=user, at=now,
                 reason=note[:2000])


def channel(account: OfficialAccount):
    """The collector that can publish as this account, or None (then the link is pasted by hand)."""
    try:
        collector = make_collector(account.kind, account.config or {}, {})
    except SourceNotConfigured:
        return None
    return collector if callable(getattr(collector, "publish", None)) else None


def publish(session, district: District, statement: UnitStatement, now: datetime, *,
            link: str | None = None, actor: User | None = None) -> None:
    """Publish an approved statement through its account, or record the pasted link.

    Raises CaseStateError when it is not approved, fails the check or has neither channel nor link;
    PublishError (the statement marked failed, with the platform's answer) when the channel refuses.
    """
    if statement.status not in ("approved", "failed") or statement.approver_id is None:
        raise CaseStateError("发布稿未经审核，不能发布：请先提交本单位负责人或舆情监测员审核")
    # checked again: the district's word lists may have changed since it was approved
    errors = [f.message for f in check_statement(district, statement.kind, statement.text) if f.severity == "error"]
    if errors:
        raise CaseStateError("发布稿未通过校对，不能发布：" + "；".join(errors))
    collector = channel(statement.account)
    if collector is None:
        if not link:
            raise CaseStateError(f"账号“{statement.account.handle}”没有发布接口：请先在平台上发布，再填写发布链接")
        if not link.lower().startswith(("http://", "https://")):
            raise CaseStateError("发布链接须以 http:// 或 https:// 开头")
        url = link
    else:
        try:
            url = collector.publish(statement.text)
        except CollectorError as exc:
            statement.status, statement.last_error = "failed", str(exc)[:2000]
            audit.record(session, "statement.failed", "unit_statement", statement.id, actor=actor, at=now,
                         reason=str(exc)[:2000])
            raise PublishError(f"“{statement.account.handle}”发布失败：{exc}。发布稿已保留，可稍后重试") from exc
        # Counted in the matrix at once, not at the next collection; that run finds the same
        # platform id (the URL's last part) and only refreshes its figures.
        session.add(OfficialPost(account_id=statement.account_id, external_id=url.rstrip("/").rsplit("/", 1)[-1][:128],
                                 text=statement.text, url=url, created_at=now, collected_at=now))
    statement.status, statement.published_at, statement.published_url = "published", now, url
    statement.last_error = None
    audit.record(session, "statement.published", "unit_statement", statement.id, actor=actor, at=now,
                 after={"url": url})


def publish_due(session, district: District, now: datetime) -> list[str]:
    """Publish the approved statements whose time has come; one line per statement, for the log."""
    due = session.execute(select(UnitStatement).where(UnitStatement.status == "approved",
                                                      UnitStatement.scheduled_at <= now)
                          .order_by(UnitStatement.scheduled_at)).scalars().all()
    lines = []
    for statement in due:
        try:
            publish(session, district, statement, now)
            lines.append(f"发布稿 #{statement.id} 已发布：{statement.published_url}")
        except (PublishError, CaseStateError) as exc:
            lines.append(f"发布稿 #{statement.id} 未发布：{exc}")
    return lines


def for_topic(session, topic_id: int) -> list[UnitStatement]:
    """The published statements that answer a topic, newest first, for the topic page."""
    return list(session.execute(select(UnitStatement).where(UnitStatement.topic_id == topic_id,
                                                            UnitStatement.status == "published")
                                .order_by(UnitStatement.published_at.desc())).scalars())


@dataclass
class Reception:
    """The topic's posts in the hours before and after a statement: volume and negative share."""

    before: int
    before_negative: int
    after: int
    after_negative: int

    @staticmethod
    def share(negative: int, total: int) -> float | None:
        return negative / total if total else None

    @property
    def before_share(self) -> float | None:
        return self.share(self.before_negative, self.before)

    @property
    def after_share(self) -> float | None:
        return self.share(self.after_negative, self.after)


def reception(session, statement: UnitStatement, hours: int = 24) -> Reception | None:
    """How the topic's netizens spoke in the `hours` before and after the statement went out (their
    collected posts and comments, copies left out); None when it answers no topic or is not out."""
    if statement.topic_id is None or statement.published_at is None:
        return None
    span, at = timedelta(hours=hours), statement.published_at

    def counts(start, end):
        return session.execute(
            select(func.count(), func.count().filter(Post.polarity == "negative"))
            .where(Post.topic_id == statement.topic_id, Post.duplicate_of_id.is_(None),
                   Post.created_at >= start, Post.created_at < end)).one()
    before, after = counts(at - span, at), counts(at, at + span)
    return Reception(before[0], before[1], after[0], after[1])
