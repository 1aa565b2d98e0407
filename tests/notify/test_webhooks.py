"""Case-event webhooks against a receiver started by the test: every event arrives once, signed,
and the one the receiver answered 500 arrives again after the back-off."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from opinion.cases import lifecycle, survey
from opinion.models import WebhookDelivery, utcnow
from opinion.notify import webhooks
from tests.cases.conftest import open_case, people  # noqa: F401 - fixture
from tests.conftest import at

SECRET = "partner-secret"


@pytest.fixture
def receiver():
    """A partner's endpoint: answers 500 to the first request, 200 after; keeps what it took."""
    got = {"accepted": [], "refused": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if got["refused"] == 0:
                got["refused"] += 1
                self.send_response(500)
                self.end_headers()
                return
            got["accepted"].append((dict(self.headers), body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook", got
    server.shutdown()
    server.server_close()


def test_each_case_event_arrives_once_signed_and_a_500_is_retried(session, district, people, receiver):  # noqa: F811
    url, got = receiver
    case = open_case(session, district, start="2026-11-23 09:00")
    now = utcnow()
    lifecycle.record_escalation(session, case, 2, "超时未签收", ["jyj_head"], "inapp", now)
    lifecycle.add_reply(session, case, people["fyr"], "已收到，正在处理", now)
    survey.resolve(session, district, case, people["fyr"], "已处理", now, base_url="http://x")
    lifecycle.record_callback(session, district, case, people["monitor"], "unsatisfied", "没修好", now)
    session.commit()

    assert webhooks.enqueue(session, [url], at("2026-11-23 10:00")) == 5
    session.commit()
    assert webhooks.enqueue(session, [url], at("2026-11-23 10:01")) == 0  # queued once
    first = webhooks.deliver_due(session, SECRET, now)
    assert first == {"sent": 4, "retry": 1, "failed": 0} and got["refused"] == 1
    assert webhooks.deliver_due(session, SECRET, now + timedelta(seconds=30)) == {"sent": 0, "retry": 0, "failed": 0}
    retry = webhooks.deliver_due(session, SECRET, now + timedelta(minutes=2))  # after the back-off
    assert retry == {"sent": 1, "retry": 0, "failed": 0}
    assert webhooks.deliver_due(session, SECRET, now + timedelta(hours=1))["sent"] == 0  # nothing twice

    events = []
    for headers, body in got["accepted"]:
        stamp = headers["X-Opinion-Timestamp"]
        expected = "sha256=" + hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Opinion-Signature"], expected)
        data = json.loads(body)
        assert data["event"] == headers["X-Opinion-Event"] and data["case"]["id"] == case.id
        events.append(data["event"])
    assert sorted(events) == sorted(["case.created", "case.escalated", "case.replied", "case.resolved",
                                     "case.reopened"])
    assert len({h["X-Opinion-Delivery"] for h, _ in got["accepted"]}) == 5
    rows = session.execute(select(WebhookDelivery)).scalars().all()
    assert all(r.status == "sent" for r in rows) and sorted(r.attempts for r in rows) == [1, 1, 1, 1, 2]


def test_a_receiver_that_never_answers_is_given_up_after_the_attempts(session, district, people):  # noqa: F811
    open_case(session, district)
    webhooks.enqueue(session, ["http://127.0.0.1:9/nothing"], at("2026-11-23 10:00"))
    session.commit()
    now = utcnow()
    for minutes in (0, 1, 3):
        webhooks.deliver_due(session, SECRET, now + timedelta(minutes=minutes), timeout=1, max_attempts=3)
    row = session.execute(select(WebhookDelivery)).scalar_one()
    assert row.status == "failed" and row.attempts == 3 and "无法连接" in row.error


def test_the_scheduler_pass_needs_a_secret_once_urls_are_configured(session):
    from opinion.errors import DeliveryError
    assert webhooks.run(session, {"CASE_WEBHOOK_URLS": []}) == {"sent": 0, "retry": 0, "failed": 0}
    with pytest.raises(DeliveryError, match="签名密钥"):
        webhooks.run(session, {"CASE_WEBHOOK_URLS": ["http://127.0.0.1:9/"], "CASE_WEBHOOK_SECRET": ""})


def test_the_openapi_document_describes_every_case_event():
    from pathlib import Path
    doc = json.loads((Path(webhooks.__file__).parents[1] / "web" / "api" / "openapi.json").read_text(encoding="utf-8"))
    assert set(doc["webhooks"]) == set(webhooks.EVENTS.values())
    for hook in doc["webhooks"].values():
        headers = {p["name"] for p in hook["post"]["parameters"] if p["in"] == "header"}
        assert headers == {"X-Opinion-Event", "X-Opinion-Delivery", "X-Opinion-Timestamp", "X-Opinion-Signature"}
        assert hook["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/CaseEvent"
    required = set(doc["components"]["schemas"]["CaseEvent"]["required"])
    assert required == {"event", "event_id", "occurred_at", "case", "change"}
