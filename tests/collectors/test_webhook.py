"""POST /api/v1/ingest: token + HMAC-signed pushes, replay window, per-item answers."""
import json
import re
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from opinion.models import Post, Source
from opinion.web.api.push import sign

TOKEN, SECRET = "hotline-token-1", "hotline-secret-1"


@pytest.fixture
def hotline(session):
    source = Source(code="hotline", name="12345 热线", kind="webhook", enabled=True,
                    config={"token": TOKEN, "secret": SECRET}, state={})
    session.add(source)
    session.commit()
    return source


def push(client, payload, *, token=TOKEN, secret=SECRET, stamp=None, body=None, signature=None):
    body = body if body is not None else json.dumps(payload, ensure_ascii=False).encode("utf-8")
    stamp = str(int(time.time())) if stamp is None else stamp
    headers = {"Authorization": f"Bearer {token}", "X-Opinion-Timestamp": stamp,
               "X-Opinion-Signature": signature or sign(secret, stamp, body), "Content-Type": "application/json"}
    return client.post("/api/v1/ingest", data=body, headers=headers)


ITEM = {"id": "GD20261123001", "text": "市民来电反映：中山路下穿隧道积水严重，车辆无法通行，请尽快处理",
        "created_at": "2026-11-23T09:10:00+08:00", "author": "12345 热线"}


def count(session):
    return session.execute(select(func.count()).select_from(Post)).scalar()


def test_one_item_is_accepted_then_duplicate(client, session, hotline):
    first = push(client, ITEM)
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["accepted"] == 1 and first.get_json()["items"][0]["status"] == "accepted"
    again = push(client, ITEM)  # a second delivery of the same work order
    assert again.get_json()["items"][0]["status"] == "duplicate" and count(session) == 1
    session.refresh(hotline)
    assert hotline.status == "ok" and hotline.last_success_at is not None


def test_a_batch_answers_each_item(client, session, hotline):
    batch = {"items": [ITEM, {"id": "GD2", "text": "  "}, {"text": "没有编号"}, "不是对象",
                       {"id": "GD3", "text": "北关路公交改线后老人出行不便", "created_at": "昨天"},
                       {"id": "GD4", "text": "南门口工地夜间施工噪音扰民", "reposts": -3},
                       {"id": "GD5", "text": "锦绣社区垃圾三天没人清运"}, {"id": "GD5", "text": "锦绣社区垃圾三天没人清运"}]}
    out = push(client, batch).get_json()
    statuses = [(i["id"], i["status"]) for i in out["items"]]
    assert statuses == [("GD20261123001", "accepted"), ("GD2", "rejected"), (None, "rejected"), (None, "rejected"),
                        ("GD3", "rejected"), ("GD4", "rejected"), ("GD5", "accepted"), ("GD5", "duplicate")]
    reasons = [i.get("reason", "") for i in out["items"]]
    assert "正文为空" in reasons[1] and "缺少 id" in reasons[2] and "JSON 对象" in reasons[3]
    assert "ISO-8601" in reasons[4] and "负数" in reasons[5]
    assert (out["accepted"], out["duplicate"], out["rejected"]) == (2, 1, 5) and count(session) == 2


@pytest.mark.parametrize("kwargs,code,words", [
    ({"token": "wrong"}, "invalid_token", "令牌无效"),
    ({"signature": "sha256=" + "0" * 64}, "bad_signature", "签名无效"),
    ({"secret": "not-the-secret"}, "bad_signature", "签名无效"),
    ({"stamp": str(int(time.time()) - 301)}, "stale_timestamp", "重放"),
    ({"stamp": str(int(time.time()) + 3600)}, "stale_timestamp", "超过 5 分钟"),
    ({"stamp": "yesterday"}, "bad_timestamp", "时间戳"),
])
def test_bad_credentials_and_replays_are_refused(client, session, hotline, kwargs, code, words):
    resp = push(client, ITEM, **kwargs)
    assert resp.status_code == 401 and resp.get_json()["code"] == code and words in resp.get_json()["error"]
    assert count(session) == 0
    if code != "invalid_token":  # the source's operators see the refusal on its page
        session.refresh(hotline)
        assert words in hotline.last_error
        # stamped in the district's time, as the page shows every other time
        beijing = datetime.now(timezone(timedelta(hours=8)))
        assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d 拒收推送：", hotline.last_error)
        assert hotline.last_error[:10] == beijing.strftime("%Y-%m-%d") and "+00:00" not in hotline.last_error


def test_a_replayed_request_is_refused_after_five_minutes(client, session, hotline, monkeypatch):
    body = json.dumps(ITEM, ensure_ascii=False).encode()
    stamp = str(int(time.time()))
    signature = sign(SECRET, stamp, body)
    assert push(client, None, body=body, stamp=stamp, signature=signature).status_code == 200
    later = time.time() + 400
    monkeypatch.setattr("opinion.web.api.push.time.time", lambda: later)
    replay = push(client, None, body=body, stamp=stamp, signature=signature)
    assert replay.status_code == 401 and replay.get_json()["code"] == "stale_timestamp" and count(session) == 1


def test_malformed_json_and_missing_token(client, session, hotline):
    resp = push(client, None, body=b'{"id": "x", "text": ')
    assert resp.status_code == 400 and "JSON" in resp.get_json()["error"]
    resp = client.post("/api/v1/ingest", data=b"{}")
    assert resp.status_code == 401 and resp.get_json()["code"] == "missing_token"


def test_disabled_source_is_refused(client, session, hotline):
    hotline.enabled = False
    session.commit()
    assert push(client, ITEM).status_code == 403


def test_the_openapi_document_describes_what_the_endpoint_does(client, session, hotline):
    import re
    from pathlib import Path

    from opinion.ingest.importer import FIELDS
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    doc = resp.get_json()
    assert doc["openapi"].startswith("3.") and "/ingest" in doc["paths"]
    schemas = doc["components"]["schemas"]
    assert set(schemas["Item"]["properties"]) == set(FIELDS)   # what an item may carry, no more, no less
    # Every refusal code the endpoint can answer is documented, and nothing else.
    source = Path("opinion/web/api/push.py").read_text(encoding="utf-8")
    codes = set(re.findall(r',\s*"([a-z_]+)"(?:, \d{3})?\)', source))  # _error(…, code) and _refuse(…, code[, status])
    assert set(schemas["Error"]["properties"]["code"]["enum"]) == codes
    # The documented signature scheme is the one the endpoint checks.
    resp = push(client, ITEM)
    assert resp.status_code == 200 and set(resp.get_json()) == set(schemas["IngestResult"]["required"])
    item = resp.get_json()["items"][0]
    assert item["status"] in schemas["IngestResult"]["properties"]["items"]["items"]["properties"]["status"]["enum"]
