"""Sessions end when they should, password guessing is counted exactly, user names cannot be
told apart by timing, and a NUL in a request is refused with 400 (issue 17, item 4)."""
from __future__ import annotations

import contextvars
import statistics
import threading
import time

import pytest
from sqlalchemy import func, select

from opinion.models import AuditEvent, User
from tests.factories import PASSWORD, login, make_user


class Browser:
    """A test client whose every request runs outside the test's app context, as in a server.

    Inside it, Flask reuses the test's app context and with it `g`, where Flask-Login keeps the
    user it loaded: a second client would see the first one's user and never load its own.
    """

    def __init__(self, app):
        self.client = app.test_client()

    def get(self, *args, **kw):
        return contextvars.Context().run(self.client.get, *args, **kw)

    def post(self, *args, **kw):
        return contextvars.Context().run(self.client.post, *args, **kw)

    def __getattr__(self, name):
        return getattr(self.client, name)


@pytest.fixture
def client(app):
    return Browser(app)


@pytest.fixture
def people(session):
    return {name: make_user(session, name, role, unit) for name, role, unit in
            [("slj_fyr", "spokesperson", "slj"), ("admin", "admin", None)]}


def _client_with_cookie(app, cookie: str):
    other = Browser(app)
    other.set_cookie("session", cookie)
    return other


def _is_logged_in(client) -> bool:
    response = client.get("/inbox/")
    return response.status_code == 200


def test_a_copied_cookie_stops_working_after_log_out(app, client, people):
    assert login(client, "slj_fyr").status_code == 302
    copied = client.get_cookie("session").value
    thief = _client_with_cookie(app, copied)
    assert _is_logged_in(thief)  # the copy works while its owner is logged in
    client.post("/logout")
    assert not _is_logged_in(thief)
    assert thief.get("/inbox/").headers["Location"].startswith("/login")
    assert login(client, "slj_fyr").status_code == 302 and _is_logged_in(client)  # logging in again works


def test_a_new_password_ends_every_other_session_but_not_this_one(app, client, session, people):
    login(client, "slj_fyr")
    laptop = Browser(app)
    login(laptop, "slj_fyr")
    response = client.post("/account/password", data={"current_password": PASSWORD, "new_password": "newer5678x",
                                                      "confirm_password": "newer5678x"})
    assert response.status_code == 302
    assert _is_logged_in(client)
    assert not _is_logged_in(laptop)


def test_deactivating_an_account_ends_its_sessions(app, client, session, people):
    login(client, "slj_fyr")
    admin = Browser(app)
    login(admin, "admin")
    admin.post(f"/admin/users/{people['slj_fyr'].id}", data={"action": "deactivate"})
    session.expire_all()
    assert not session.get(User, people["slj_fyr"].id).active
    assert not _is_logged_in(client)
    admin.post(f"/admin/users/{people['slj_fyr'].id}", data={"action": "activate"})
    assert not _is_logged_in(client)  # turning it back on does not revive the old session


def test_an_admin_resetting_their_own_password_stays_logged_in(app, client, session, people):
    login(client, "admin")
    response = client.post(f"/admin/users/{people['admin'].id}", data={"action": "password",
                                                                      "password": "admin5678x"})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_thirty_parallel_wrong_passwords_get_exactly_five_checks(app, session, people):
    statuses, start = [], threading.Barrier(30)

    def attempt():
        client = Browser(app)
        start.wait()
        statuses.append(login(client, "slj_fyr", "guess1234").status_code)

    threads = [threading.Thread(target=attempt) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    session.expire_all()
    checked = session.execute(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "user.login_failed")).scalar()
    assert sorted(statuses) == [401] * 5 + [429] * 25
    assert checked == 5
    assert login(Browser(app), "slj_fyr").status_code == 429  # the right one too, for the window


def test_an_unknown_user_name_costs_a_password_hash(app, client, people, monkeypatch):
    import opinion.accounts.login as checks
    calls = []
    real = checks.check_password_hash
    monkeypatch.setattr(checks, "check_password_hash", lambda h, p: calls.append(p) or real(h, p))
    assert login(client, "nobody_here", "guess1234").status_code == 401
    assert calls == ["guess1234"]


def test_an_unknown_user_is_refused_about_as_slowly_as_a_known_one(app, people):
    def seconds(username: str) -> float:
        client = Browser(app)
        begun = time.perf_counter()
        assert login(client, username, "guess1234").status_code == 401
        return time.perf_counter() - begun

    seconds("nobody_0")  # the first unknown name makes the dummy hash once
    known = statistics.median(seconds("slj_fyr") for _ in range(3))
    unknown = statistics.median(seconds(f"nobody_{i}") for i in range(3))
    # Before, an unknown name answered ten times faster (~40 ms against ~400 ms).
    assert unknown / known > 0.5, (known, unknown)


@pytest.mark.parametrize("how", ["login", "audit", "api"])
def test_a_nul_in_a_request_is_refused_with_400(app, client, session, people, how):
    if how == "login":
        response = client.post("/login", data={"username": "slj\x00fyr", "password": "x"})
    elif how == "audit":
        login(client, "admin")
        response = client.get("/audit/", query_string={"actor": "a\x00b"})
    else:
        from opinion.accounts.tokens import create_token
        secret = create_token(session, people["admin"], "测试")[1]
        session.commit()
        response = client.get("/api/v1/cases", query_string={"unit": "slj\x00"},
                              headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 400
    assert "空字符" in response.get_data(as_text=True)
