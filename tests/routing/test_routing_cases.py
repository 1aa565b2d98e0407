"""Routing's decision on the case: the lead unit the catalogue names, its co-handlers (协办) added to
the case so they see it in their inbox, and the reason in words on the case."""
from sqlalchemy import select

from opinion.models import Case
from opinion.pipeline.batch import ingest
from tests.factories import make_item, make_source

FLOOD = ["中山路下穿隧道积水半米深，车子熄火在里面[怒]",
         "中山路隧道又积水了，每次下雨都变成河，排水什么时候修好"]


def test_a_case_gets_the_catalogue_s_co_handlers_and_the_reason(app, session):
    source = make_source(session)
    ingest(session, app, source, [make_item(f"f{i}", t) for i, t in enumerate(FLOOD)])
    case = session.execute(select(Case)).scalar_one()
    # 排水防涝: the water bureau leads; 城管 and the place's street office (中山路 → 中山街道) help
    assert case.unit.code == "slj"
    assert sorted(c.unit.code for c in case.co_units) == ["csglj", "zs"]
    assert "中山路 → 中山街道" in case.routing_reason and "中山街道 协办" in case.routing_reason


def test_a_local_complaint_opens_at_its_street_office(app, session):
    source = make_source(session)
    ingest(session, app, source, [make_item("p1", "锦绣社区的垃圾桶三天没人清运了，臭得不行[怒]")])
    case = session.execute(select(Case)).scalar_one()
    assert case.unit.code == "xc" and [c.unit.code for c in case.co_units] == ["csglj"]
    assert "市容环卫 属地为主" in case.routing_reason


def test_an_ambiguous_place_reaches_triage_with_both_offices_named_to_the_monitor(app, session, client):
    from tests.factories import login, make_user
    make_user(session, "monitor1", "monitor", "center")
    source = make_source(session)
    ingest(session, app, source, [make_item("a1", "解放大道上每天晚上都有人乱摆摊，噪音大垃圾多[怒]")])
    case = session.execute(select(Case)).scalar_one()
    assert case.unit.code == "center"
    login(client, "monitor1")
    page = client.get("/monitor/").get_data(as_text=True)
    assert f"/monitor/triage/{case.id}" in page
    assert "属地不唯一：中山街道、人民路街道" in page  # the monitor sees both candidates
    shown = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "属地不唯一：中山街道、人民路街道" in shown  # and so does the case page
