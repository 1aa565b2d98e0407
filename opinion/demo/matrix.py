"""The demo's 政务微博矩阵: every unit with an official account, a month of its own posts, a few
accounts gone quiet (僵尸号) and one that never answers the comments under its posts, and two
statements published through the real workflow (drafted, checked, approved by the unit head): a
情况通报 on the hottest topic and a 辟谣 on another, verified as untrue, with posts on both sides
of it for the before/after comparison. So the matrix, topic and report pages have something true
to show.

Demo accounts are marked `demo` in their config: the matrix collector leaves them as seeded
instead of calling a platform that does not exist, and a statement goes out "by hand" with a link.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from opinion.matrix import rumours, statements
from opinion.models import OfficialAccount, OfficialPost, Post, Topic, Unit, User, utcnow
from opinion.settings.district import District

NOTICES = ["关于{u}近期重点工作的通报", "{u}便民服务事项办理指南", "{u}提醒：注意防范电信网络诈骗",
           "{u}政务公开：本月工作动态", "{u}关于群众来信来电办理情况的说明", "{u}节假日值班安排"]


def seed_matrix(session, echo=print) -> bool:
    """Every active unit's account and its posts; False (nothing added) when accounts exist."""
    if session.execute(select(func.count()).select_from(OfficialAccount)).scalar():
        echo("政务账号已存在，不再重复生成")
        return False
    rng = random.Random(22)
    now = utcnow()
    units = session.execute(select(Unit).where(Unit.active.is_(True)).order_by(Unit.id)).scalars().all()
    silent = 0
    silent_to_comments = None   # the one busy Weibo account that answers no comment
    for index, unit in enumerate(units):
        platform = "wechat" if unit.kind == "street" else "weibo"
        short = unit.name.removeprefix("区")
        account = OfficialAccount(unit=unit, platform=platform, handle=f"海曙{short}" + ("发布" if platform == "weibo" else ""),
                                  url=f"https://weibo.com/demo{unit.id}" if platform == "weibo" else None,
                                  responsible=f"{unit.name}宣传科", config={"demo": True}, state={}, status="ok",
                                  interval_seconds=3600, last_run_at=now, last_success_at=now,
                                  followers=rng.randint(800, 60000) if platform == "weibo" else rng.randint(300, 8000),
                                  created_at=now - timedelta(days=90))
        session.add(account)
        session.flush()
        quiet = index % 5 == 3   # every fifth unit's account has gone quiet
        silent += quiet
        newest = timedelta(days=rng.randint(10, 25)) if quiet else timedelta(hours=rng.randint(1, 40))
        mute = platform == "weibo" and unit.kind != "centre" and not quiet and silent_to_comments is None
        silent_to_comments = account if mute else silent_to_comments
        comments = {}
        for n in range(rng.randint(2, 4) if quiet else rng.randint(6, 20)):
            at = now - newest - timedelta(hours=n * rng.randint(20, 60))
            account.posts_total = (account.posts_total or 0) + 1
            kept = _comments(rng, at, now, answers=not mute, at_least=3 if mute and n == 0 else 0)
            if platform == "weibo":
                comments[f"demo-{account.id}-{n}"] = kept
            session.add(OfficialPost(account_id=account.id, external_id=f"demo-{account.id}-{n}",
                                     text=rng.choice(NOTICES).format(u=unit.name), created_at=at, collected_at=now,
                                     reposts=rng.randint(0, 30), comments=kept["n"], likes=rng.randint(0, 200)))
        if platform == "weibo":   # as the collector keeps them (opinion.matrix.collect.read_comments)
            account.state = {"comments": comments}
    session.commit()
    echo(f"政务矩阵：{len(units)} 个单位各一个政务账号，其中 {silent} 个长期未发布（僵尸号），"
         f"{1 if silent_to_comments else 0} 个从不回复评论")
    return True


def _comments(rng: random.Random, posted: datetime, now: datetime, answers: bool, at_least: int = 0) -> dict:
    """A post's comments as the collector keeps them: netizens' comment times in the two days after
    it, and (for an account that answers) the account's answers to about a third of them."""
    span = max(int(min(2880, (now - posted).total_seconds() / 60)), 6)   # none in the future
    others = sorted((posted + timedelta(minutes=rng.randint(5, span)) for _ in range(max(rng.randint(0, 8), at_least))),
                    reverse=True)
    replies = [t + timedelta(minutes=rng.randint(10, 120)) for t in others[::3]] if answers else []
    replies = [t for t in replies if t <= now]
    return {"n": len(others) + len(replies), "others": [t.isoformat() for t in others],
            "answers": [t.isoformat() for t in replies]}


# A topic whose words fit a rumour (a false report of harm) is the demo's 辟谣; else the second hottest.
RUMOUR_HINTS = ("泄漏", "溺水", "过期食品", "异味", "事故")


def seed_statements(session, district: District, echo=print) -> None:
    """The 情况通报 on the hottest topic and the 辟谣 on a rumour topic, through the real workflow."""
    # the topics netizens complain most about (a praised park is not what a 情况通报 answers)
    topics = session.execute(select(Topic).where(Topic.unit_id.is_not(None), Topic.status != "merged",
                                                 Topic.post_count >= 5)
                             .order_by(Topic.negative_count.desc(), Topic.id).limit(20)).scalars().all()
    if len(topics) < 2:
        echo("发布稿：还没有话题，未生成情况通报与辟谣")
        return
    now = utcnow()
    rumour_topic = next((t for t in topics[1:] if any(w in (t.label or "") for w in RUMOUR_HINTS)), topics[1])
    hot = next(t for t in topics if t is not rumour_topic)
    monitor = session.execute(select(User).where(User.role == "monitor").order_by(User.id)).scalars().first()
    zone = ZoneInfo(district.timezone)

    at = min(hot.first_seen_at + timedelta(hours=3), now - timedelta(hours=1))
    local = at.astimezone(zone)
    situation = (f"【情况通报】{local.month}月{local.day}日{'上午' if local.hour < 12 else '下午'}，"
                 f"{hot.unit.name}接到群众反映“{hot.label}”的有关情况。事发地点位于相关路段及周边小区。"
                 f"接报后，我单位已组织工作人员赶赴现场调查核实并开展处置，下一步将持续跟进，处理结果及时向社会公布。"
                 f"如有疑问，请拨打咨询电话 0574-87654321 或 12345 热线。")
    published = _publish(session, district, hot, "situation", situation, at, now)

    posts = [p.created_at for p in session.execute(select(Post).where(Post.topic_id == rumour_topic.id)
                                                   .order_by(Post.created_at)).scalars()]
    cut = _busiest_cut(posts, now)
    refuted = None
    if cut is not None and monitor is not None:
        check = rumours.mark_rumour(session, district, rumour_topic, rumour_topic.unit, monitor,
                                    "网传内容与现场情况不符，请核实", cut - timedelta(hours=2))
        text = (f"【辟谣】近日网传“{rumour_topic.label}”一事，经{rumour_topic.unit.name}调查核实，相关说法与事实不符。"
                f"请广大网友不信谣、不传谣，以官方发布信息为准。如有疑问，请拨打 12345 热线咨询。")
        refuted = _publish(session, district, rumour_topic, "rumour", text, cut, now)
        if refuted is not None:
            author = _people(session, rumour_topic.unit_id)[0]
            rumours.record_verification(session, check, author, "false", "经现场核查，网传内容不实，已发布辟谣",
                                        cut + timedelta(hours=1), statement_id=refuted.id)
    session.commit()
    echo(f"发布稿：情况通报 {'1' if published else '0'} 篇（话题 #{hot.id}），"
         f"辟谣 {'1' if refuted else '0'} 篇（话题 #{rumour_topic.id}）")


def _people(session, unit_id: int) -> tuple[User | None, User | None]:
    """(a spokesperson who drafts, the unit's head who approves)."""
    users = session.execute(select(User).where(User.unit_id == unit_id, User.role == "spokesperson",
                                               User.active.is_(True)).order_by(User.id)).scalars().all()
    return (next((u for u in users if not u.is_unit_head), None), next((u for u in users if u.is_unit_head), None))


def _publish(session, district: District, topic: Topic, kind: str, text: str, at: datetime, now: datetime):
    """Draft, submit and approve a statement of `topic`'s unit at `at`; the unit's post as the
    matrix would have collected it. None when the unit lacks an account or the people to do it."""
    account = session.execute(select(OfficialAccount).where(OfficialAccount.unit_id == topic.unit_id)
                              .order_by(OfficialAccount.id)).scalars().first()
    author, head = _people(session, topic.unit_id)
    if account is None or author is None or head is None:
        return None
    statement = statements.save_draft(session, author, account, kind, text, at - timedelta(minutes=40),
                                      topic_id=topic.id)
    if statements.submit(session, district, statement, author, at - timedelta(minutes=30),
                         confirmed=True).status == "blocked":
        return None
    link = (account.url or f"https://mp.weixin.qq.com/s/demo{account.id}").rstrip("/") + f"/s{statement.id}"
    statements.approve(session, district, statement, head, at, link=link)
    session.add(OfficialPost(account_id=account.id, external_id=f"demo-statement-{statement.id}", text=text,
                             url=link, created_at=at, collected_at=now, reposts=12, comments=0, likes=86))
    return statement


def _busiest_cut(times: list[datetime], now: datetime) -> datetime | None:
    """The post time with the most posts in the day before it and at least two in the day after:
    where a refutation would have been published, and where the comparison says something."""
    best, best_before = None, 0
    for t in times:
        if t > now - timedelta(hours=2):
            break
        before = sum(1 for u in times if t - timedelta(hours=24) <= u < t)
        after = sum(1 for u in times if t <= u < t + timedelta(hours=24))
        if after >= 2 and before > best_before:
            best, best_before = t, before
    return best
