"""Pages per role: each sees its page with content, and nobody sees what is not theirs."""
import pytest
from sqlalchemy import select

from opinion.models import Case, Reply
from opinion.pipeline.batch import ingest
from tests.factories import login, make_item, make_source, make_user


@pytest.fixture
def seeded(app, session):
    for name, role, unit in [("slj_fyr", "spokesperson", "slj"), ("jyj_fyr", "spokesperson", "jyj"),
                             ("monitor1", "monitor", "center"), ("leader", "leader", None),
                             ("admin", "admin", None)]:
        make_user(session, name, role, unit)
    ingest(session, app, make_source(session), [
        make_item("a", "中山路下穿隧道积水半米深，<script>alert('x')</script>车子熄火了",
                  url="javascript:alert(1)"),
        make_item("b", "中山路隧道又积水了，排水什么时候修好")])
    return session.execute(select(Case)).scalar_one()


def test_login_page_and_wrong_password(client, seeded):
    assert "登录" in client.get("/login").get_data(as_text=True)
    response = login(client, "slj_fyr", "wrong")
    assert response.status_code == 401 and "用户名或密码错误" in response.get_data(as_text=True)


def test_repeated_wrong_passwords_are_refused_for_a_while(client, seeded):
    for _ in range(5):
        login(client, "jyj_fyr", "guess")
    response = login(client, "jyj_fyr")  # even the right password, for now
    assert response.status_code == 429 and "15 分钟" in response.get_data(as_text=True)
    assert login(client, "slj_fyr").status_code == 302  # another account is not locked


def test_failed_log_ins_are_audited_and_counted_across_workers(app, session, client, seeded):
    from opinion import create_app
    from opinion.models import AuditEvent, db
    for _ in range(3):
        login(client, "jyj_fyr", "guess")
    login(client, "nobody", "guess")
    failed = session.execute(select(AuditEvent).where(AuditEvent.action == "user.login_failed")
                             .order_by(AuditEvent.id)).scalars().all()
    assert [(e.actor, e.reason) for e in failed] == [("jyj_fyr", "来自 127.0.0.1")] * 3 + [("nobody", "来自 127.0.0.1")]
    assert failed[0].object_id is not None and failed[-1].object_id is None
    # A second web worker (another app on the same database) sees the same count.
    other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                        "WTF_CSRF_ENABLED": False})
    with other.app_context():
        other_client = other.test_client()
        login(other_client, "jyj_fyr", "guess")
        login(other_client, "jyj_fyr", "guess")
        assert login(other_client, "jyj_fyr").status_code == 429
        db.session.remove()
    session.expire_all()
    assert login(client, "jyj_fyr").status_code == 429


def test_failed_log_ins_older_than_the_window_do_not_count(client, session, seeded):
    from datetime import timedelta

    from opinion import audit
    from opinion.models import utcnow
    for minutes in (16, 17, 18, 19, 20):
        event = audit.record(session, "user.login_failed", "user", None, reason="来自 127.0.0.1",
                             at=utcnow() - timedelta(minutes=minutes))
        event.actor = "jyj_fyr"
    session.commit()
    assert login(client, "jyj_fyr").status_code == 302


def test_a_successful_log_in_clears_the_count_and_is_audited(client, session, seeded):
    from opinion.models import AuditEvent
    for _ in range(4):
        login(client, "jyj_fyr", "guess")
    assert login(client, "jyj_fyr").status_code == 302
    client.post("/logout")
    for _ in range(4):  # four new failures: the earlier four were cleared by the log-in
        login(client, "jyj_fyr", "guess")
    assert login(client, "jyj_fyr").status_code == 302
    logins = session.execute(select(AuditEvent).where(AuditEvent.action == "user.login")).scalars().all()
    assert [(e.actor, e.reason) for e in logins] == [("jyj_fyr", "来自 127.0.0.1")] * 2


@pytest.mark.parametrize("user,page,words", [
    ("slj_fyr", "/inbox/", ["发言人工作台", "区水利局", "待签收"]),
    ("monitor1", "/monitor/", ["舆情监测台", "最新话题", "积水"]),
    ("leader", "/leader/", ["本周舆情概览", "各单位回应情况", "区水利局"]),
])
def test_each_role_lands_on_its_page_with_content(client, seeded, user, page, words):
    home = login(client, user)
    assert home.status_code == 302 and home.headers["Location"].endswith(page)
    html = client.get(page).get_data(as_text=True)
    for word in words:
        assert word in html


def test_spokesperson_answers_a_case(client, session, seeded):
    login(client, "slj_fyr")
    assert f"/cases/{seeded.id}" in client.get("/inbox/").get_data(as_text=True)
    page = client.get(f"/cases/{seeded.id}").get_data(as_text=True)
    assert "积水" in page and "签收" in page and "首次回应" in page
    assert "<script>alert" not in page and "&lt;script&gt;" not in page  # cleaned, and escaped anyway
    assert "javascript:alert" not in page
    client.post(f"/cases/{seeded.id}/acknowledge")
    response = client.post(f"/cases/{seeded.id}/reply", data={"text": "已安排抽水，预计两小时内恢复通行。"},
                           follow_redirects=True)
    assert "回复已记录" in response.get_data(as_text=True)
    session.refresh(seeded)
    assert seeded.status == "replied" and seeded.first_response_at is not None
    assert session.execute(select(Reply)).scalar_one().text.startswith("已安排抽水")


def test_empty_reply_is_refused_with_a_message(client, session, seeded):
    login(client, "slj_fyr")
    response = client.post(f"/cases/{seeded.id}/reply", data={"text": "  "}, follow_redirects=True)
    assert "回复内容不能为空" in response.get_data(as_text=True)
    assert session.execute(select(Reply)).first() is None


def test_other_units_spokesperson_cannot_see_or_touch_the_case(client, session, seeded):
    login(client, "jyj_fyr")
    assert client.get(f"/cases/{seeded.id}").status_code == 404
    assert client.post(f"/cases/{seeded.id}/reply", data={"text": "越权"}).status_code == 404
    assert f"/cases/{seeded.id}" not in client.get("/inbox/").get_data(as_text=True)
    assert session.execute(select(Reply)).first() is None


def test_leader_reads_but_cannot_act(client, session, seeded):
    login(client, "leader")
    page = client.get(f"/cases/{seeded.id}").get_data(as_text=True)
    assert "积水" in page and "提交回复" not in page
    client.post(f"/cases/{seeded.id}/reply", data={"text": "领导回复"}, follow_redirects=True)
    assert session.execute(select(Reply)).first() is None
    assert client.get("/inbox/").status_code == 403 and client.get("/monitor/").status_code == 403


def test_pages_need_login(client, seeded):
    for url in ("/inbox/", "/monitor/", "/leader/", f"/cases/{seeded.id}"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_security_headers(client, seeded):
    headers = client.get("/login").headers
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"


def test_forms_without_csrf_token_are_refused(app, seeded):
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    assert client.post("/login", data={"username": "slj_fyr", "password": "x"}).status_code == 400
    html = client.get("/login").get_data(as_text=True)
    assert 'name="csrf_token"' in html
