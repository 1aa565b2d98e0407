"""The demo's 政务微博矩阵: every unit with an official account, a month of its own posts, and a
few accounts gone quiet (僵尸号), so the matrix page has something true to show.

Demo accounts are marked `demo` in their config: the matrix collector leaves them as seeded
instead of calling a platform that does not exist.
"""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, select

from opinion.models import OfficialAccount, OfficialPost, Unit, utcnow

NOTICES = ["关于{u}近期重点工作的通报", "{u}便民服务事项办理指南", "{u}提醒：注意防范电信网络诈骗",
           "{u}政务公开：本月工作动态", "{u}关于群众来信来电办理情况的说明", "{u}节假日值班安排"]


def seed_matrix(session, echo=print) -> None:
    if session.execute(select(func.count()).select_from(OfficialAccount)).scalar():
        echo("政务账号已存在，不再重复生成")
        return
    rng = random.Random(22)
    now = utcnow()
    units = session.execute(select(Unit).where(Unit.active.is_(True)).order_by(Unit.id)).scalars().all()
    silent = 0
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
        for n in range(rng.randint(2, 4) if quiet else rng.randint(6, 20)):
            at = now - newest - timedelta(hours=n * rng.randint(20, 60))
            account.posts_total = (account.posts_total or 0) + 1
            session.add(OfficialPost(account_id=account.id, external_id=f"demo-{account.id}-{n}",
                                     text=rng.choice(NOTICES).format(u=unit.name), created_at=at, collected_at=now,
                                     reposts=rng.randint(0, 30), comments=rng.randint(0, 40), likes=rng.randint(0, 200)))
    session.commit()
    echo(f"政务矩阵：{len(units)} 个单位各一个政务账号，其中 {silent} 个长期未发布（僵尸号）")
