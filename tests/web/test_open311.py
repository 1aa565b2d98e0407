"""An Open311 GeoReport v2 client against the running app (waitress on a local port): services,
POST a request, GET its status, and its status after the unit resolves it; every response is
checked against the standard's field names."""
from __future__ import annotations

import pytest
import requests
from sqlalchemy import select

from opinion.models import Case, Post, User, utcnow
from tests.browser import make_app, serve
from tests.factories import make_user

# GeoReport v2's fields (http://wiki.open311.org/GeoReport_v2/).
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
CREATED_FIELDS = {"service_request_id", "service_notice", "account_id"}
REQUEST_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"}


@pytest.fixture
def running(tmp_path, monkeypatch):
    monkeypatch.setenv("OPINION_INSTANCE_DIR", str(tmp_path))
    from opinion.accounts.tokens import create_token
    from opinion.models import db
    app = make_app(tmp_path)
    with app.app_context():
        partner = make_user(db.session, "city12345", "monitor", "center")
        make_user(db.session, "csglj_fyr", "spokesperson", "csglj")
        _, secret = create_token(db.session, partner, "12345 平台")
        _, weak = create_token(db.session, make_user(db.session, "boss", "leader"), "领导")
        db.session.commit()
    with serve(app) as base:
        yield app, f"{base}/open311/v2", secret, weak


def test_an_open311_client_files_a_request_and_follows_it_to_closed(running):
    app, api, key, leader_key = running
    services = requests.get(f"{api}/services.json", timeout=10).json()
    assert services and all(set(s) == SERVICE_FIELDS for s in services)
    code = next(s["service_code"] for s in services if s["service_code"] == "城乡建设")

    form = {"service_code": code, "lat": "30.2741", "long": "120.1551", "address_string": "中山路88号",
            "description": "中山路人行道井盖丢失，晚上很危险，已经有人摔倒，请尽快处理！", "phone": "13912345678",
            "email": "a@example.com", "first_name": "三", "last_name": "张"}
    assert requests.post(f"{api}/requests.json", data=form, timeout=10).status_code == 403
    refused = requests.post(f"{api}/requests.json", data={**form, "api_key": leader_key}, timeout=10)
    assert refused.status_code == 403 and set(refused.json()[0]) == {"code", "description"}
    bad = requests.post(f"{api}/requests.json", data={**form, "api_key": key, "service_code": "无此服务"}, timeout=10)
    assert bad.status_code == 400 and "services.json" in bad.json()[0]["description"]

    created = requests.post(f"{api}/requests.json", data={**form, "api_key": key}, timeout=60)
    assert created.status_code == 201, created.text
    [ticket] = created.json()
    assert set(ticket) == CREATED_FIELDS and "查询码" in ticket["service_notice"]
    request_id = ticket["service_request_id"]

    [status] = requests.get(f"{api}/requests/{request_id}.json", timeout=10).json()
    assert set(status) == REQUEST_FIELDS
    assert status["status"] == "open" and status["service_code"] == code and status["lat"] == 30.2741
    assert status["agency_responsible"] and status["expected_datetime"] and status["status_notes"] is None
    assert "13912345678" not in str(status) and status["address"] == "中山路**号"

    with app.app_context():  # the unit answers and resolves, as on its pages
        from opinion.cases import lifecycle, survey
        from opinion.models import Notification, db
        post = db.session.get(Post, int(request_id))
        assert post.payload["open311"]["contact"]["phone"] == "13912345678"  # contact kept, not shown
        case = db.session.execute(select(Case).where(Case.topic_id == post.topic_id)).scalar_one()
        assert case.contact_phone == "13912345678"
        staff = make_user(db.session, "unit_fyr", "spokesperson", case.unit.code)
        lifecycle.add_reply(db.session, case, staff, "您好，井盖已于今日补装完毕，感谢反映。", utcnow())
        survey.resolve(db.session, app.extensions["district"], case, staff, "已补装", utcnow(), base_url="http://x")
        db.session.commit()
        assert db.session.execute(select(Notification).where(Notification.channel == "sms")).scalar_one()
        assert db.session.execute(select(User).where(User.username == "city12345")).scalar_one()

    [status] = requests.get(f"{api}/requests/{request_id}.json", timeout=10).json()
    assert status["status"] == "closed" and "井盖已于今日补装完毕" in status["status_notes"]
    assert "查询码" not in status["status_notes"]  # the code is the citizen's, not every reader's
    listed = requests.get(f"{api}/requests.json", params={"status": "closed"}, timeout=10).json()
    assert [r["service_request_id"] for r in listed] == [request_id]
    assert requests.get(f"{api}/requests.json", params={"status": "open"}, timeout=10).json() == []
    by_id = requests.get(f"{api}/requests.json", params={"service_request_id": request_id}, timeout=10).json()
    assert by_id == listed
    missing = requests.get(f"{api}/requests/999999.json", timeout=10)
    assert missing.status_code == 404 and set(missing.json()[0]) == {"code", "description"}
