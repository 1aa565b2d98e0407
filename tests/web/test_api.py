"""The read API under /api/v1: topics, alerts, cases, stats; who sees what; errors as JSON; and the
OpenAPI document checked against the routes."""
import inspect
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from opinion.accounts.tokens import create_token
from opinion.models import Alert, AuditEvent, Case, CaseCoUnit, Post, Topic, Unit, utcnow
from tests.factories import make_source, make_user


def unit_id(session, code):
    return session.execute(select(Unit.id).where(Unit.code == code)).scalar_one()


def make_case(session, unit_code, title, *, topic=None, priority="normal", status="new", due_in_hours=2):
    now = utcnow()
    case = Case(unit_id=unit_id(session, unit_code), title=title, priority=priority, status=status,
                topic_id=topic.id if topic else None, acknowledge_due_at=now + timedelta(hours=due_in_hours),
                respond_due_at=now + timedelta(hours=24), resolve_due_at=now + timedelta(days=5))
    session.add(case)
    session.commit()
    return case


def make_topic(session, key, label, *, hot, hours_ago=1, unit="slj", posts=()):
    """A topic and its posts: (text, emotion, polarity, priority, reposts, minutes_ago)."""
    now = utcnow()
    topic = Topic(key=key, label=label, keywords=[label[:2]], status="open", hot_score=hot, category="城乡建设",
                  unit_id=unit_id(session, unit), post_count=len(posts),
                  negative_count=sum(p[2] == "negative" for p in posts),
                  first_seen_at=now - timedelta(hours=hours_ago + 5), last_seen_at=now - timedelta(hours=hours_ago))
    session.add(topic)
    session.flush()
    source = make_source(session)
    for n, (text, emotion, polarity, priority, reposts, minutes_ago) in enumerate(posts):
        session.add(Post(source_id=source.id, external_id=f"{key}-{n}", raw_text=text, text=text, topic_id=topic.id,
                         created_at=now - timedelta(minutes=minutes_ago), emotion=emotion, polarity=polarity,
                         priority=priority, reposts=reposts, author=f"网友{n}"))
    session.commit()
    return topic


@pytest.fixture
def world(session):
    """Two units' spokespersons, a monitor, a leader, an admin; two topics; cases; alerts."""
    users = {name: make_user(session, name, role, unit) for name, role, unit in [
        ("slj_fyr", "spokesperson", "slj"), ("jyj_fyr", "spokesperson", "jyj"), ("mon", "monitor", "center"),
        ("boss", "leader", None), ("root", "admin", None)]}
    flood = make_topic(session, "t1", "中山路隧道积水", hot=80.0, posts=[
        ("中山路隧道积水半米深", "anger", "negative", "high", 5, 120),
        ("隧道又积水了，车熄火了", "anger", "negative", "normal", 40, 60),
        ("排水泵车到了吗", "fear", "neutral", "normal", 1, 10)])
    school = make_topic(session, "t2", "实验小学推迟开学", hot=30.0, unit="jyj", posts=[
        ("实验小学推迟开学家长不满", "disgust", "negative", "normal", 0, 30)])
    stale = make_topic(session, "t3", "上月的停水", hot=99.0, hours_ago=24 * 10)
    cases = {"flood": make_case(session, "slj", "中山路隧道积水", topic=flood, priority="urgent"),
             "school": make_case(session, "jyj", "实验小学推迟开学", topic=school),
             "shared": make_case(session, "jyj", "校门口积水", due_in_hours=1),
             "done": make_case(session, "slj", "河道垃圾已清", status="resolved", due_in_hours=-20)}
    session.add(CaseCoUnit(case_id=cases["shared"].id, unit_id=unit_id(session, "slj")))
    alerts = [Alert(kind="volume_burst", severity="warning", message="中山路隧道积水声量突增",
                    dedup_key="volume_burst:topic:1", open_key=f"volume_burst:topic:{flood.id}", topic_id=flood.id),
              Alert(kind="negative_surge", severity="critical", message="中山路隧道积水负面激增",
                    dedup_key="s1", open_key="s1", topic_id=flood.id),
              Alert(kind="sensitive_word", severity="critical", message="敏感词命中", dedup_key="w1", open_key="w1",
                    status="acknowledged"),
              Alert(kind="sensitive_word", severity="info", message="另一条敏感词", dedup_key="w2", open_key="w2")]
    session.add_all(alerts)
    session.commit()
    tokens = {name: create_token(session, user, "测试")[1] for name, user in users.items()}
    session.commit()
    return {"users": users, "tokens": tokens, "topics": (flood, school, stale), "cases": cases, "alerts": alerts}


def call(client, path, token, method="GET"):
    return client.open(path, method=method, headers={"Authorization": f"Bearer {token}"})


def test_topics_hottest_first_with_their_figures(client, world):
    flood, school, stale = world["topics"]
    resp = call(client, "/api/v1/topics", world["tokens"]["mon"])
    assert resp.status_code == 200, resp.get_json()
    items = resp.get_json()["items"]
    assert [t["id"] for t in items] == [flood.id, school.id]  # the stale one is quiet, however hot it was
    top = items[0]
    assert top["label"] == "中山路隧道积水" and top["volume"] == 3 and top["negative_share"] == 0.667
    assert top["emotions"] == {"anger": 2, "fear": 1} and list(top["emotions"]) == ["anger", "fear"]
    assert top["department"] == {"code": "slj", "name": "区水利局"} and top["category"] == "城乡建设"
    assert top["priority"] == "urgent"  # its open case, over its posts' "high"
    assert items[1]["priority"] == "normal"  # the case says normal; the posts agree
    assert top["burst"] is True and items[1]["burst"] is False
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", top["last_seen_at"])
    one = call(client, "/api/v1/topics?limit=1", world["tokens"]["boss"]).get_json()["items"]
    assert [t["id"] for t in one] == [flood.id]
    since = (utcnow() - timedelta(days=11)).isoformat()
    older = call(client, f"/api/v1/topics?since={since.replace('+', '%2B')}", world["tokens"]["root"]).get_json()
    assert [t["id"] for t in older["items"]] == [stale.id, flood.id, school.id]


def test_topic_detail_has_the_representative_and_latest_posts(client, world):
    flood = world["topics"][0]
    data = call(client, f"/api/v1/topics/{flood.id}?limit=2", world["tokens"]["mon"]).get_json()
    assert data["representative_post"]["text"] == "隧道又积水了，车熄火了"  # the most reposted
    assert [p["text"] for p in data["posts"]] == ["排水泵车到了吗", "隧道又积水了，车熄火了"]  # newest first, 2
    assert data["posts"][0]["created_at"].endswith("+08:00")
    assert [c["id"] for c in data["cases"]] == [world["cases"]["flood"].id] and data["status"] == "open"
    missing = call(client, "/api/v1/topics/99999", world["tokens"]["mon"])
    assert missing.status_code == 404 and missing.get_json()["code"] == "not_found"


def test_alerts_after_an_id_oldest_first_with_paging(client, world):
    burst, surge, acked, word = world["alerts"]
    token = world["tokens"]["mon"]
    everything = call(client, "/api/v1/alerts", token).get_json()
    assert [a["id"] for a in everything["items"]] == [burst.id, surge.id, word.id]  # not the acknowledged one
    assert everything["last_id"] == word.id and everything["more"] is False
    first = call(client, "/api/v1/alerts?limit=1", token).get_json()
    assert [a["id"] for a in first["items"]] == [burst.id] and first["more"] is True
    rest = call(client, f"/api/v1/alerts?after={first['last_id']}", token).get_json()
    assert [a["id"] for a in rest["items"]] == [surge.id, word.id]
    assert rest["items"][0]["severity_name"] == "严重" and rest["items"][0]["kind_name"] == "负面激增"
    none = call(client, f"/api/v1/alerts?after={word.id}", token).get_json()
    assert none == {"items": [], "last_id": word.id, "more": False}


def test_a_monitor_acknowledges_an_alert_audited_like_the_console(client, session, world):
    surge = world["alerts"][1]
    resp = call(client, f"/api/v1/alerts/{surge.id}/ack", world["tokens"]["mon"], "POST")
    assert resp.status_code == 200 and resp.get_json()["status"] == "acknowledged"
    assert resp.get_json()["acknowledged_by"] == "mon"
    events = session.execute(select(AuditEvent).where(AuditEvent.action == "alert.acknowledged")).scalars().all()
    assert [(e.object_id, e.actor) for e in events] == [(surge.id, "mon")] and "负面激增" in events[0].reason
    again = call(client, f"/api/v1/alerts/{surge.id}/ack", world["tokens"]["root"], "POST")
    assert again.status_code == 409 and again.get_json()["code"] == "alert_not_open" and "mon" in again.get_json()["error"]
    assert call(client, "/api/v1/alerts/99999/ack", world["tokens"]["mon"], "POST").status_code == 404


@pytest.mark.parametrize("who", ["boss", "slj_fyr"])
def test_leaders_and_spokespersons_cannot_acknowledge(client, session, world, who):
    surge = world["alerts"][1]
    resp = call(client, f"/api/v1/alerts/{surge.id}/ack", world["tokens"][who], "POST")
    assert resp.status_code == 403 and resp.get_json()["code"] == "forbidden" and "无权" in resp.get_json()["error"]
    session.refresh(surge)
    assert surge.status == "open"
    assert session.execute(select(AuditEvent).where(AuditEvent.action == "alert.acknowledged")).first() is None


@pytest.mark.parametrize("path", ["/api/v1/topics", "/api/v1/topics/1", "/api/v1/alerts", "/api/v1/stats"])
def test_a_spokespersons_token_reads_cases_only(client, world, path):
    resp = call(client, path, world["tokens"]["slj_fyr"])
    assert resp.status_code == 403 and resp.get_json()["code"] == "forbidden" and "新闻发言人" in resp.get_json()["error"]


def test_a_spokesperson_sees_their_units_cases_and_no_other(client, world):
    cases, token = world["cases"], world["tokens"]["slj_fyr"]
    listed = call(client, "/api/v1/cases?status=all", token).get_json()
    assert {c["id"] for c in listed["items"]} == {cases["flood"].id, cases["shared"].id, cases["done"].id}
    assert listed["total"] == 3
    # Filtering by another unit shows only what this unit co-handles there.
    jyj = call(client, "/api/v1/cases?unit=jyj", token).get_json()
    assert [c["id"] for c in jyj["items"]] == [cases["shared"].id]
    assert call(client, f"/api/v1/cases/{cases['flood'].id}", token).status_code == 200
    hidden = call(client, f"/api/v1/cases/{cases['school'].id}", token)
    missing = call(client, "/api/v1/cases/99999", token)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_json()["code"] == missing.get_json()["code"] == "not_found"
    assert hidden.get_json()["error"].replace(str(cases["school"].id), "N") == missing.get_json()["error"].replace("99999", "N")
    # The topic's page for a monitor lists every case; the other unit's spokesperson's token is refused topics.
    assert call(client, f"/api/v1/topics/{world['topics'][1].id}", world["tokens"]["jyj_fyr"]).status_code == 403


def test_cases_filters_order_and_paging(client, world):
    cases, token = world["cases"], world["tokens"]["boss"]
    open_ = call(client, "/api/v1/cases", token).get_json()
    assert [c["id"] for c in open_["items"]] == [cases["shared"].id, cases["flood"].id, cases["school"].id]
    flood = open_["items"][1]
    assert flood["unit"] == {"code": "slj", "name": "区水利局"} and flood["priority"] == "urgent"
    assert flood["topic"]["label"] == "中山路隧道积水" and flood["escalation_level"] == 0
    assert flood["next_due_at"] == flood["acknowledge_due_at"] and flood["acknowledge_due_at"].endswith("+08:00")
    assert open_["items"][0]["co_units"] == [{"code": "slj", "name": "区水利局"}]
    done = call(client, "/api/v1/cases?status=done", token).get_json()
    assert [c["id"] for c in done["items"]] == [cases["done"].id] and done["items"][0]["next_due_at"] is None
    urgent = call(client, "/api/v1/cases?priority=urgent", token).get_json()
    assert [c["id"] for c in urgent["items"]] == [cases["flood"].id]
    page2 = call(client, "/api/v1/cases?per_page=2&page=2", token).get_json()
    assert [c["id"] for c in page2["items"]] == [cases["school"].id]
    assert (page2["total"], page2["page"], page2["next_page"]) == (3, 2, None)
    assert call(client, "/api/v1/cases?per_page=2", token).get_json()["next_page"] == 2
    detail = call(client, f"/api/v1/cases/{cases['flood'].id}", token).get_json()
    assert detail["replies"] == [] and detail["title"] == "中山路隧道积水"


@pytest.mark.parametrize("path,name", [
    ("/api/v1/topics?limit=abc", "limit"), ("/api/v1/topics?limit=0", "limit"), ("/api/v1/topics?limit=101", "limit"),
    ("/api/v1/topics?since=yesterday", "since"), ("/api/v1/alerts?after=-1", "after"),
    ("/api/v1/alerts?after=1.5", "after"), ("/api/v1/cases?status=bogus", "status"),
    ("/api/v1/cases?unit=nowhere", "unit"), ("/api/v1/cases?page=0", "page"), ("/api/v1/cases?per_page=500", "per_page"),
    ("/api/v1/cases?priority=asap", "priority"), ("/api/v1/cases?limt=5", "limt"), ("/api/v1/stats?week=2026-W99", "2026-W99"),
    ("/api/v1/stats?since=2026-11-30&until=2026-11-01", "结束时间"),
])
def test_bad_parameters_are_400_with_the_parameter_named(client, world, path, name):
    resp = call(client, path, world["tokens"]["root"])
    assert resp.status_code == 400 and resp.get_json()["code"] == "bad_parameter"
    assert name in resp.get_json()["error"]


def test_stats_answers_what_the_command_prints(client, runner, world):
    week = "2026-W47"
    printed = runner.invoke(args=["stats", "--json", "--week", week])
    assert printed.exit_code == 0, printed.output
    answered = call(client, f"/api/v1/stats?week={week}", world["tokens"]["boss"])
    assert answered.status_code == 200 and answered.get_json() == json.loads(printed.output)
    assert answered.get_json()["cases"]["total"] == 4


def test_unknown_paths_and_methods_answer_json_pages_stay_html(client, world):
    resp = client.get("/api/v1/nothing-here")
    assert resp.status_code == 404 and resp.get_json() == {"error": "接口不存在", "code": "not_found"}
    resp = call(client, "/api/v1/alerts/1/ack", world["tokens"]["mon"])  # GET on a POST-only path
    assert resp.status_code == 405 and resp.get_json()["code"] == "method_not_allowed"
    page = client.get("/nothing-here")
    assert page.status_code == 404 and "页面不存在" in page.get_data(as_text=True)


# --- the OpenAPI document against the code ------------------------------------------------------

def _deref(doc, node):
    """Follow $ref and merge allOf, so a schema's required fields can be read."""
    if isinstance(node, dict) and "$ref" in node:
        target = doc
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return _deref(doc, target)
    if isinstance(node, dict) and "allOf" in node:
        merged = {"required": [], "properties": {}}
        for part in node["allOf"]:
            part = _deref(doc, part)
            merged["required"] += part.get("required", [])
            merged["properties"].update(part.get("properties", {}))
        return merged
    return node


def _refs(node):
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_the_openapi_document_describes_every_read_route(app, client, world):
    from opinion.accounts import tokens
    from opinion.web.api import read as api_read
    doc = client.get("/api/v1/openapi.json").get_json()
    for ref in set(_refs(doc)):  # every reference points somewhere
        assert _deref(doc, {"$ref": ref}) is not None
    # Every /api/v1 route is documented with its methods, and every documented path is a route.
    routes = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "ingest_api.openapi":
            path = re.sub(r"<(?:int:)?[a-z_]+>", "{id}", rule.rule[len("/api/v1"):])
            routes[path] = (rule.endpoint, {m.lower() for m in rule.methods} - {"head", "options"})
    assert set(doc["paths"]) == set(routes)
    for path, (endpoint, methods) in routes.items():
        assert set(doc["paths"][path]) == methods, path
        if not endpoint.startswith("api."):
            continue
        operation = next(iter(doc["paths"][path].values()))
        assert operation["security"] == [{"personalToken": []}]
        documented = {p["name"] for p in (_deref(doc, p) for p in operation.get("parameters", [])) if p["in"] == "query"}
        assert documented == set(app.view_functions[endpoint].api_params), path  # the parameters the view reads
        assert {"401", "400"} <= set(operation["responses"]), path
    # Every error code the read API can answer is in the document, and nothing else.
    from opinion.web.api import interviews as api_interviews
    from opinion.web.api import write as api_write
    source = "".join(Path(inspect.getsourcefile(m)).read_text(encoding="utf-8")
                     for m in (api_read, api_write, api_interviews))
    codes = set(re.findall(r'fail\(\d{3}, .+?, "([a-z_]+)"\)', source))
    codes |= set(re.findall(r'"([a-z_]+)"\)', inspect.getsource(tokens.authenticate)))
    codes |= {code for _, code in api_read.HTTP_CODES.values()}
    assert set(doc["components"]["schemas"]["ApiError"]["properties"]["code"]["enum"]) == codes
    # Each read answers with at least the fields its schema requires.
    ids = {"/topics/{id}": world["topics"][0].id, "/cases/{id}": world["cases"]["flood"].id}
    for path in routes:
        if "get" not in doc["paths"][path] or not routes[path][0].startswith("api."):
            continue
        resp = call(client, "/api/v1" + path.replace("{id}", str(ids.get(path, 0))), world["tokens"]["root"])
        schema = _deref(doc, doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"])
        assert resp.status_code == 200 and set(schema["required"]) <= set(resp.get_json()), path
        items = resp.get_json().get("items")
        if items:
            item_schema = _deref(doc, schema["properties"]["items"]["items"])
            assert set(item_schema["required"]) <= set(items[0]), path


def test_answers_carry_chinese_as_text_not_escapes(client):
    body = client.get("/api/v1/topics").get_data()  # no token: the error body
    assert "缺少令牌".encode() in body and b"\\u" not in body
