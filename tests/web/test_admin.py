"""Administration: units and routing rules, users, configuration overrides — admins only, audited."""
import pytest
from sqlalchemy import select

from opinion.models import AuditEvent, Setting, Unit, User
from opinion.routing.rules import RuleMatcher
from opinion.settings.overrides import refresh_district
from tests.factories import login, make_user


@pytest.fixture
def admin(app, session):
    make_user(session, "monitor1", "monitor", "center")
    make_user(session, "leader", "leader")
    return make_user(session, "admin", "admin")


@pytest.mark.parametrize("user", ["monitor1", "leader"])
def test_only_admins_reach_administration(client, admin, user):
    login(client, user)
    assert client.get("/admin/").status_code == 403
    assert client.post("/admin/units/new", data={"code": "x1", "name": "x", "kind": "department"}).status_code == 403


def test_admin_adds_a_unit_with_routing_keywords_and_routing_uses_it(app, client, session, admin):
    login(client, "admin")
    response = client.post("/admin/units/new", data={
        "code": "wgj", "name": "区网格化管理中心", "kind": "department", "keywords": "网格员、网格化\n网格"},
        follow_redirects=True)
    assert "已新增单位：区网格化管理中心" in response.get_data(as_text=True)
    unit = session.execute(select(Unit).where(Unit.code == "wgj")).scalar_one()
    assert unit.keywords == ["网格员", "网格化", "网格"]
    district = app.extensions["district"]
    assert district.unit("wgj").name == "区网格化管理中心"
    assert ("wgj", "网格员") in RuleMatcher(district).keywords
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "config.changed")).scalar_one()
    assert event.actor == "admin" and event.after["units"][-1]["code"] == "wgj"


@pytest.mark.parametrize("data,message", [
    ({"code": "A b", "name": "x", "kind": "department"}, "单位代码应为"),
    ({"code": "slj", "name": "x", "kind": "department"}, "已存在"),
    ({"code": "abc", "name": "", "kind": "department"}, "单位名称不能为空"),
    ({"code": "abc", "name": "x", "kind": "planet"}, "请选择单位类型"),
])
def test_bad_unit_forms_are_refused_and_keep_the_input(client, session, admin, data, message):
    login(client, "admin")
    response = client.post("/admin/units/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and message in html
    assert session.execute(select(Unit).where(Unit.code == "abc")).first() is None


def test_editing_routing_keywords_of_a_unit(app, client, session, admin):
    login(client, "admin")
    client.post("/admin/units/slj", data={"name": "区水利局", "kind": "department", "keywords": "内涝\n积水\n水闸"})
    assert app.extensions["district"].unit("slj").keywords == ["内涝", "积水", "水闸"]
    assert session.execute(select(Unit).where(Unit.code == "slj")).scalar_one().keywords[-1] == "水闸"


def test_a_unit_that_handles_a_category_cannot_be_deactivated(client, session, admin):
    login(client, "admin")
    html = client.post("/admin/units/slj/active", data={"active": "0"}, follow_redirects=True).get_data(as_text=True)
    assert "不能停用区水利局" in html and "不存在的单位" in html
    assert session.execute(select(Unit).where(Unit.code == "slj")).scalar_one().active


def test_deadline_table_saved_validated_and_seen_by_another_process(app, client, session, admin):
    login(client, "admin")
    form = {f"{p}-{c}": v for p, row in {"urgent": ["20 min", "4 h", "24 h"], "high": ["2 h", "24 h", "3 working_days"],
                                         "normal": ["1 working_days", "48 h", "5 working_days"]}.items()
            for c, v in zip(["acknowledge", "respond", "resolve"], row)}
    bad = client.post("/admin/config/deadlines", data={**form, "urgent-acknowledge": "半小时"})
    assert bad.status_code == 400 and "无法识别" in bad.get_data(as_text=True) and "半小时" in bad.get_data(as_text=True)
    assert session.get(Setting, "deadlines") is None
    assert "立即生效" in client.post("/admin/config/deadlines", data=form, follow_redirects=True).get_data(as_text=True)
    assert str(app.extensions["district"].deadlines["urgent"]["acknowledge"]) == "20分钟"
    # A second process (the scheduler) picks the change up from the database on its next tick.
    from opinion import create_app
    other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    with other.app_context():
        assert str(other.extensions["district"].deadlines["urgent"]["acknowledge"]) == "20分钟"
        client.post("/admin/config/deadlines/reset")
        assert refresh_district(other, force=True)
        assert str(other.extensions["district"].deadlines["urgent"]["acknowledge"]) == "30分钟"


def test_deadlines_are_typed_and_shown_in_chinese(app, client, session, admin):
    login(client, "admin")
    page = client.get("/admin/config/deadlines").get_data(as_text=True)
    assert 'value="30分钟"' in page and 'value="5个工作日"' in page and "working_days" not in page
    chinese = {**NORMAL_TABLE, "urgent-acknowledge": "20分钟", "urgent-respond": "4 小时", "high-resolve": "3个工作日",
               "normal-resolve": "6 工作日"}
    assert client.post("/admin/config/deadlines", data=chinese).status_code == 302
    deadlines = app.extensions["district"].deadlines
    assert (deadlines["urgent"]["acknowledge"].amount, deadlines["urgent"]["acknowledge"].unit) == (20, "min")
    assert (deadlines["normal"]["resolve"].amount, deadlines["normal"]["resolve"].unit) == (6, "working_days")
    assert session.get(Setting, "deadlines").value["high"]["resolve"] == "3个工作日"
    page = client.get("/admin/config/deadlines").get_data(as_text=True)
    assert 'value="4小时"' in page and 'value="6个工作日"' in page
    bad = client.post("/admin/config/deadlines", data={**NORMAL_TABLE, "high-resolve": "三天"})
    assert bad.status_code == 400 and "“三天” 无法识别" in bad.get_data(as_text=True)
    assert "3个工作日" in bad.get_data(as_text=True)  # the rule, with an example, is in the message


NORMAL_TABLE = {f"{p}-{c}": v for p, row in {"urgent": ["30 min", "5 h", "24 h"],
                                             "high": ["2 h", "24 h", "3 working_days"],
                                             "normal": ["1 working_days", "48 h", "5 working_days"]}.items()
                for c, v in zip(["acknowledge", "respond", "resolve"], row)}


@pytest.mark.parametrize("changes,message", [
    ({"urgent-acknowledge": "6 h"}, "“紧急”工单的签收时限（6小时）长于首次回应时限（5小时）"),
    ({"high-respond": "4个工作日"}, "“重要”工单的首次回应时限（4个工作日）长于办结时限（3个工作日）"),
    ({"normal-acknowledge": "3 working_days"}, "“一般”工单的签收时限（3个工作日）长于首次回应时限（48小时）"),
])
def test_a_deadline_table_out_of_order_is_refused(app, client, session, admin, changes, message):
    login(client, "admin")
    bad = client.post("/admin/config/deadlines", data={**NORMAL_TABLE, **changes})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "未保存" in page and message in page
    assert session.get(Setting, "deadlines") is None
    assert client.post("/admin/config/deadlines", data=NORMAL_TABLE).status_code == 302  # the shipped table is fine


def test_word_lists_and_yaml_sections(app, client, admin):
    login(client, "admin")
    client.post("/admin/config/words", data={"sensitive_words": "黑幕\n塌方", "urgent_words": "爆炸",
                                             "high_words": "维权", "influential_followers": "50000"})
    district = app.extensions["district"]
    assert district.sensitive_words == ["黑幕", "塌方"] and district.influential_followers == 50000
    bad = client.post("/admin/config/escalation", data={"text": "- {level: 1, trigger: sometime}"})
    assert bad.status_code == 400 and "督办触发条件" in bad.get_data(as_text=True)
    broken = client.post("/admin/config/escalation", data={"text": "- [unclosed"})
    assert broken.status_code == 400 and "YAML 格式错误" in broken.get_data(as_text=True)
    page = client.get("/admin/config/escalation").get_data(as_text=True)
    assert "电子催办" in page


def test_users_created_deactivated_and_password_reset(client, session, admin):
    login(client, "admin")
    weak = client.post("/admin/users/new", data={"username": "zs2", "name": "张三", "role": "spokesperson",
                                                 "unit": "zs", "password": "12345678"})
    assert weak.status_code == 400 and "同时包含字母和数字" in weak.get_data(as_text=True)
    no_unit = client.post("/admin/users/new", data={"username": "zs2", "name": "张三", "role": "spokesperson",
                                                    "password": "abc12345"})
    assert "必须属于一个单位" in no_unit.get_data(as_text=True)
    client.post("/admin/users/new", data={"username": "zs2", "name": "张三", "role": "spokesperson",
                                          "unit": "zs", "password": "abc12345"})
    user = session.execute(select(User).where(User.username == "zs2")).scalar_one()
    assert user.unit.code == "zs" and user.check_password("abc12345")
    client.post(f"/admin/users/{user.id}", data={"action": "password", "password": "new12345x"})
    client.post(f"/admin/users/{user.id}", data={"action": "deactivate"})
    session.refresh(user)
    assert user.check_password("new12345x") and not user.active
    actions = set(session.execute(select(AuditEvent.action).where(AuditEvent.object_id == user.id,
                                                                  AuditEvent.object_type == "user")).scalars())
    assert {"user.created", "user.password_reset", "user.deactivated"} <= actions
    assert "不能停用自己的账号" in client.post(f"/admin/users/{admin.id}", data={"action": "deactivate"},
                                          follow_redirects=True).get_data(as_text=True)


@pytest.mark.parametrize("page,words", [
    ("/admin/", ["辖区配置", "值班表"]), ("/admin/units", ["区水利局", "新增单位"]),
    ("/admin/users", ["admin", "新建账号"]), ("/admin/config/deadlines", ["30分钟", "3个工作日"]),
    ("/admin/config/escalation", ["人工交办"]), ("/admin/config/alerts", ["quiet_hours"]),
    ("/admin/config/words", ["爆炸"]), ("/admin/config/erroneous_terms", ["卫计委=卫生健康委员会"]),
    ("/admin/config/reply_required_parts", ["称呼"]), ("/admin/templates", ["口径库"]),
    ("/admin/config/calendar", ["holidays", "国务院办公厅"]),
])
def test_every_admin_page_shows_the_current_configuration(client, admin, page, words):
    login(client, "admin")
    html = client.get(page).get_data(as_text=True)
    assert all(w in html for w in words), page


def test_reply_templates_are_edited_with_checks(client, session, admin):
    from opinion.models import ReplyTemplate
    login(client, "admin")
    short = client.post("/admin/templates/new", data={"title": "积水回复", "body": "您好"})
    assert short.status_code == 400 and "至少 10 个字" in short.get_data(as_text=True)
    client.post("/admin/templates/new", data={"title": "积水回复", "unit": "slj", "category": "城乡建设",
                                              "body": "{称呼}您好！关于{话题}，{单位}已安排处理。", "active": "1"})
    template = session.execute(select(ReplyTemplate)).scalar_one()
    assert template.unit.code == "slj" and template.category == "城乡建设" and template.active
    client.post(f"/admin/templates/{template.id}", data={"title": "积水回复", "body": template.body})
    session.refresh(template)
    assert not template.active


def test_login_session_expires(app, client, admin):
    response = login(client, "admin")
    cookie = response.headers["Set-Cookie"]
    assert "Expires=" in cookie and "HttpOnly" in cookie


def test_holiday_dates_entered_on_the_page_move_deadlines(app, client, admin):
    """2027 is within 60 days of the demo's today and chinese_calendar does not know it: the page
    says so until the dates are entered; unquoted YAML dates are stored and used."""
    from datetime import date

    from opinion.settings.calendar import add_working_days
    from tests.conftest import at
    login(client, "admin")
    if date.today() <= date(2026, 12, 31):
        assert "2027 年的节假日安排尚未录入" in client.get("/admin/").get_data(as_text=True)
    bad = client.post("/admin/config/calendar", data={"text": "holidays: [2027-02-30]\nworkdays: []"})
    assert bad.status_code == 400 and "不是日期" in bad.get_data(as_text=True)
    saved = client.post("/admin/config/calendar", follow_redirects=True,
                        data={"text": "holidays: [2027-01-01, '2027-02-05~2027-02-11']\nworkdays: [2027-01-02]"})
    assert "节假日安排已保存" in saved.get_data(as_text=True)
    district = app.extensions["district"]
    assert date(2027, 2, 8) in district.holidays and date(2027, 1, 2) in district.workdays
    assert add_working_days(at("2026-12-31 10:00"), 1, district) == at("2027-01-02 10:00")
    assert "尚未录入" not in client.get("/admin/").get_data(as_text=True)


def test_accounts_page_is_paginated_and_searchable(client, session, admin):
    for n in range(45):
        make_user(session, f"zs_{n:02d}", "spokesperson", "zs").name = f"发言人{n:02d}"
    session.commit()
    login(client, "admin")
    first = client.get("/admin/users").get_data(as_text=True)
    assert "第 1 / 2 页" in first and first.count('<tr id="u') == 30 and "共 48 个" in first
    second = client.get("/admin/users?page=2").get_data(as_text=True)
    assert second.count('<tr id="u') == 18
    found = client.get("/admin/users?q=发言人07").get_data(as_text=True)
    assert found.count('<tr id="u') == 1 and "zs_07" in found
    leaders = client.get("/admin/users?role=leader").get_data(as_text=True)
    assert leaders.count('<tr id="u') == 1 and ">leader<" in leaders
    none = client.get("/admin/users?q=不存在的人").get_data(as_text=True)
    assert "没有符合条件的账号" in none
