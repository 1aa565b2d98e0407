"""Delivery over real local servers: SMTP (aiosmtpd), a robot webhook and an SMS gateway (http.server)."""
from __future__ import annotations

import json
import socket
import threading
import urllib.parse
from datetime import timedelta
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from opinion.alerts.engine import notify_monitors
from opinion.models import Alert, Notification, utcnow
from opinion.notify import notify
from opinion.notify.channels import WebhookChannel
from opinion.notify.delivery import deliver_pending
from tests.conftest import at
from tests.factories import make_user as _make_user


def make_user(session, username, role, unit=None, email=None, phone=None):
    user = _make_user(session, username, role, unit)
    user.email, user.phone = email, phone
    session.commit()
    return user


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
            return "250 OK"

    inbox = Inbox()
    with socket.socket() as probe:  # a free port (the controller checks itself by connecting to it)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox.messages
    controller.stop()


class FakeServer:
    """A local HTTP server that records each request and answers with `self.answer` (status, body)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answer = (200, '{"errcode": 0, "errmsg": "ok"}')
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status, text = outer.answer
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(text.encode())

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def http_server():
    server = FakeServer()
    yield server
    server.close()


def test_email_goes_out_over_smtp(app, session, smtp_server):
    port, inbox = smtp_server
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_FROM="yuqing@example.gov.cn")
    monitor = make_user(session, "monitor1", "monitor", email="m1@example.gov.cn")
    [row] = notify(session, [monitor], "【警告预警】敏感词命中", "话题「中山路积水」出现敏感词", channels=("email",))
    session.commit()
    assert row.status == "pending"
    assert deliver_pending(session, app) == {"sent": 1, "retry": 0, "failed": 0}
    assert row.status == "sent" and row.sent_at and row.attempts == 1 and row.error is None
    [(to, msg)] = inbox
    assert to == ["m1@example.gov.cn"] and msg["Subject"] == "【警告预警】敏感词命中"
    assert "中山路积水" in msg.get_content() and "yuqing@example.gov.cn" in msg["From"]


def test_unreachable_smtp_is_retried_with_backoff_then_given_up(app, session):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=1, NOTIFY_MAX_ATTEMPTS=3, NOTIFY_TIMEOUT=2)
    monitor = make_user(session, "monitor1", "monitor", email="m1@example.gov.cn")
    now = utcnow()
    [row] = notify(session, [monitor], "主题", "正文", channels=("email",), now=now)
    session.commit()
    assert deliver_pending(session, app, now) == {"sent": 0, "retry": 1, "failed": 0}
    assert row.status == "pending" and "第 1 次发送失败" in row.error and "127.0.0.1:1" in row.error
    assert row.next_attempt_at == now + timedelta(minutes=1)
    assert deliver_pending(session, app, now + timedelta(seconds=30))["retry"] == 0  # not due yet
    deliver_pending(session, app, now + timedelta(minutes=1))
    assert row.attempts == 2 and row.next_attempt_at == now + timedelta(minutes=3)
    assert deliver_pending(session, app, now + timedelta(minutes=3))["failed"] == 1
    assert row.status == "failed" and row.attempts == 3 and "第 3 次" in row.error


def test_unconfigured_channel_says_which_setting(app, session):
    [row] = notify(session, ["13800000000"], "主题", "正文", channels=("sms",))
    session.commit()
    deliver_pending(session, app)
    assert "OPINION_SMS_URL" in row.error and row.status == "pending"


@pytest.mark.parametrize("fmt", ["wecom", "dingtalk"])
def test_robot_webhook(app, session, http_server, fmt):
    app.config.update(WEBHOOK_FORMAT=fmt, WEBHOOK_SECRET="SEC123" if fmt == "dingtalk" else "")
    [row] = notify(session, [http_server.url + "/robot/send?access_token=abc"], "【严重预警】声量突增",
                   "话题「化工厂爆炸」近 1 小时 80 条", channels=("webhook",))
    session.commit()
    assert deliver_pending(session, app)["sent"] == 1
    [req] = http_server.requests
    body = json.loads(req["body"])
    assert body == {"msgtype": "text", "text": {"content": "【严重预警】声量突增\n话题「化工厂爆炸」近 1 小时 80 条"}}
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(req["path"]).query)
    assert query["access_token"] == ["abc"]
    if fmt == "dingtalk":  # 加签: the sign the robot would compute from the same timestamp
        expected = WebhookChannel({"WEBHOOK_FORMAT": "dingtalk", "WEBHOOK_SECRET": "SEC123"}).url(
            "x", int(query["timestamp"][0]))
        assert urllib.parse.quote_plus(query["sign"][0]) in expected


def test_robot_refusal_is_recorded(app, session, http_server):
    http_server.answer = (200, '{"errcode": 310000, "errmsg": "keywords not in content"}')
    [row] = notify(session, [http_server.url], "主题", "正文", channels=("webhook",))
    session.commit()
    deliver_pending(session, app)
    assert row.status == "pending" and "310000" in row.error and "keywords not in content" in row.error


def test_sms_gateway_shape_from_configuration(app, session, http_server):
    app.config.update(SMS_URL=http_server.url + "/sms", SMS_ENCODING="form",
                      SMS_BODY='{"mobile": "{phone}", "content": "{text}", "sign": "某区政府"}',
                      SMS_HEADERS='{"X-Api-Key": "k-1"}', SMS_SUCCESS="code=0")
    http_server.answer = (200, '{"code": 0}')
    leader = make_user(session, "leader", "leader", phone="13800000001")
    [row] = notify(session, [leader], "【短信督办】", "工单 #3 超时", channels=("sms",))
    session.commit()
    assert deliver_pending(session, app)["sent"] == 1
    [req] = http_server.requests
    form = urllib.parse.parse_qs(req["body"].decode())
    assert form == {"mobile": ["13800000001"], "content": ["【短信督办】：工单 #3 超时"], "sign": ["某区政府"]}
    assert req["headers"]["X-Api-Key"] == "k-1"
    http_server.answer = (200, '{"code": 17, "msg": "余额不足"}')
    [row2] = notify(session, [leader], "再次", "超时", channels=("sms",))
    session.commit()
    deliver_pending(session, app)
    assert row2.status == "pending" and "code=17" in row2.error


def test_gateway_http_error_is_recorded(app, session, http_server):
    app.config.update(SMS_URL=http_server.url + "/sms")
    http_server.answer = (503, "busy")
    [row] = notify(session, ["13800000002"], "主题", "正文", channels=("sms",))
    session.commit()
    deliver_pending(session, app)
    assert "HTTP 503" in row.error and row.next_attempt_at is not None


def _alert(session, severity):
    alert = Alert(kind="sensitive_word", severity=severity, message="话题「某事」出现敏感词“腐败”",
                  dedup_key=f"k-{severity}", open_key=f"k-{severity}")
    session.add(alert)
    session.flush()
    return alert


@pytest.mark.parametrize("when,severity,expected", [
    ("2026-11-23 10:00", "warning", ["email", "inapp", "webhook"]),
    ("2026-11-23 23:30", "warning", ["inapp"]),                      # quiet hours: in-app only
    ("2026-11-23 23:30", "critical", ["email", "inapp", "sms", "webhook"]),  # unless critical
    ("2026-11-23 10:00", "info", ["inapp"]),
])
def test_alerts_respect_quiet_hours(app, session, when, severity, expected):
    app.config["ALERT_WEBHOOK_URLS"] = ["http://127.0.0.1:9/robot"]
    make_user(session, "monitor1", "monitor", email="m1@example.gov.cn", phone="13800000003")
    make_user(session, "monitor2", "monitor")  # no e-mail, no phone: in-app only, not twice
    rows = notify_monitors(session, app, _alert(session, severity), at(when))
    assert sorted({r.channel for r in rows}) == expected
    assert len([r for r in rows if r.channel == "inapp"]) == 2
    assert session.execute(select(Notification).where(Notification.channel == "inapp",
                                                      Notification.status != "sent")).first() is None
