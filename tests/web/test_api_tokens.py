"""Personal API tokens: made, used, expired, revoked; their user's state; the page; the command line;
the audit log; and the two kinds of token kept apart (webhook source vs personal)."""
import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from opinion.accounts.tokens import create_token, hash_secret, revoke_token
from opinion.models import ApiToken, AuditEvent, Source, utcnow
from opinion.web.api.push import sign
from tests.factories import login, make_user


def read(client, secret, path="/api/v1/cases"):
    return client.get(path, headers={"Authorization": f"Bearer {secret}"})


@pytest.fixture
def monitor(session):
    return make_user(session, "mon", "monitor", "center")


def test_a_token_works_until_it_is_revoked_and_both_are_audited(client, session, monitor):
    token, secret = create_token(session, monitor, "大屏展示", days=30)
    session.commit()
    assert token.token_hash == hash_secret(secret) and secret not in (token.token_hash, token.prefix)
    assert secret.startswith(token.prefix) and len(token.prefix) == 12
    assert read(client, secret).status_code == 200
    revoke_token(session, token, monitor)
    session.commit()
    resp = read(client, secret)
    assert resp.status_code == 401 and resp.get_json()["code"] == "token_revoked"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    events = session.execute(select(AuditEvent).where(AuditEvent.object_type == "api_token")
                             .order_by(AuditEvent.id)).scalars().all()
    assert [(e.action, e.actor, e.object_id) for e in events] == [("token.created", "mon", token.id),
                                                                 ("token.revoked", "mon", token.id)]
    assert events[0].after["name"] == "大屏展示" and events[0].after["prefix"] == token.prefix
    assert secret not in json.dumps([e.after for e in events], ensure_ascii=False)  # never the secret


def test_an_expired_token_is_refused(client, session, monitor):
    _, old = create_token(session, monitor, "旧脚本", days=1, now=utcnow() - timedelta(days=2))
    _, fresh = create_token(session, monitor, "新脚本", days=1)
    session.commit()
    resp = read(client, old)
    assert resp.status_code == 401 and resp.get_json()["code"] == "token_expired" and "过期" in resp.get_json()["error"]
    assert read(client, fresh).status_code == 200


def test_a_deactivated_users_tokens_stop_working(client, session, monitor):
    _, secret = create_token(session, monitor, "值班脚本")
    session.commit()
    monitor.active = False
    session.commit()
    resp = read(client, secret)
    assert resp.status_code == 401 and resp.get_json()["code"] == "account_disabled"
    monitor.active = True
    session.commit()
    assert read(client, secret).status_code == 200


@pytest.mark.parametrize("header,code", [
    (None, "missing_token"), ("Bearer ", "missing_token"), ("Basic bW9uOnB3", "missing_token"),
    ("Bearer opn_not-a-real-token", "invalid_token"),
])
def test_missing_and_unknown_tokens_are_401(client, session, monitor, header, code):
    resp = client.get("/api/v1/cases", headers={"Authorization": header} if header else {})
    assert resp.status_code == 401 and resp.get_json()["code"] == code


def test_a_webhook_token_does_not_read_and_a_personal_token_does_not_push(client, session, monitor):
    session.add(Source(code="hotline", name="12345 热线", kind="webhook", enabled=True,
                       config={"token": "hotline-token-1", "secret": "s3cret"}, state={}))
    _, secret = create_token(session, monitor, "推送测试")
    session.commit()
    resp = read(client, "hotline-token-1")
    assert resp.status_code == 401 and resp.get_json()["code"] == "invalid_token"
    assert "推送令牌" in resp.get_json()["error"]
    body, stamp = b'{"id": "1", "text": "x"}', str(int(time.time()))
    pushed = client.post("/api/v1/ingest", data=body, headers={
        "Authorization": f"Bearer {secret}", "X-Opinion-Timestamp": stamp,
        "X-Opinion-Signature": sign("s3cret", stamp, body)})
    assert pushed.status_code == 401 and pushed.get_json()["code"] == "invalid_token"
    assert "个人 API 令牌" in pushed.get_json()["error"]


def test_last_used_is_written_at_most_once_a_minute(client, session, monitor):
    token, secret = create_token(session, monitor, "大屏")
    session.commit()
    assert token.last_used_at is None
    read(client, secret)
    session.expire_all()
    first = session.get(ApiToken, token.id).last_used_at
    assert first is not None and utcnow() - first < timedelta(seconds=30)
    read(client, secret)
    session.expire_all()
    assert session.get(ApiToken, token.id).last_used_at == first  # the same minute: not written again
    session.get(ApiToken, token.id).last_used_at = first - timedelta(minutes=2)
    session.commit()
    read(client, secret)
    session.expire_all()
    assert session.get(ApiToken, token.id).last_used_at > first


@pytest.mark.parametrize("name,days,words", [("", None, "用途"), ("x" * 101, None, "用途"), ("脚本", 0, "有效天数"),
                                             ("脚本", 5000, "有效天数")])
def test_a_token_needs_a_purpose_and_a_sensible_period(session, monitor, name, days, words):
    from opinion.errors import ApiTokenError
    with pytest.raises(ApiTokenError, match=words):
        create_token(session, monitor, name, days=days)


# --- the page -------------------------------------------------------------------------------------

@pytest.mark.parametrize("role,unit", [("spokesperson", "slj"), ("monitor", "center"), ("leader", None),
                                       ("admin", None)])
def test_every_role_has_the_page_in_the_nav(client, session, role, unit):
    make_user(session, "someone", role, unit)
    login(client, "someone")
    html = client.get("/tokens/").get_data(as_text=True)
    assert 'href="/tokens/"' in html and "创建令牌" in html and 'name="csrf_token"' in html


def test_the_page_shows_the_secret_once_and_revokes(client, session):
    me = make_user(session, "slj_fyr", "spokesperson", "slj")
    login(client, "slj_fyr")
    resp = client.post("/tokens/", data={"name": "单位值班脚本", "days": "90"})
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    token = session.execute(select(ApiToken).where(ApiToken.user_id == me.id)).scalar_one()
    html = resp.get_data(as_text=True)
    secret = html.split('id="new-secret" class="code" value="')[1].split('"')[0]
    assert hash_secret(secret) == token.token_hash and "只显示这一次" in html
    assert token.expires_at - utcnow() > timedelta(days=89)
    again = client.get("/tokens/").get_data(as_text=True)
    assert secret not in again and token.prefix in again and "单位值班脚本" in again
    assert read(client, secret).status_code == 200
    client.post(f"/tokens/{token.id}/revoke")
    assert read(client, secret).get_json()["code"] == "token_revoked"
    assert "已吊销" in client.get("/tokens/").get_data(as_text=True)


def test_the_page_refuses_a_bad_form(client, session):
    make_user(session, "boss", "leader")
    login(client, "boss")
    resp = client.post("/tokens/", data={"name": "  ", "days": "90"})
    assert resp.status_code == 400 and "请填写令牌用途" in resp.get_data(as_text=True)
    assert session.execute(select(ApiToken)).first() is None


def test_only_the_owner_or_an_admin_revokes(client, session):
    owner = make_user(session, "slj_fyr", "spokesperson", "slj")
    make_user(session, "jyj_fyr", "spokesperson", "jyj")
    make_user(session, "root", "admin")
    token, secret = create_token(session, owner, "脚本")
    session.commit()
    login(client, "jyj_fyr")
    assert token.prefix not in client.get("/tokens/").get_data(as_text=True)
    assert client.post(f"/tokens/{token.id}/revoke").status_code == 404
    assert read(client, secret).status_code == 200
    login(client, "root")
    html = client.get("/tokens/").get_data(as_text=True)
    assert "其他用户的令牌" in html and token.prefix in html and "slj_fyr" in html
    client.post(f"/tokens/{token.id}/revoke")
    assert read(client, secret).get_json()["code"] == "token_revoked"
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "token.revoked")).scalar_one()
    assert event.actor == "root" and event.after["user"] == "slj_fyr"


# --- the command line -------------------------------------------------------------------------------

def test_the_command_line_creates_lists_and_revokes(client, runner, session, monitor):
    made = runner.invoke(args=["users", "token", "create", "mon", "--name", "值班脚本", "--days", "30"])
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip()
    assert secret.startswith("opn_") and "只显示这一次" in made.stderr
    token = session.execute(select(ApiToken)).scalar_one()
    assert token.token_hash == hash_secret(secret) and token.name == "值班脚本"
    assert read(client, secret).status_code == 200
    listed = runner.invoke(args=["users", "token", "list", "mon"])
    assert token.prefix in listed.output and "在用" in listed.output and secret not in listed.output
    revoked = runner.invoke(args=["users", "token", "revoke", str(token.id)])
    assert revoked.exit_code == 0 and "已吊销" in revoked.output
    assert read(client, secret).status_code == 401
    again = runner.invoke(args=["users", "token", "revoke", str(token.id)])
    assert again.exit_code != 0 and "已于此前吊销" in again.output
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "token.revoked")).scalar_one()
    assert event.actor == "system"


@pytest.mark.parametrize("args,words", [
    (["create", "nobody", "--name", "x"], "没有用户名为 nobody"), (["create", "mon", "--name", "x", "--days", "0"], "有效天数"),
    (["revoke", "999"], "没有编号为 999"),
])
def test_the_command_line_says_what_is_wrong(runner, session, monitor, args, words):
    result = runner.invoke(args=["users", "token", *args])
    assert result.exit_code != 0 and words in result.output
    assert session.execute(select(ApiToken)).first() is None
