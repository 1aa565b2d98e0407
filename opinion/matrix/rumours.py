"""The 辟谣 workflow: a monitor marks a topic as a suspected rumour, the responsible unit verifies
it, and when it is untrue records the refutation it published; the topic's posts are then cut at
the refutation's time to show whether the refutation worked.

It lives beside the account matrix because a refutation is the unit's own post: the link may be
an OfficialPost the matrix collected. The verification rides on the topic's case (opened if
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
from opinion.models import RUMOUR_VERDICTS, Case, OfficialAccount, OfficialPost, Post, RumourCheck, Topic, Unit, User
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


def record_verification(session, check: RumourCheck, user: User, verdict: str, note: str, now: datetime, *,
                        refutation_url: str = "", refutation_at: datetime | None = None,
                        official_post_id: int | None = None) -> None:
    """The unit records what it found; an untrue rumour needs the refutation's link (or one of its
    collected posts, chosen), and its time is the collected post's when the matrix has it, else
    the time given, else now."""
    if user.role not in ("monitor", "admin") and not (user.role == "spokesperson" and user.unit_id == check.unit_id):
        raise PermissionDenied(f"只有{check.unit.name}的新闻发言人或舆情监测员可以登记核实结果")
    if check.status != "pending":
        raise CaseStateError("该疑似谣言已登记过核实结果")
    if verdict not in RUMOUR_VERDICTS:
        raise CaseStateError("核实结果应为属实、不实或部分不实")
    note = (note or "").strip()
    if not note:
        raise CaseStateError("请填写核实情况说明")
    chosen = session.get(OfficialPost, official_post_id) if official_post_id else None
    if chosen is not None and chosen.account.unit_id != check.unit_id:
        raise PermissionDenied("只能选择本单位账号发布的信息作为辟谣链接")
    url = (chosen.url or "").strip() if chosen is not None else (refutation_url or "").strip()
    if verdict != "true" and not url and chosen is None:
        raise CaseStateError("核实为不实的，请先发布辟谣，再填写辟谣信息的链接（本单位账号发布的网址）")
    if url and not url.startswith(("http://", "https://")):
        raise CaseStateError("辟谣链接应以 http:// 或 https:// 开头")
    post = chosen or (matching_official_post(session, check.unit_id, url) if url else None)
    check.verdict, check.verdict_note = verdict, note[:2000]
    check.verified_by_id, check.verified_at, check.status = user.id, now, "verified"
    if url or post is not None:
        check.refutation_url = url[:1000] or None
        check.official_post_id = post.id if post else None
        check.refutation_at = post.created_at if post else (refutation_at or now)
    audit.record(session, "topic.rumour_verified", "topic", check.topic_id, actor=user, at=now, reason=note[:2000],
                 after={"rumour_check_id": check.id, "verdict": verdict, "refutation_url": check.refutation_url,
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
