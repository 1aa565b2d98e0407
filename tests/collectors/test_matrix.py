"""The 政务微博矩阵: each unit's own account collected from a local Weibo-shaped API (and a feed),
figures refreshed, nothing stored twice, and a silent account (僵尸号) flagged after N days."""
from datetime import timedelta

from sqlalchemy import func, select

from opinion.matrix.collect import collect_account, collect_due
from opinion.matrix.figures import account_figures, unit_figures
from opinion.models import OfficialAccount, OfficialPost, Post, Unit, utcnow
from opinion.settings.overrides import save_section
from tests.collectors.fake_server import FakeWeibo
from tests.conftest import at
from tests.factories import make_user

RSS = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>区住建局 政务公开</title>
<item><title>关于老旧小区改造的通知</title><link>http://example.gov/a1</link><guid>a1</guid>
<pubDate>Mon, 07 Dec 2026 02:00:00 GMT</pubDate><description>改造范围与时间安排</description></item>
<item><title>燃气管道检修公告</title><link>http://example.gov/a2</link><guid>a2</guid>
<pubDate>Sun, 06 Dec 2026 02:00:00 GMT</pubDate><description>检修期间暂停供气</description></item>
</channel></rss>""".encode()


def _unit(session, index=0) -> Unit:
    return session.execute(select(Unit).order_by(Unit.id)).scalars().all()[index]


def _weibo_account(session, weibo, unit, uid="2001", created=None, **config) -> OfficialAccount:
    account = OfficialAccount(unit=unit, platform="weibo", handle=f"{unit.name}发布", responsible="张三",
                              config={"base_url": weibo.base, "access_token": FakeWeibo.TOKEN, "uid": uid,
                                      "count": 2, **config},
                              interval_seconds=3600, state={}, created_at=created or utcnow() - timedelta(days=30))
    session.add(account)
    session.commit()
    return account


def _count(session, model) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar()


def test_timeline_collected_figures_refreshed_and_nothing_stored_twice(session, weibo):
    now = utcnow()
    weibo.add_account("2001", "区交通局发布", followers=5000)
    for day in (3, 2, 1):  # count=2: three posts take two pages
        weibo.add_own_post("2001", f"交通管制通告第{day}号", now - timedelta(days=day), reposts=day, comments=1, likes=10)
    account = _weibo_account(session, weibo, _unit(session))

    lines = collect_due(session, now)
    session.commit()
    assert len(lines) == 1 and "新增 3 条" in lines[0]
    assert _count(session, OfficialPost) == 3
    assert (account.followers, account.posts_total, account.status) == (5000, 3, "ok")
    # the unit's own posts are not netizens' posts: nothing reached the pipeline's table
    assert _count(session, Post) == 0

    # an hour later (the account's interval) the platform has a new post, more likes, more followers
    weibo.accounts["2001"]["followers_count"] = 5200
    weibo.own["2001"][0]["attitudes_count"] = 99
    weibo.add_own_post("2001", "周末出行提示", now + timedelta(minutes=30), likes=5)
    assert collect_due(session, now + timedelta(minutes=10)) == []  # not due yet
    lines = collect_due(session, now + timedelta(hours=1, minutes=1))
    session.commit()
    assert "新增 1 条，更新 1 条" in lines[0]
    assert _count(session, OfficialPost) == 4 and account.followers == 5200
    first = session.execute(select(OfficialPost).where(OfficialPost.text == "交通管制通告第3号")).scalar_one()
    assert first.likes == 99

    # the same answer again: nothing added, nothing changed
    lines = collect_due(session, now + timedelta(hours=2, minutes=2))
    session.commit()
    assert "新增 0 条，更新 0 条" in lines[0] and _count(session, OfficialPost) == 4


def test_a_refused_token_is_recorded_and_backs_off_without_stopping_the_others(session, weibo):
    now = utcnow()
    weibo.add_account("2001", "甲", followers=10)
    weibo.add_account("2002", "乙", followers=20)
    weibo.add_own_post("2002", "乙的通知", now - timedelta(hours=1))
    bad = _weibo_account(session, weibo, _unit(session, 0), uid="2001", access_token="expired")
    good = _weibo_account(session, weibo, _unit(session, 1), uid="2002")
    collect_due(session, now)
    session.commit()
    assert bad.status == "failing" and "access_token" in bad.last_error and bad.failure_count == 1
    assert good.status == "ok" and good.followers == 20 and _count(session, OfficialPost) == 1
    # back-off: the failing account waits twice its interval, the good one runs again after one
    later = now + timedelta(hours=1, minutes=1)
    assert len(collect_due(session, later)) == 1
    assert good.last_run_at == later and bad.last_run_at == now
    assert len(collect_due(session, now + timedelta(hours=2, minutes=1))) == 2


def test_a_website_column_is_read_from_its_feed_once(session, server):
    server.routes["/feed.xml"] = RSS
    account = OfficialAccount(unit=_unit(session), platform="web", handle="区住建局政务公开栏目",
                              url=server.base + "/feed.xml", config={}, state={})
    session.add(account)
    session.commit()
    now = at("2026-12-07 12:00")
    assert "新增 2 条" in collect_account(session, account, now)
    assert "新增 0 条" in collect_account(session, account, now + timedelta(hours=1))
    session.commit()
    assert _count(session, OfficialPost) == 2 and _count(session, Post) == 0


def test_a_silent_account_is_flagged_after_the_districts_days(app, session, weibo, runner):
    district = app.extensions["district"]
    assert district.matrix_silent_days == 7
    last = at("2026-12-01 10:00")
    weibo.add_account("2001", "区教育局", followers=800)
    weibo.add_own_post("2001", "招生政策解读", last, likes=3)
    unit = _unit(session)
    account = _weibo_account(session, weibo, unit, created=at("2026-11-01 09:00"))
    collect_account(session, account, at("2026-12-01 11:00"))
    session.commit()

    six = runner.invoke(args=["matrix", "check", "--now", "2026-12-07T11:00"])
    assert six.exit_code == 0, six.output
    assert "僵尸号（7 天未发布）：0 个" in six.output
    eight = runner.invoke(args=["matrix", "check", "--now", "2026-12-09T11:00"])
    assert "僵尸号（7 天未发布）：1 个" in eight.output and f"{unit.name} 微博「{account.handle}」" in eight.output and "已 8 天未发布" in eight.output

    # the admin shortens N to 3 days: the account is silent at day 4 already
    admin = make_user(session, "admin1", "admin")
    save_section(app, "matrix", {"silent_days": 3}, admin)
    session.commit()
    rows = account_figures(session, at("2026-12-05 11:00"), district.timezone,
                           app.extensions["district"].matrix_silent_days)
    assert [r.silent for r in rows] == [True] and rows[0].silent_days == 4
    units = unit_figures(rows)
    assert units[0].unit.id == unit.id and units[0].silent == 1 and units[0].followers == 800
    # replaying a moment before the post: it is not counted, and the account was quiet since it was added
    before = account_figures(session, at("2026-11-30 11:00"), district.timezone, 3)
    assert before[0].last_post_at is None and before[0].posts_month == 0 and before[0].silent


def test_week_and_month_counts_follow_the_district_calendar(session, weibo):
    weibo.add_account("2001", "区文旅局", followers=100)
    # Wednesday 2026-12-09: this week from Monday 12-07, this month from 12-01 (Beijing time)
    for when, likes in (("2026-12-07 00:30", 1), ("2026-12-06 23:30", 2), ("2026-12-01 08:00", 4),
                        ("2026-11-30 23:00", 8)):
        weibo.add_own_post("2001", f"文旅动态 {when}", at(when), likes=likes)
    account = _weibo_account(session, weibo, _unit(session), created=at("2026-11-01 09:00"))
    collect_account(session, account, at("2026-12-09 12:00"))
    session.commit()
    row = account_figures(session, at("2026-12-09 12:00"), "Asia/Shanghai", 7)[0]
    assert (row.posts_week, row.posts_month, row.interactions_month) == (1, 3, 7)
    assert not row.silent and row.silent_days == 2  # 12-07 00:30 to 12-09 12:00


def test_the_demo_gives_every_unit_an_account_and_a_few_are_silent(app, session):
    from opinion.demo.matrix import seed_matrix
    said = []
    seed_matrix(session, said.append)
    units = session.execute(select(Unit).where(Unit.active.is_(True))).scalars().all()
    accounts = session.execute(select(OfficialAccount)).scalars().all()
    assert {a.unit_id for a in accounts} == {u.id for u in units} and len(accounts) == len(units)
    now = utcnow()
    rows = account_figures(session, now, "Asia/Shanghai", app.extensions["district"].matrix_silent_days)
    silent = [r for r in rows if r.silent]
    assert 0 < len(silent) < len(rows) / 2 and all(r.posts_week == 0 for r in silent)
    posts = _count(session, OfficialPost)
    seed_matrix(session, said.append)   # again: nothing added
    assert _count(session, OfficialPost) == posts and "不再重复生成" in said[-1]
    # the scheduler leaves the demo accounts as seeded instead of failing on a platform that is not there
    collect_due(session, now + timedelta(hours=2))
    assert {a.status for a in accounts} == {"ok"} and _count(session, OfficialPost) == posts


def test_the_scheduler_job_collects_the_due_accounts(app, session, weibo):
    from opinion.jobs import matrix_collect
    now = utcnow()
    weibo.add_account("2001", "区司法局", followers=42)
    weibo.add_own_post("2001", "法律援助热线开通", now - timedelta(hours=3))
    account = _weibo_account(session, weibo, _unit(session))
    account_id = account.id
    matrix_collect(app, now=now)
    session.expire_all()
    again = session.get(OfficialAccount, account_id)
    assert again.status == "ok" and again.followers == 42 and _count(session, OfficialPost) == 1


def test_an_account_that_answers_no_comment_is_flagged_and_one_answer_clears_it(app, session, weibo, runner):
    """comments/show under the account's posts: netizens' comments in the district's no-reply days
    with no answer from the account flag it (从不回复评论); replayed with --now, and per unit."""
    district = app.extensions["district"]
    assert district.matrix_no_reply_days == 7
    weibo.add_account("2001", "区城管局发布", followers=300)
    weibo.add_account("2002", "区卫健委发布", followers=300)
    quiet = weibo.add_own_post("2001", "占道经营整治通告", at("2026-12-03 09:00"))
    answered = weibo.add_own_post("2002", "流感疫苗接种指南", at("2026-12-03 09:00"))
    for hour in (10, 11, 12):  # three netizens' comments each: count=2, so two pages
        weibo.add_comment_on(quiet, at(f"2026-12-03 {hour}:00"))
        weibo.add_comment_on(answered, at(f"2026-12-03 {hour}:00"))
    weibo.add_comment_on(answered, at("2026-12-03 13:00"), by_uid="2002", text="您好，请拨打12345咨询")
    unit_a, unit_b = _unit(session, 0), _unit(session, 1)
    account_a = _weibo_account(session, weibo, unit_a, uid="2001", created=at("2026-11-01 09:00"))
    account_b = _weibo_account(session, weibo, unit_b, uid="2002", created=at("2026-11-01 09:00"))
    for account in (account_a, account_b):
        collect_account(session, account, at("2026-12-04 09:00"))
    session.commit()
    assert account_a.state["comments"][str(quiet["id"])]["n"] == 3
    calls = sum(1 for _, p, _, _ in weibo.server.requests if p.startswith("/2/comments/show.json"))

    rows = {r.account.id: r for r in account_figures(session, at("2026-12-05 09:00"), district.timezone, 7,
                                                     no_reply_days=district.matrix_no_reply_days)}
    assert (rows[account_a.id].comments_recent, rows[account_a.id].answers_recent, rows[account_a.id].no_reply) == (3, 0, True)
    assert (rows[account_b.id].comments_recent, rows[account_b.id].answers_recent, rows[account_b.id].no_reply) == (3, 1, False)
    units = {u.unit.id: u for u in unit_figures(list(rows.values()))}
    assert units[unit_a.id].no_reply == 1 and units[unit_b.id].no_reply == 0

    out = runner.invoke(args=["matrix", "check", "--now", "2026-12-05T09:00"]).output
    assert "从不回复评论（7 天内有评论、未回复一条）：1 个" in out and f"「{account_a.handle}」 收到评论 3 条" in out
    # ten days on, the comments are older than the window: nothing to answer, no flag
    later = runner.invoke(args=["matrix", "check", "--now", "2026-12-13T09:00"]).output
    assert "从不回复评论（7 天内有评论、未回复一条）：0 个" in later

    # a second run with no new comment reads no comments again; the account then answers one
    collect_account(session, account_a, at("2026-12-04 10:00"))
    assert sum(1 for _, p, _, _ in weibo.server.requests if p.startswith("/2/comments/show.json")) == calls
    weibo.add_comment_on(quiet, at("2026-12-04 11:00"), by_uid="2001", text="您好，已转交执法中队处理")
    collect_account(session, account_a, at("2026-12-04 12:00"))
    session.commit()
    again = account_figures(session, at("2026-12-05 09:00"), district.timezone, 7, unit_id=unit_a.id)[0]
    assert (again.comments_recent, again.answers_recent, again.no_reply) == (3, 1, False)


def test_feed_accounts_are_not_judged_on_comments(session, server):
    server.routes["/feed.xml"] = RSS
    account = OfficialAccount(unit=_unit(session), platform="web", handle="区住建局政务公开栏目",
                              url=server.base + "/feed.xml", config={}, state={})
    session.add(account)
    session.commit()
    collect_account(session, account, at("2026-12-07 12:00"))
    row = account_figures(session, at("2026-12-07 12:00"), "Asia/Shanghai", 7)[0]
    assert row.comments_recent is None and not row.no_reply
