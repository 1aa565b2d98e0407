"""The 政务矩阵 page and the admin's account form: who sees what, the Chinese checks, the 僵尸号 flag."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from opinion.models import AuditEvent, OfficialAccount, OfficialPost, Unit, utcnow
from tests.factories import login, make_user


@pytest.fixture
def people(app, session):
    make_user(session, "monitor1", "monitor", "center")
    make_user(session, "leader", "leader")
    make_user(session, "spokes", "spokesperson", "center")
    return make_user(session, "admin", "admin")


def _units(session):
    return session.execute(select(Unit).where(Unit.kind != "centre").order_by(Unit.id)).scalars().all()


def _form(unit, **over):
    return {"unit_id": str(unit.id), "platform": "weibo", "handle": "测试发布", "url": "https://weibo.com/u/1",
            "responsible": "王五", "responsible_phone": "0574-8888", "uid": "123", "access_token": "secret-token-9f3",
            "base_url": "", "feed_url": "", "interval_minutes": "60", "enabled": "on", **over}


def test_admin_registers_an_account_and_bad_fields_are_refused_in_chinese(client, session, people):
    login(client, "admin")
    unit = _units(session)[0]
    for over, message in (({"handle": ""}, "请填写账号名称"), ({"access_token": ""}, "access_token"),
                          ({"interval_minutes": "2"}, "采集间隔"), ({"url": "javascript:alert(1)"}, "账号主页"),
                          ({"platform": "wechat", "url": "", "feed_url": ""}, "订阅地址"),
                          ({"responsible": ""}, "负责人")):
        response = client.post("/matrix/accounts/new", data=_form(unit, **over))
        assert response.status_code == 400 and message in response.get_data(as_text=True), over
    assert session.execute(select(OfficialAccount)).first() is None

    response = client.post("/matrix/accounts/new", data=_form(unit), follow_redirects=True)
    assert "政务账号“测试发布”已保存" in response.get_data(as_text=True)
    account = session.execute(select(OfficialAccount)).scalar_one()
    assert (account.platform, account.interval_seconds, account.config["uid"]) == ("weibo", 3600, "123")
    assert session.execute(select(AuditEvent).where(AuditEvent.action == "matrix.account_saved")).scalar_one()

    # the same handle on the same platform under another unit is refused; editing keeps the token
    again = client.post("/matrix/accounts/new", data=_form(_units(session)[1]))
    assert again.status_code == 400 and f"已登记在{unit.name}名下" in again.get_data(as_text=True)
    client.post(f"/matrix/accounts/{account.id}", data=_form(unit, access_token="", interval_minutes="30"))
    session.refresh(account)
    assert account.config["access_token"] == "secret-token-9f3" and account.interval_seconds == 1800
    assert "secret-token-9f3" not in client.get(f"/matrix/accounts/{account.id}").get_data(as_text=True)


@pytest.mark.parametrize("user,status", [("monitor1", 200), ("leader", 200), ("admin", 200), ("spokes", 403)])
def test_the_matrix_page_is_for_monitors_leaders_and_admins(client, people, user, status):
    login(client, user)
    assert client.get("/matrix/").status_code == status
    assert client.get("/matrix/accounts/new").status_code == (200 if user == "admin" else 403)


def test_the_page_flags_a_silent_account_and_the_admin_changes_the_days(app, client, session, people):
    now = utcnow()
    busy, quiet = _units(session)[:2]
    live = OfficialAccount(unit=busy, platform="weibo", handle="活跃发布", responsible="甲", config={}, state={},
                           followers=1234, created_at=now - timedelta(days=60))
    dead = OfficialAccount(unit=quiet, platform="wechat", handle="沉睡公众号", responsible="乙",
                           responsible_phone="13800000000", config={}, state={}, created_at=now - timedelta(days=60))
    session.add_all([live, dead])
    session.flush()
    session.add_all([OfficialPost(account_id=live.id, external_id="1", text="今日通告", created_at=now - timedelta(hours=2),
                                  likes=5, comments=2, reposts=1),
                     OfficialPost(account_id=dead.id, external_id="2", text="旧通知", created_at=now - timedelta(days=5))])
    session.commit()
    login(client, "admin")
    page = client.get("/matrix/").get_data(as_text=True)
    assert "沉睡公众号" in page and "活跃发布" in page and 'id="silent"' not in page  # 5 days < 7

    refused = client.post("/matrix/settings", data={"silent_days": "0"}, follow_redirects=True).get_data(as_text=True)
    assert "未保存" in refused and app.extensions["district"].matrix_silent_days == 7
    client.post("/matrix/settings", data={"silent_days": "4"})
    assert app.extensions["district"].matrix_silent_days == 4
    login(client, "leader")
    page = client.get("/matrix/").get_data(as_text=True)
    silent = page.split('id="silent"', 1)[1].split("</section>", 1)[0]
    assert "沉睡公众号" in silent and "已 5 天未发布" in silent and "13800000000" in silent
    assert "活跃发布" not in silent and ">1234<" in page


def test_time_from_a_hot_topic_to_the_units_first_statement(client, session, people):
    from opinion.matrix.figures import first_statements
    from opinion.models import Topic
    now = utcnow()
    unit = _units(session)[0]
    account = OfficialAccount(unit=unit, platform="weibo", handle="发声测试", responsible="甲", config={}, state={},
                              created_at=now - timedelta(days=60))
    session.add(account)
    start_a, start_b = now - timedelta(days=3), now - timedelta(days=2)
    session.add_all([
        Topic(key="a", label="南环路井盖缺失", keywords=["井盖", "南环路"], unit_id=unit.id, post_count=12,
              first_seen_at=start_a, last_seen_at=now),
        Topic(key="b", label="菜场噪音扰民", keywords=["噪音", "菜场"], unit_id=unit.id, post_count=8,
              first_seen_at=start_b, last_seen_at=now),
        Topic(key="c", label="两条帖子的小事", keywords=["路灯"], unit_id=unit.id, post_count=2,   # not hot
              first_seen_at=start_b, last_seen_at=now)])
    session.flush()
    session.add_all([
        # before the topic started: not an answer to it
        OfficialPost(account_id=account.id, external_id="0", text="井盖巡查月报", created_at=start_a - timedelta(hours=5)),
        OfficialPost(account_id=account.id, external_id="1", text="关于南环路井盖缺失的情况通报",
                     created_at=start_a + timedelta(hours=6)),
        OfficialPost(account_id=account.id, external_id="2", text="路灯已修复", created_at=start_b + timedelta(hours=1))])
    session.commit()
    delays = first_statements(session, now)
    assert sorted(delays[unit.id], key=lambda d: d is None) == [6.0, None]   # the noise topic: no statement
    login(client, "leader")
    page = client.get("/matrix/").get_data(as_text=True)
    assert "中位 6.0 小时" in page and "已发声 1 个话题" in page and "1 个未发声" in page
