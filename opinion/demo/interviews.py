"""The demo's past 在线访谈: the 住建局's director on old-estate renovation a week ago, its transcript
published, one question screened out, one merged, and one turned into a case, so every page of the
interview workflow has something true to show. Made through opinion.interviews, as a real one is."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from opinion.cases import lifecycle
from opinion.interviews import live, questions
from opinion.models import Interview, Unit, User, utcnow

# (nickname, question, answer or None: not adopted / merged)
EXCHANGES = [
    ("翠湖老住户", "我们翠湖小区是1995年建的，老人多，加装电梯的补贴标准是多少？怎么申请？",
     "加装电梯每台补助20万元，由业主委员会或单元业主代表向所在街道提出申请，街道初审后报区住建局审核，"
     "审核通过后按工程进度分两次拨付。"),
    ("翠湖老住户2", "我们翠湖小区是1995年建的，老人多，加装电梯的补贴标准是多少？怎么申请", None),
    ("月湖边", "老旧小区改造都改哪些内容？会不会只刷个外墙？",
     "改造分基础类、完善类和提升类。基础类包括雨污分流、屋面防水、管线入地，是必改内容；"
     "外立面整治属于完善类，由居民议事会商量决定，不会只做表面文章。"),
    ("夜归人", "鼓楼小区改造后门口路灯一直没装回去，晚上很黑，什么时候能装？",
     "这个情况我们记下了。施工期间拆除的路灯应由施工单位复原，会后我们马上转交相关部门核实，一周内给您答复。"),
    ("路过的", "你们领导就会说空话", None),
    ("南门居民", "改造期间停水停电会提前通知吗？",
     "会的。施工单位须提前三天在小区公告栏和业主群发布停水停电通知，每次停水不超过八小时。"),
]


def seed_interview(session, district, echo=print) -> None:
    if session.execute(select(func.count()).select_from(Interview)).scalar():
        echo("在线访谈已存在，不再重复生成")
        return
    unit = session.execute(select(Unit).where(Unit.code == "zjj")).scalar_one_or_none()
    admin = session.execute(select(User).where(User.role == "admin").order_by(User.id)).scalars().first()
    monitor = session.execute(select(User).where(User.role == "monitor").order_by(User.id)).scalars().first()
    office = session.execute(select(User).where(User.unit_id == unit.id, User.role == "spokesperson")
                             .order_by(User.id)).scalars().first() if unit else None
    if not (unit and admin and monitor and office):
        echo("没有住建局或演示账号，跳过在线访谈演示")
        return
    start = (utcnow() - timedelta(days=7)).replace(hour=7, minute=0, second=0, microsecond=0)  # 15:00 北京时间
    interview = live.schedule(session, admin, unit, "王建国", "局长", "老旧小区改造和加装电梯",
                              start, start - timedelta(days=3))
    asked = [questions.add_question(session, district, interview, text, nick, start - timedelta(hours=30 - n))
             for n, (nick, text, _) in enumerate(EXCHANGES)]
    live.move(session, interview, "live", admin, start)
    for n, (question, (_, _, reply)) in enumerate(zip(asked, EXCHANGES)):
        if question.status == "merged":
            continue
        if reply is None:
            questions.reject(session, question, monitor, "与访谈主题无关", start - timedelta(hours=1))
            continue
        questions.adopt(session, district, question, monitor, start - timedelta(hours=1))
        live.answer(session, district, question, office, reply, start + timedelta(minutes=8 + 12 * n), confirmed=True)
    lamp = asked[3]
    csglj = session.execute(select(Unit).where(Unit.code == "csglj")).scalar_one_or_none() or unit
    case = live.follow_up(session, district, lamp, csglj, office, "嘉宾承诺一周内答复", start + timedelta(minutes=50))
    # Worked within its deadlines since, as the demo's other cases: a week-old case left new would
    # sit on the escalation ladder and read as a failure of the workflow.
    handler = case.assignee or session.execute(select(User).where(User.unit_id == case.unit_id)).scalars().first()
    if handler is not None:
        lifecycle.acknowledge(session, case, handler, start + timedelta(hours=2))
        lifecycle.add_reply(session, case, handler, "网友您好！经现场核实，鼓楼小区门口两盏路灯在改造中拆除后未复原，"
                            "已责成施工单位于三日内安装到位。感谢您的监督！", start + timedelta(days=1))
        lifecycle.resolve(session, case, handler, "路灯已安装并通电", start + timedelta(days=3))
    live.move(session, interview, "ended", admin, start + timedelta(minutes=70))
    live.move(session, interview, "published", admin, start + timedelta(hours=3))
    session.commit()
    echo(f"在线访谈：{interview.title}（已发布实录，{len(asked)} 条提问，其中 1 条转为工单）"
         f"，公开页面 /p/interview/{interview.slug}")
