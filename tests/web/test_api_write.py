"""The write API: case actions with the pages' permission checks, audit and refusals."""
from sqlalchemy import select

from opinion.models import AuditEvent, Case, SurveyLink
from tests.web.test_api import world  # noqa: F401 - the fixture


def post(client, path, token, body=None):
    return client.post(path, json=body if body is not None else {}, headers={"Authorization": f"Bearer {token}"})


def _audit(session, case_id, action):
    return session.execute(select(AuditEvent).where(AuditEvent.object_id == case_id, AuditEvent.action == action)
                           ).scalar_one()


def test_acknowledge_with_the_pages_permissions_and_audit(client, session, world):  # noqa: F811 - the imported fixture
    flood, tokens = world["cases"]["flood"], world["tokens"]
    assert post(client, f"/api/v1/cases/{flood.id}/acknowledge", tokens["jyj_fyr"]).status_code == 404  # not theirs
    leader = post(client, f"/api/v1/cases/{flood.id}/acknowledge", tokens["boss"])
    assert leader.status_code == 403 and leader.get_json()["code"] == "forbidden"
    stale = post(client, f"/api/v1/cases/{flood.id}/acknowledge", tokens["slj_fyr"], {"version": flood.version + 1})
    assert stale.status_code == 409 and stale.get_json()["code"] == "conflict"
    done = post(client, f"/api/v1/cases/{flood.id}/acknowledge", tokens["slj_fyr"], {"version": flood.version})
    assert done.status_code == 200 and done.get_json()["status"] == "acknowledged"
    assert _audit(session, flood.id, "case.acknowledged").actor == "slj_fyr"
    again = post(client, f"/api/v1/cases/{flood.id}/acknowledge", tokens["slj_fyr"])
    assert again.status_code == 409 and again.get_json()["code"] == "case_state" and "不能签收" in again.get_json()["error"]
    odd = post(client, f"/api/v1/cases/{flood.id}/acknowledge", tokens["slj_fyr"], {"note": "x"})
    assert odd.status_code == 400 and odd.get_json()["code"] == "bad_body"


def test_reply_resolve_and_callback_through_the_api(client, session, world):  # noqa: F811 - the imported fixture
    school, tokens = world["cases"]["school"], world["tokens"]
    path = f"/api/v1/cases/{school.id}"
    blocked = post(client, f"{path}/reply", tokens["jyj_fyr"], {"text": "  "})
    assert blocked.status_code == 422 and blocked.get_json()["code"] == "reply_blocked"
    text = "网友您好！关于实验小学推迟开学一事，我局已核实，将于下周一正常开学。感谢关注。区教育局"
    sent = post(client, f"{path}/reply", tokens["jyj_fyr"], {"text": text, "link": "https://weibo.example/1",
                                                           "confirmed": True})
    assert sent.status_code == 200, sent.get_json()
    data = sent.get_json()
    assert data["reply_status"] == "published" and data["status"] == "replied"
    assert data["replies"][0]["text"].startswith(text) and "查询码" in data["replies"][0]["text"]
    assert post(client, f"{path}/resolve", tokens["jyj_fyr"], {"note": " "}).get_json()["code"] == "case_state"
    resolved = post(client, f"{path}/resolve", tokens["jyj_fyr"], {"note": "已协调校方"})
    assert resolved.status_code == 200 and resolved.get_json()["status"] == "resolved"
    assert session.execute(select(SurveyLink.case_id)).scalar_one() == school.id  # the citizen's survey link
    assert post(client, f"{path}/callback", tokens["jyj_fyr"], {"satisfaction": "satisfied"}).status_code == 403
    no_reason = post(client, f"{path}/callback", tokens["mon"], {"satisfaction": "unsatisfied"})
    assert no_reason.status_code == 409 and "原因" in no_reason.get_json()["error"]
    reopened = post(client, f"{path}/callback", tokens["mon"], {"satisfaction": "unsatisfied", "note": "仍未开学"})
    assert reopened.status_code == 200 and reopened.get_json()["status"] == "reopened"
    assert _audit(session, school.id, "case.reopened").actor == "mon"


def test_transfer_back_through_the_api(client, session, world):  # noqa: F811 - the imported fixture
    shared, tokens = world["cases"]["shared"], world["tokens"]
    co_unit = post(client, f"/api/v1/cases/{shared.id}/transfer", tokens["slj_fyr"], {"reason": "不归我们"})
    assert co_unit.status_code == 403  # a co-handling unit only replies
    bad = post(client, f"/api/v1/cases/{shared.id}/transfer", tokens["jyj_fyr"], {"reason": "x", "suggested_unit": "nope"})
    assert bad.status_code == 400 and bad.get_json()["code"] == "bad_body"
    done = post(client, f"/api/v1/cases/{shared.id}/transfer", tokens["jyj_fyr"],
                {"reason": "校门口积水归水利局", "suggested_unit": "slj"})
    assert done.status_code == 200 and done.get_json()["status"] == "transferred_back"
    session.expire_all()
    assert session.get(Case, shared.id).status == "transferred_back"
