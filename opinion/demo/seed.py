"""`seed-demo`: a district with people, a stream of posts and cases in every state.

Posts are fed through the real ingest pipeline in time order, as if collected live, and a share
of the cases is then answered by the spokespersons, so every page has real content. Running it
again adds nothing.
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
from opinion.demo.matrix import seed_matrix
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
        _answer_some(session, echo)
        _seed_roster(session, units)
        fired = ladder_pass(session, district, utcnow())
        session.commit()
        echo(f"督办检查：{len(fired)} 项")
    seed_matrix(session, echo)
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
            ("zjj_fyr", "发言人：区住房和城乡建设局"), ("jyj_fyr", "发言人：区教育局"),
            ("zs_fyr", "发言人：中山街道办事处"),
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


def _answer_some(session, echo) -> None:
    """Spokespersons answer about two thirds of the cases, some late, the newest not yet."""
    rng = random.Random(11)
    now = utcnow()
    answered = 0
    for case in session.execute(select(Case).order_by(Case.id)).scalars().all():
        if rng.random() > 0.68:
            continue
        who = case.assignee or session.execute(select(User).where(User.unit_id == case.unit_id)).scalars().first()
        if who is None:
            continue
        ack_at = case.created_at + timedelta(minutes=rng.expovariate(1 / 90))
        reply_at = ack_at + timedelta(hours=rng.expovariate(1 / 14))
        if reply_at >= now:
            continue
        try:
            case_service.acknowledge(session, case, who, ack_at)
            case_service.add_reply(session, case, who, rng.choice(REPLIES), reply_at)
            answered += 1
            resolve_at = reply_at + timedelta(hours=rng.expovariate(1 / 40))
            if rng.random() < 0.7 and resolve_at < now:
                case_service.resolve(session, case, who, "已完成现场处置并向网友反馈结果。", resolve_at)
                _call_back(session, case, rng, resolve_at, now)
        except OpinionError:
            continue
    session.commit()
    echo(f"已模拟回复工单 {answered} 件")
