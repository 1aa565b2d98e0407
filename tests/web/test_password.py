"""Changing one's own password, and replacing one an administrator gave before doing anything else."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from opinion.models import AuditEvent, User
from tests.factories import PASSWORD, login, make_user
from tests.web.test_admin import admin  # noqa: F401 - fixture


def change(client, current, new, confirm=None):
    return client.post("/account/password", data={"current_password": current, "new_password": new,
                                                  "confirm_password": new if confirm is None else confirm})


def test_an_account_the_admin_made_must_change_its_password_first(client, session, admin):  # noqa: F811
    login(client, "admin")
    client.post("/admin/users/new", data={"username": "zs2", "name": "张三", "role": "spokesperson",
                                          "unit": "zs", "password": "given1234"})
    client.post("/logout")
    user = session.execute(select(User).where(User.username == "zs2")).scalar_one()
    assert user.must_change_password
    assert login(client, "zs2", "given1234").status_code == 302
    page = client.get("/inbox/")  # every page leads to the password form until it is done
    assert page.status_code == 302 and page.headers["Location"].endswith("/account/password")
    assert "请先修改" in client.get("/account/password").get_data(as_text=True)
    done = change(client, "given1234", "mine5678x")
    assert done.status_code == 302 and done.headers["Location"].endswith("/inbox/")
    assert client.get("/inbox/").status_code == 200
    session.refresh(user)
    assert not user.must_change_password and user.check_password("mine5678x")
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "user.password_changed")).scalar_one()
    assert event.actor == "zs2" and event.object_id == user.id and "mine5678x" not in str(event.after)
    client.post("/logout")
    assert login(client, "zs2", "given1234").status_code == 401


@pytest.mark.parametrize("current,new,confirm,words", [
    ("wrong-one1", "better5678", None, "当前密码不正确"),
    (PASSWORD, "better5678", "better5679", "两次输入的新密码不一致"),
    (PASSWORD, PASSWORD, None, "不能与当前密码相同"),
    (PASSWORD, "short1", None, "至少 8 位"),
    (PASSWORD, "onlyletters", None, "同时包含字母和数字"),
    (PASSWORD, "1234567890", None, "同时包含字母和数字"),
    (PASSWORD, "Li4si12345", None, "不能与用户名相同"),
])
def test_a_bad_new_password_is_refused_with_the_reason(client, session, current, new, confirm, words):
    user = make_user(session, "li4si12345", "monitor", "center")
    login(client, "li4si12345")
    response = change(client, current, new, confirm)
    assert response.status_code == 400 and words in response.get_data(as_text=True)
    session.refresh(user)
    assert user.check_password(PASSWORD)


def test_a_reset_asks_for_a_new_password_but_not_the_admins_own(client, session, admin):  # noqa: F811
    user = make_user(session, "ww", "monitor", "center")
    login(client, "admin")
    client.post(f"/admin/users/{user.id}", data={"action": "password", "password": "reset1234"})
    client.post(f"/admin/users/{admin.id}", data={"action": "password", "password": "admin1234x"})
    session.refresh(user)
    session.refresh(admin)
    assert user.must_change_password and not admin.must_change_password
    assert client.get("/admin/").status_code == 200
