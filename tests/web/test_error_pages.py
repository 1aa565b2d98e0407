"""Every error page speaks Chinese, says what happened and what to do, and a log-in after an
expired session brings the person back (`?next=`) — issue 18."""
from __future__ import annotations

import re

import pytest

from tests.factories import PASSWORD, login, make_user

ENGLISH = re.compile(r"\b(Not Found|Forbidden|Bad Request|Internal Server Error|CSRF|token|Method Not Allowed)\b")


@pytest.fixture
def spokesperson(session):
    return make_user(session, "slj_fyr", "spokesperson", "slj")


def _page(response) -> str:
    text = response.get_data(as_text=True)
    assert not ENGLISH.search(text), ENGLISH.search(text).group(0)
    return text


def test_not_found_forbidden_and_method_pages_are_chinese(client, spokesperson):
    login(client, "slj_fyr")
    missing = client.get("/no/such/page")
    assert missing.status_code == 404 and "页面不存在" in _page(missing) and "重新进入" in _page(missing)
    forbidden = client.get("/leader/")
    assert forbidden.status_code == 403 and "联系" in _page(forbidden)
    wrong_method = client.get("/logout")
    assert wrong_method.status_code == 405 and "按钮" in _page(wrong_method)


def test_expired_session_form_says_the_text_is_kept_and_offers_login_back(app, client, spokesperson):
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/cases/1/reply", data={"text": "网友您好"},
                           headers={"Referer": "http://localhost/cases/1"})
    page = _page(response)
    assert response.status_code == 400
    assert "页面已过期" in page and "已保存在本浏览器中" in page
    assert "data-keep-drafts" in page  # static/drafts.js keeps the typed text for this page
    assert "/login?next=/cases/1" in page.replace("%2F", "/")


def test_login_goes_back_to_next_on_this_site_only(client, spokesperson):
    back = client.post("/login?next=/duty/", data={"username": "slj_fyr", "password": PASSWORD})
    assert back.status_code == 302 and back.headers["Location"].endswith("/duty/")
    client.post("/logout")
    away = client.post("/login?next=//evil.example/x", data={"username": "slj_fyr", "password": PASSWORD})
    assert "evil" not in away.headers["Location"]


def test_an_unexpected_error_is_a_chinese_500(app, client, spokesperson, monkeypatch):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def broken(*_a, **_kw):
        raise RuntimeError("boom")
    monkeypatch.setattr("opinion.web.inbox.render_template", broken)
    login(client, "slj_fyr")
    response = client.get("/inbox/")
    assert response.status_code == 500
    assert "系统出现内部错误" in _page(response) and "boom" not in _page(response)
