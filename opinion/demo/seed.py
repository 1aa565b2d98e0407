"""`seed-demo`: a district with people, a stream of posts and cases in every state.

Posts are fed through the real ingest pipeline in time order, as if collected live, and the cases
are then worked as an ordinary Monday finds them: the older ones answered and finished on time, the
last day's fresh, one or two left to slip (the ladder escalates those), and work waiting in the inbox
of every spokesperson the README names. A demo that opened on 20 of 48 cases at 专报批办 and 44 red
alerts taught a new user that the system cries wolf. Running it again adds nothing.
"""
from __future__ import annotations

import random
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from collectors.base import NormalisedPost
from collectors.demo import generate
from opinion.accounts.directory import ensure_user, sync_units
from opinion.cases import lifecycle as case_service
from opinion.cases.templates import load_templates
from opinion.cases.triage import reassign_to_unit
from opinion.demo.interviews import seed_interview
from opinion.demo.matrix import seed_matrix, seed_statements
from opinion.errors import OpinionError
from opinion.ingest.collect import record_received
from opinion.jobs import ladder_pass
from opinion.models import Case, DutyShift, Post, Source, Unit, User, db, utcnow
from opinion.pipeline.batch import ingest

DEMO_PASSWORD = "demo2026"
REPLIES = [
    "网友您好！您反映的问题已收悉，我单位已安排工作人员到现场核实，将尽快处理并反馈结果。感谢您的监督！",
    "您好，感谢您的关注。经核查，相关情况属实，我们已责成责任单位立即整改，整改结果将及时向社会公布。",
    "网友您好！针对您反映的问题，我们已联系相关部门联合处置，目前正在处理中，请您耐心等待。",
]


def seed_demo(app, n_posts: int = 900, days: int = 21, echo=print) -> None:
    district = app.extensions["district"]
    session = db.session
    created, updated = sync_units(session, district)
    units = {u.code: u for u in session.execute(select(Unit)).scalars()}
    accounts = _seed_users(session, units, district.monitoring_centre)
    added, _ = load_templates(session)
    session.commit()
    echo(f"单位：新增 {created}，更新 {updated}，共 {len(units)} 个；口径库新增 {added} 条")

    source = session.execute(select(Source).where(Source.code == "demo")).scalar_one_or_none()
    if source is None:
        source = Source(code="demo", name="演示数据流（区政务微博@提及）", kind="demo", enabled=True,
                        interval_seconds=300, status="never", config={"per_run": 3}, state={})
        session.add(source)
        session.commit()
    have = session.execute(select(func.count()).select_from(Post).where(Post.source_id == source.id)).scalar()
    if have:
        echo(f"演示帖子已存在（{have} 条），不再重复生成")
    else:
        _seed_posts(app, source, n_posts, days, echo)
        _fresh_work_for_named_spokespersons(app, source, echo)
        _answer_some(session, echo)
        _seed_roster(session, units)
        fired = ladder_pass(session, district, utcnow())
        session.commit()
        echo(f"督办检查：{len(fired)} 项")
    if seed_matrix(session, echo):
        seed_statements(session, district, echo)
    seed_interview(session, district, echo)
    echo("")
    echo(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
    for username, what in accounts:
        echo(f"  {username:<14} {what}")


def _seed_users(session, units: dict[str, Unit], centre: str) -> list[tuple[str, str]]:
    ensure_user(session, "admin", "系统管理员", "admin", DEMO_PASSWORD)
    ensure_user(session, "leader", "区领导（分管网信）", "leader", DEMO_PASSWORD)
    for i in (1, 2):
        ensure_user(session, f"monitor{i}", f"监测员{i}号", "monitor", DEMO_PASSWORD, units[centre])
    for code, unit in sorted(units.items()):
        if unit.kind == "centre":
            continue
        ensure_user(session, f"{code}_fyr", f"{unit.name}发言人", "spokesperson", DEMO_PASSWORD, unit)
        ensure_user(session, f"{code}_head", f"{unit.name}负责人", "spokesperson", DEMO_PASSWORD, unit,
                    is_unit_head=True)
    return [("admin", "系统管理员"), ("leader", "领导看板"), ("monitor1", "舆情监测台"),
            *[(f"{code}_fyr", f"发言人：{units[code].name}") for code in NAMED_UNITS if code in units],
            ("<单位代码>_fyr", "每个单位的发言人（代码见 opinion/district.yaml）")]


def _seed_posts(app, source: Source, n_posts: int, days: int, echo) -> None:
    end = utcnow() - timedelta(minutes=10)
    posts = generate(n_posts, end - timedelta(days=days), end)
    batch: list[NormalisedPost] = []
    opened = 0
    for i, p in enumerate(posts, start=1):
        batch.append(NormalisedPost(external_id=p.external_id, text=p.text, created_at=p.created_at,
                                    author=p.author, author_followers=p.followers, reposts=p.reposts,
                                    comments=p.comments, likes=p.likes, payload={"generator": "demo"}))
        if len(batch) == 25 or i == len(posts):
            report = ingest(db.session, app, source, batch, now=batch[-1].created_at)
            opened += report.cases_opened
            batch = []
            if i % 200 < 25:
                echo(f"  已生成 {i}/{len(posts)} 条帖子")
    record_received(source, utcnow())
    db.session.commit()
    echo(f"演示帖子 {len(posts)} 条，工单 {opened} 件")


def _seed_roster(session, units: dict[str, Unit]) -> None:
    """This week's duty roster: each unit's spokesperson on 24-hour cover, so the 值班表 has content."""
    start = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    for code, unit in sorted(units.items()):
        user = session.execute(select(User).where(User.username == f"{code}_fyr")).scalar_one_or_none()
        if user is not None:
            session.add(DutyShift(unit_id=unit.id, user_id=user.id, start_at=start,
                                  end_at=start + timedelta(days=7), urgent_cover=True))
    session.commit()


def _call_back(session, case, rng, resolved_at, now) -> None:
    """The centre calls most citizens back within a day: mostly satisfied, a few not (reopened)."""
    monitor = session.execute(select(User).where(User.role == "monitor").order_by(User.id)).scalars().first()
    call_at = resolved_at + timedelta(hours=rng.uniform(2, 24))
    if monitor is None or call_at >= now or rng.random() > 0.8:
        return
    verdict = rng.choices(["satisfied", "basic", "unsatisfied"], weights=[70, 20, 10])[0]
    case_service.record_callback(session, current_app.extensions["district"], case, monitor, verdict,
                                 "网友反映问题仍未解决" if verdict == "unsatisfied" else "", call_at)


# The spokespersons the README and the log-in list name: each finds work in the inbox.
NAMED_UNITS = {"zjj": "翠湖社区老旧小区改造的工地天天晚上施工，噪音太大，孩子没法睡觉",
               "jyj": "实验小学门口接送孩子的车太多，校车都开不进去，希望管一管",
               "zs": "中山街道翠湖社区门口的便民服务点一直关着门，办事找不到人"}
FRESH_HOURS = 20      # cases newer than this are today's work: not answered yet, on time
SLIPPED = 2           # older cases left unanswered: the ladder escalates them (one or two, not twenty)


def _fresh_work_for_named_spokespersons(app, source: Source, echo) -> None:
    """A post for each named unit an hour or two ago, and its case in that unit."""
    district = current_app.extensions["district"]
    now = utcnow()
    posts = [NormalisedPost(external_id=f"demo-named-{code}", text=text, created_at=now - timedelta(minutes=40 + 30 * i),
                            author=f"网友{1000 + i}", author_followers=120, payload={"generator": "demo"})
             for i, (code, text) in enumerate(NAMED_UNITS.items())]
    ingest(db.session, app, source, posts, now=now)
    for code in NAMED_UNITS:
        unit = db.session.execute(select(Unit).where(Unit.code == code)).scalar_one_or_none()
        post = db.session.execute(select(Post).where(Post.external_id == f"demo-named-{code}")).scalar_one_or_none()
        if unit is None or post is None or post.topic is None:
            continue
        # Routing may have sent it elsewhere (a keyword of another unit): the unit co-handles it.
        case_service.open_or_attach(db.session, district, post.topic, unit, priority="normal", category=None,
                                    reason="演示：群众反映，由监测中心分拨", now=post.created_at)
    db.session.commit()
    echo(f"为 {'、'.join(f'{c}_fyr' for c in NAMED_UNITS)} 准备了今天的新工单")


def _answer_some(session, echo) -> None:
    """An ordinary Monday: cases older than a day were signed for, answered and mostly finished
    within their deadlines; the last day's are fresh; SLIPPED of the older ones were not."""
    rng = random.Random(11)
    now = utcnow()
    answered = 0
    cases = session.execute(select(Case).order_by(Case.id)).scalars().all()
    older = [c for c in cases if c.created_at < now - timedelta(hours=FRESH_HOURS)]
    # The ones that slip: received two to four days ago, so the ladder reaches 人工交办 or 现场督办.
    candidates = [c for c in older if now - timedelta(days=4) < c.created_at < now - timedelta(days=2)]
    slipped = {c.id for c in rng.sample(candidates, min(SLIPPED, len(candidates)))}
    district = current_app.extensions["district"]
    monitor = session.execute(select(User).where(User.role == "monitor").order_by(User.id)).scalars().first()
    for case in older:
        if case.id in slipped:
            continue
        if case.unit.code == district.monitoring_centre and monitor is not None:
            # the monitors triaged it that morning: to the lead unit of the category it was guessed as
            lead = (district.categories.get(case.category) or [None])[0]
            unit = session.execute(select(Unit).where(Unit.code == lead)).scalar_one_or_none() if lead else None
            if unit is None or unit.code == district.monitoring_centre:
                unit = session.execute(select(Unit).where(Unit.code == next(iter(NAMED_UNITS)))).scalar_one()
            try:
                reassign_to_unit(session, case, unit, monitor, "演示：监测中心人工分拨",
                                 case.created_at + timedelta(minutes=20))
            except OpinionError:
                continue
        who = case.assignee or session.execute(select(User).where(User.unit_id == case.unit_id)).scalars().first()
        if who is None:
            continue
        # Each step inside its own deadline (a share of the time it allowed).
        ack_at = case.created_at + (case.acknowledge_due_at - case.created_at) * rng.uniform(0.1, 0.6)
        reply_at = ack_at + max(case.respond_due_at - ack_at, timedelta(minutes=30)) * rng.uniform(0.1, 0.7)
        try:
            if ack_at >= now:
                continue
            case_service.acknowledge(session, case, who, ack_at)
            if reply_at >= now:
                continue
            case_service.add_reply(session, case, who, rng.choice(REPLIES), reply_at)
            answered += 1
            resolve_at = reply_at + max(case.resolve_due_at - reply_at, timedelta(hours=1)) * rng.uniform(0.2, 0.8)
            if resolve_at < now:  # finished inside its deadline; a later one is still on time
                case_service.resolve(session, case, who, "已完成现场处置并向网友反馈结果。", resolve_at)
                _call_back(session, case, rng, resolve_at, now)
        except OpinionError:
            continue
    session.commit()
    echo(f"已模拟回复工单 {answered} 件；{len(slipped)} 件超时未办（督办演示）")
