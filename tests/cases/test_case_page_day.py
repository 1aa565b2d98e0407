"""The case page as a spokesperson reads it (issue 18): posts first, words instead of raw values,
a case moved to another unit says where it went, an extension on an overdue case never ends in
the past."""
from __future__ import annotations

from opinion.cases import supervision, transfers
from opinion.cases.deadlines import extension_target
from opinion.cases.replies import placeholder_values
from opinion.models import Post
from tests.cases.conftest import open_case, people, unit  # noqa: F401 - fixture
from tests.conftest import at
from tests.factories import login, make_source


def _with_post(session, case, author="网友25994", sentiment=0.01):
    source = make_source(session)
    session.add(Post(source_id=source.id, external_id=f"p{case.id}", raw_text="实验小学推迟开学，家长怎么办？",
                     text="实验小学推迟开学，家长怎么办？", author=author, created_at=at("2026-11-23 08:50"),
                     collected_at=at("2026-11-23 08:55"), polarity="negative", sentiment=sentiment,
                     topic_id=case.topic_id))
    session.commit()


def test_posts_come_before_the_forms_and_speak_in_words(client, session, district, people):  # noqa: F811
    case = open_case(session, district)
    _with_post(session, case)
    login(client, "jyj_fyr")
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    posts, composer, extension = html.index("网民帖子"), html.index('id="composer"'), html.index("申请延期")
    assert posts < composer < extension
    assert "（强烈）" in html and "0.01" not in html
    supervision.write_instruction(session, case, people["leader2"], "请今日答复", at("2026-11-23 10:00"))
    people["leader2"].name = "李区长"
    session.commit()
    history = client.get(f"/cases/{case.id}").get_data(as_text=True).split("办理记录")[1]
    assert "李区长" in history and "leader2" not in history  # who did it, by the name people know


def test_greeting_uses_the_name_people_see(session, district, people):  # noqa: F811
    case = open_case(session, district)
    _with_post(session, case, author="网友25994")
    assert placeholder_values(session, case, at("2026-11-23 10:00"))["称呼"] == "网友25994"
    other = open_case(session, district, label="中山路积水")
    _with_post(session, other, author="江边老王")
    assert placeholder_values(session, other, at("2026-11-23 10:00"))["称呼"] == "网友“江边老王”"


def test_a_case_moved_to_another_unit_tells_the_first_unit_where_it_went(client, session, district, people):  # noqa: F811
    case = open_case(session, district)
    transfers.reassign_unit(session, district, case, people["monitor"], unit(session, "zjj"), "属住建职责",
                            at("2026-11-23 11:00"))
    session.commit()
    login(client, "jyj_fyr")
    response = client.get(f"/cases/{case.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"已转至{unit(session, 'zjj').name}" in html and "2026-11-23 11:00" in html
    assert client.get("/cases/99999").status_code == 404  # a case that never was ours stays unknown


def test_an_extension_on_an_overdue_case_counts_from_now(session, district, people):  # noqa: F811
    case = open_case(session, district, start="2026-11-23 09:00")
    before = case.resolve_due_at
    now = at("2026-12-14 10:00")  # two weeks past the deadline
    assert before < now
    request = supervision.request_extension(session, district, case, people["fyr"], 2, "需协调施工方", now)
    verdict = supervision.decide_extension(session, district, request, people["monitor"], True, "", now)
    session.commit()
    assert case.resolve_due_at > now
    assert case.resolve_due_at == extension_target(district, type("C", (), {"resolve_due_at": before})(), 2, now)
    assert "2026-12-16" in verdict
