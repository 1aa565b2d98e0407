"""Two-step log-in (TOTP) with recovery codes for administrators and leaders (issue 17, item 7)."""
from __future__ import annotations

import re
import time

import pyotp
import pytest
from sqlalchemy import select

from opinion.models import AuditEvent, User
from tests.factories import PASSWORD, login, make_user
from tests.web.test_sessions_and_login import Browser


@pytest.fixture
def client(app):
    return Browser(app)


@pytest.fixture
def admin(session):
    return make_user(session, "admin", "admin")


def enrol(client) -> tuple[str, list[str]]:
    """Set it up through the page as the logged-in user: (secret, recovery codes)."""
    page = client.get("/account/two-factor")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "data:image/svg+xml" in text and "扫描二维码" in text
    with client.session_transaction() as s:
        secret = s["two_factor_secret"]
    assert " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)) in text  # typed by hand if no camera
    done = client.post("/account/two-factor", data={"action": "enable", "code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200 and "两步验证已启用" in done.get_data(as_text=True)
    codes = re.findall(r"<code>([0-9a-f]{4}-[0-9a-f]{4})</code>", done.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def next_code(secret: str) -> str:
    """The code of the next time step (the current one was spent setting it up)."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def test_enrol_then_log_in_with_a_code(app, client, session, admin):
    login(client, "admin")
    secret, _ = enrol(client)
    session.expire_all()
    assert session.get(User, admin.id).totp_enabled_at is not None
    client.post("/logout")
    step_one = login(client, "admin")
    assert step_one.status_code == 302 and step_one.headers["Location"].endswith("/login/code")
    assert client.get("/admin/").status_code == 302  # the password alone does not log in
    wrong = client.post("/login/code", data={"code": "000000" if next_code(secret) != "000000" else "111111"})
    assert wrong.status_code == 401 and "验证码不正确" in wrong.get_data(as_text=True)
    right = client.post("/login/code", data={"code": next_code(secret)})
    assert right.status_code == 302 and right.headers["Location"].endswith("/admin/")
    assert client.get("/admin/").status_code == 200
    actions = session.execute(select(AuditEvent.action).where(AuditEvent.actor == "admin")).scalars().all()
    assert "user.two_factor_enabled" in actions and "user.two_factor_failed" in actions


def test_a_code_works_once(app, client, session, admin):
    login(client, "admin")
    secret, _ = enrol(client)
    code = next_code(secret)
    client.post("/logout")
    login(client, "admin")
    assert client.post("/login/code", data={"code": code}).status_code == 302
    client.post("/logout")
    login(client, "admin")
    assert client.post("/login/code", data={"code": code}).status_code == 401  # seen over a shoulder: spent


def test_a_recovery_code_works_once(app, client, session, admin):
    login(client, "admin")
    _, codes = enrol(client)
    client.post("/logout")
    login(client, "admin")
    used = client.post("/login/code", data={"code": codes[3].upper()})
    assert used.status_code == 302
    assert "还剩 9 个" in client.get(used.headers["Location"], follow_redirects=True).get_data(as_text=True)
    client.post("/logout")
    login(client, "admin")
    assert client.post("/login/code", data={"code": codes[3]}).status_code == 401
    assert client.post("/login/code", data={"code": codes[4]}).status_code == 302


def test_the_second_step_expires_and_cannot_be_skipped(app, client, admin):
    assert client.get("/login/code").status_code == 302  # no password given yet
    login(client, "admin")
    secret, _ = enrol(client)
    client.post("/logout")
    login(client, "admin")
    with client.session_transaction() as s:
        s["two_factor_pending"]["at"] -= 301
    late = client.post("/login/code", data={"code": next_code(secret)})
    assert late.status_code == 302 and late.headers["Location"].endswith("/login")


def test_production_sends_an_admin_without_it_to_set_it_up(app, client, session, admin):
    import config
    assert config.ProductionConfig.TWO_FACTOR_REQUIRED_ROLES == ("admin",)
    assert app.config["TWO_FACTOR_REQUIRED_ROLES"] == ()  # the demo and tests: nobody must
    app.config["TWO_FACTOR_REQUIRED_ROLES"] = ("admin",)
    make_user(session, "leader", "leader")
    login(client, "admin")
    page = client.get("/admin/")
    assert page.status_code == 302 and page.headers["Location"].endswith("/account/two-factor")
    assert "要求管理员启用两步验证" in client.get("/account/two-factor").get_data(as_text=True)
    enrol(client)
    assert client.get("/admin/").status_code == 200
    refused = client.post("/account/two-factor", data={"action": "disable", "password": PASSWORD, "code": "x"})
    assert refused.status_code == 400 and "不能关闭" in refused.get_data(as_text=True)
    leader = Browser(app)
    login(leader, "leader")
    assert leader.get("/leader/").status_code == 200  # leaders may, but need not


def test_turning_it_off_needs_the_password_and_a_code(app, client, session, admin):
    login(client, "admin")
    secret, _ = enrol(client)
    wrong = client.post("/account/two-factor", data={"action": "disable", "password": "nope", "code": next_code(secret)})
    assert wrong.status_code == 400 and "当前密码不正确" in wrong.get_data(as_text=True)
    done = client.post("/account/two-factor", data={"action": "disable", "password": PASSWORD,
                                                    "code": next_code(secret)})
    assert done.status_code == 302
    session.expire_all()
    assert session.get(User, admin.id).totp_enabled_at is None
    client.post("/logout")
    assert login(client, "admin").headers["Location"].endswith("/admin/")


def test_only_admins_and_leaders_have_it(app, client, session):
    make_user(session, "slj_fyr", "spokesperson", "slj")
    login(client, "slj_fyr")
    assert client.get("/account/two-factor").status_code == 403
    assert "两步验证" not in client.get("/inbox/").get_data(as_text=True)


def test_a_lost_phone_is_reset_by_an_admin_or_on_the_console(app, client, session, admin, runner):
    make_user(session, "admin2", "admin")
    login(client, "admin")
    enrol(client)
    other = Browser(app)
    login(other, "admin2")
    enrol(other)
    client.post(f"/admin/users/{session.get(User, admin.id).id}", data={"action": "reset_two_factor"})
    session.expire_all()
    assert session.get(User, admin.id).totp_enabled_at is not None  # not one's own
    other.post(f"/admin/users/{admin.id}", data={"action": "reset_two_factor"})
    session.expire_all()
    assert session.get(User, admin.id).totp_enabled_at is None
    assert client.get("/admin/").status_code == 302  # the old session ended with it
    assert login(client, "admin").headers["Location"].endswith("/admin/")
    result = runner.invoke(args=["users", "reset-two-factor", "admin2"])
    assert result.exit_code == 0 and "已重置 admin2" in result.output
    session.expire_all()
    assert session.execute(select(User).where(User.username == "admin2")).scalar_one().totp_enabled_at is None


def test_wrong_codes_from_many_addresses_lock_the_second_step(app, client, session, admin):
    login(client, "admin")
    secret, _ = enrol(client)
    wrong = "000000" if next_code(secret) != "000000" else "111111"
    statuses = []
    for n in range(7):  # a botnet: each address a fresh client, right password, wrong code
        bot = Browser(app)
        env = {"REMOTE_ADDR": f"10.1.0.{n}"}
        assert bot.post("/login", data={"username": "admin", "password": PASSWORD},
                        environ_base=env).status_code == 302
        statuses.append(bot.post("/login/code", data={"code": wrong}, environ_base=env).status_code)
    assert statuses == [401] * 5 + [429] * 2
