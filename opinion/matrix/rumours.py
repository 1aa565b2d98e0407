"""The 辟谣 workflow: a monitor marks a topic as a suspected rumour, the responsible unit verifies
it, and when it is untrue links the refutation it published; the topic's posts are then cut at
the refutation's time to show whether the refutation worked.

It lives beside the account matrix because a refutation is the unit's own voice: one of its
published 辟谣 statements (approved like any statement), or a post of its account the matrix
collected; never a link typed in, whose time nobody could vouch for. The verification rides on the topic's case (opened if
there is none) so the unit's spokesperson finds it where the rest of its work is, under the
case's deadlines.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from opinion import audit
from opinion.cases.duty import spokespersons
from opinion.cases.lifecycle import check_monitor, open_key, open_or_attach
from opinion.errors import CaseStateError, PermissionDenied
from opinion.models import (
    RUMOUR_VERDICTS,
    Case,
    OfficialAccount,
    OfficialPost,
    Post,
    RumourCheck,
    Topic,
    Unit,
    UnitStatement,
    User,
)
from opinion.notify import notify
from opinion.settings.district import District

# How far either side of the refutation the comparison looks: a day is what the 辟谣 reviews
# compare (the rumour's run before, its tail after), and it keeps a weeks-old topic's quiet
# start from diluting the "before" rate.
WINDOW = timedelta(hours=24)


def mark_rumour(session, district: District, topic: Topic, unit: Unit, user: User, note: str,
                now: datetime) -> RumourCheck:
    """A monitor marks `topic` as a suspected rumour for `unit` to verify; the topic's open case
    for the unit carries the 核实 task (one is opened if none), and its spokespersons are told."""
    check_monitor(user, "标记疑似谣言")
    note = (note or "").strip()
    if not note:
        raise CaseStateError("标记疑似谣言须说明依据（例如：与官方通报不符之处）")
    pending = session.execute(select(RumourCheck.id).where(
        RumourCheck.topic_id == topic.id, RumourCheck.unit_id == unit.id,
        RumourCheck.status == "pending")).first()
    if pending:
        raise CaseStateError(f"该话题已标记为疑似谣言，正等待{unit.name}核实")
    # The topic's open case for the unit carries the task as it is (its priority and deadlines were
    # set by what netizens said); a rumour with no case yet gets one at 重要, a rumour spreads fast.
    case = session.execute(select(Case).where(Case.open_key == open_key(topic.id, unit.id))).scalar_one_or_none()
    if case is None:
        case, _ = open_or_attach(session, district, topic, unit, priority="high", category=topic.category,
                                 reason=f"疑似谣言待核实：{note[:200]}", now=now)
    check = RumourCheck(topic_id=topic.id, unit_id=unit.id, case_id=case.id, note=note[:2000],
                        marked_by_id=user.id, marked_at=now, status="pending")
    session.add(check)
    session.flush()
    audit.record(session, "topic.rumour_marked", "topic", topic.id, actor=user, at=now, reason=note[:2000],
                 after={"rumour_check_id": check.id, "unit": unit.code, "case_id": case.id})
    audit.record(session, "case.rumour_check_added", "case", case.id, actor=user, at=now, reason=note[:2000],
                 after={"rumour_check_id": check.id, "topic_id": topic.id})
    notify(session, spokespersons(session, unit.id), f"【疑似谣言核实】话题 #{topic.id}「{topic.label or '未命名话题'}」",
           f"舆情监测中心将该话题标记为疑似谣言，请{unit.name}核实并登记结果（属实 / 不实 / 部分不实）；"
           f"不实的请发布辟谣并登记链接。依据：{note}", case=case, kind="rumour_check", now=now)
    return check


def matching_official_post(session, unit_id: int, url: str) -> OfficialPost | None:
    """The unit's collected post at `url`, if the matrix has it (its time is then the platform's)."""
    return session.execute(select(OfficialPost).join(OfficialAccount)
                           .where(OfficialAccount.unit_id == unit_id, OfficialPost.url == url)
                           .limit(1)).scalar_one_or_none()


def recent_official_posts(session, check: RumourCheck, limit: int = 20) -> list[OfficialPost]:
    """The unit's collected posts since the day before the mark: the refutation is likely one."""
    return session.execute(select(OfficialPost).join(OfficialAccount)
                           .where(OfficialAccount.unit_id == check.unit_id,
                                  OfficialPost.created_at >= check.marked_at - timedelta(days=1))
                           .order_by(OfficialPost.created_at.desc()).limit(limit)).scalars().all()


def published_refutations(session, check: RumourCheck, limit: int = 20) -> list[UnitStatement]:
    """The unit's published 辟谣 statements a verification may link: those answering this topic
    first, then the others since the week before the mark, newest first."""
    rows = session.execute(select(UnitStatement).join(OfficialAccount)
                           .where(OfficialAccount.unit_id == check.unit_id, UnitStatement.kind == "rumour",
                                  UnitStatement.status == "published",
                                  UnitStatement.published_at >= check.marked_at - timedelta(days=7))
                           .order_by(UnitStatement.published_at.desc()).limit(limit)).scalars().all()
    return sorted(rows, key=lambda s: s.topic_id != check.topic_id)


def refutation_statement(session, check: RumourCheck) -> UnitStatement | None:
    """The unit's published statement a verification linked, if the refutation was one."""
    return check.statement


def refutation_text(session, check: RumourCheck) -> dict | None:
    """What the refutation said, by whom and when, for the topic page and the special report:
    the linked statement, else the collected post; None before a refutation is linked."""
    if check.refutation_at is None:
        return None
    statement = refutation_statement(session, check)
    post = check.official_post
    source = statement or post
    return {"text": (statement.text if statement else post.text if post else ""),
            "account": source.account.handle if source else "", "unit": check.unit.name,
            "at": check.refutation_at, "url": check.refutation_url,
            "kind": statement.kind_name if statement else "本单位账号发布"}


def record_verification(session, check: RumourCheck, user: User, verdict: str, note: str, now: datetime, *,
                        statement_id: int | None = None, official_post_id: int | None = None) -> None:
    """The unit records what it found. An untrue rumour needs its refutation: one of the unit's
    published 辟谣 statements (opinion.matrix.statements) or, where it posted on the platform
    directly, one of its posts the matrix collected; the refutation's time, where the topic's
    posts are cut into before and after, is that statement's or post's publication time."""
    if user.role not in ("monitor", "admin") and not (user.role == "spokesperson" and user.unit_id == check.unit_id):
        raise PermissionDenied(f"只有{check.unit.name}的新闻发言人或舆情监测员可以登记核实结果")
    if check.status != "pending":
        raise CaseStateError("该疑似谣言已登记过核实结果")
    if verdict not in RUMOUR_VERDICTS:
        raise CaseStateError("核实结果应为属实、不实或部分不实")
    note = (note or "").strip()
    if not note:
        raise CaseStateError("请填写核实情况说明")
    statement = session.get(UnitStatement, statement_id) if statement_id else None
    if statement is not None and statement.account.unit_id != check.unit_id:
        raise PermissionDenied("只能选择本单位发布的辟谣稿")
    if statement is not None and (statement.status != "published" or statement.kind != "rumour"):
        raise CaseStateError("所选发布稿不是已发布的辟谣：请待其审核发布后再登记")
    chosen = session.get(OfficialPost, official_post_id) if official_post_id and statement is None else None
    if chosen is not None and chosen.account.unit_id != check.unit_id:
        raise PermissionDenied("只能选择本单位账号发布的信息作为辟谣")
    if verdict != "true" and statement is None and chosen is None:
        raise CaseStateError("核实为不实的，请选择本单位已发布的辟谣稿；还没有的，请先起草辟谣稿，审核发布后再登记")
    check.verdict, check.verdict_note = verdict, note[:2000]
    check.verified_by_id, check.verified_at, check.status = user.id, now, "verified"
    if statement is not None:
        check.statement_id = statement.id
        check.refutation_url, check.refutation_at = statement.published_url, statement.published_at
        chosen = matching_official_post(session, check.unit_id, statement.published_url or "")
        check.official_post_id = chosen.id if chosen else None
    elif chosen is not None:
        check.refutation_url, check.refutation_at, check.official_post_id = chosen.url, chosen.created_at, chosen.id
    audit.record(session, "topic.rumour_verified", "topic", check.topic_id, actor=user, at=now, reason=note[:2000],
                 after={"rumour_check_id": check.id, "verdict": verdict, "refutation_url": check.refutation_url,
                        "statement_id": statement.id if statement else None,
                        "refutation_at": check.refutation_at.isoformat() if check.refutation_at else None})


def checks_on_topic(session, topic_id: int) -> list[RumourCheck]:
    return session.execute(select(RumourCheck).where(RumourCheck.topic_id == topic_id)
                           .order_by(RumourCheck.id)).scalars().all()


def checks_on_case(session, case_id: int) -> list[RumourCheck]:
    return session.execute(select(RumourCheck).where(RumourCheck.case_id == case_id)
                           .order_by(RumourCheck.id)).scalars().all()


def refuted_check(session, topic_id: int) -> RumourCheck | None:
    """The topic's latest check with a refutation time, the one the comparison cuts at."""
    return session.execute(select(RumourCheck).where(RumourCheck.topic_id == topic_id,
                                                     RumourCheck.refutation_at.is_not(None))
                           .order_by(RumourCheck.refutation_at.desc()).limit(1)).scalar_one_or_none()


def _side(session, topic_id: int, start: datetime, end: datetime) -> tuple[int, int, datetime | None]:
    """Posts, negative posts and the first post's time in [start, end)."""
    total, negative, first = session.execute(
        select(func.count(Post.id), func.count(Post.id).filter(Post.polarity == "negative"), func.min(Post.created_at))
        .where(Post.topic_id == topic_id, Post.created_at >= start, Post.created_at < end)).one()
    return total, negative, first


def before_after(session, topic_id: int, at: datetime, now: datetime, window: timedelta = WINDOW) -> dict:
    """The topic's posts in the day before the refutation `at` and the day from it: volume per
    hour and negative share on each side, and the sentence the pages show.

    A post at `at` itself counts after. The before side's hours run from its first post (a
    topic younger than the window is not diluted by hours it did not exist), the after side's up
    to now while the window is still running; either is at least one hour.
    """
    b_total, b_neg, b_first = _side(session, topic_id, at - window, at)
    a_end = min(at + window, max(now, at))
    a_total, a_neg, _ = _side(session, topic_id, at, at + window)
    hours_before = max((at - (b_first or at)).total_seconds() / 3600, 1.0)
    hours_after = max((a_end - at).total_seconds() / 3600, 1.0)
    figures = {
        "at": at, "before_posts": b_total, "after_posts": a_total,
        "before_per_hour": round(b_total / hours_before, 1), "after_per_hour": round(a_total / hours_after, 1),
        "before_negative": round(100 * b_neg / b_total) if b_total else None,
        "after_negative": round(100 * a_neg / a_total) if a_total else None,
    }
    figures["sentence"] = sentence(figures)
    return figures


def _change(before, after, unit: str) -> str:
    if before is None or after is None:
        return "无法比较（一侧没有帖子）"
    verb = "降至" if after < before else "升至" if after > before else "持平于"
    return f"由 {before:g}{unit} {verb} {after:g}{unit}" if verb != "持平于" else f"{verb} {after:g}{unit}"


def sentence(f: dict) -> str:
    return (f"辟谣后每小时帖子数{_change(f['before_per_hour'], f['after_per_hour'], '')}，"
            f"负面占比{_change(f['before_negative'], f['after_negative'], '%')}")
