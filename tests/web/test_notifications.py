"""The notification centre (issue 18): a leader's 批示, a new case, a decision on a request reach
the spokesperson as an unread notification behind the bell on every page, linked to the case;
the person's settings send chosen events by e-mail or webhook too; unopened cases are 未读."""
from __future__ import annotations

import re

from sqlalchemy import select

from opinion.cases import supervision, transfers
from opinion.models import Notification, NotificationSetting
from tests.cases.conftest import open_case, people, unit  # noqa: F401 - fixture
from tests.conftest import at
from tests.factories import login


def _bell(html: str) -> int:
    match = re.search(r'class="bell[^"]*"[^>]*>.*?通知(?:<span class="count">(\d+)</span>)?', html, re.S)
    assert match, "no bell on the page"
    return int(match.group(1) or 0)


def test_instruction_rings_the_bell_and_leads_to_the_case(client, session, district, people):  # noqa: F811
    case = open_case(session, district)
    login(client, "jyj_fyr")
    client.get(f"/cases/{case.id}")  # the new-case notice is read by opening the case
    assert _bell(client.get("/inbox/").get_data(as_text=True)) == 0
    supervision.write_instruction(session, case, people["leader2"], "请今日内答复家长", at("2026-11-23 10:00"))
    session.commit()
    for page in ("/inbox/", "/duty/", "/account/password"):
        assert _bell(client.get(page).get_data(as_text=True)) == 1, page
    listing = client.get("/notifications/").get_data(as_text=True)
    assert "领导批示" in listing and "请今日内答复家长" in listing and "未读" in listing
    [row] = session.execute(select(Notification).where(Notification.user_id == people["fyr"].id,
                                                       Notification.kind == "instruction")).scalars()
    opened = client.get(f"/notifications/{row.id}")
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/cases/{case.id}")
    assert _bell(client.get("/inbox/").get_data(as_text=True)) == 0
    assert "已读" in client.get("/notifications/").get_data(as_text=True)


def test_each_event_is_notified_with_its_kind(session, district, people):  # noqa: F811
    case = open_case(session, district)  # assigned to one of jyj's spokespersons
    assert session.execute(select(Notification.kind).where(Notification.case_id == case.id)).scalars().all() \
        == ["case_assigned"]
    request = supervision.request_extension(session, district, case, people["fyr"], 2, "需协调", at("2026-11-23 10:00"))
    supervision.decide_extension(session, district, request, people["monitor"], False, "理由不充分",
                                 at("2026-11-23 11:00"))
    transfers.transfer_back(session, district, case, people["fyr"], "不属本单位", at("2026-11-23 11:10"),
                            suggested_unit=unit(session, "zjj"))
    transfers.reassign_unit(session, district, case, people["monitor"], unit(session, "zjj"), "同意",
                            at("2026-11-23 11:20"))
    session.commit()
    mine = lambda user: set(session.execute(select(Notification.kind).where(  # noqa: E731
        Notification.user_id == user.id, Notification.channel == "inapp")).scalars())
    assert {"extension_decided", "transfer_decided"} <= mine(people["fyr"])
    assert "reassigned" in mine(people["zjj"])  # the new unit hears of it though nobody there is on duty


def test_settings_send_chosen_events_by_email_and_webhook(client, session, district, people):  # noqa: F811
    people["fyr"].email = "fyr@example.gov.cn"
    session.commit()
    login(client, "jyj_fyr")
    refused = client.post("/notifications/settings", data={"channels": ["webhook"], "kinds": ["instruction"]})
    assert refused.status_code == 400 and "Webhook 地址" in refused.get_data(as_text=True)
    client.post("/notifications/settings", data={"channels": ["email", "webhook"], "kinds": ["instruction"],
                                                 "webhook_url": "http://127.0.0.1:9/hook"})
    assert session.get(NotificationSetting, people["fyr"].id).kinds == ["instruction"]
    case = open_case(session, district)
    supervision.write_instruction(session, case, people["leader2"], "抓紧办理", at("2026-11-23 10:00"))
    session.commit()
    sent = {(n.channel, n.address) for n in session.execute(select(Notification).where(
        Notification.user_id == people["fyr"].id, Notification.kind == "instruction")).scalars()}
    assert sent == {("inapp", None), ("email", "fyr@example.gov.cn"), ("webhook", "http://127.0.0.1:9/hook")}
    # an event not chosen stays in-app only
    assert {n.channel for n in session.execute(select(Notification).where(
        Notification.user_id == people["fyr2"].id)).scalars()} <= {"inapp"}


def test_inbox_marks_cases_not_yet_opened(client, session, district, people):  # noqa: F811
    first = open_case(session, district, label="实验小学推迟开学")
    second = open_case(session, district, label="中山路积水")
    login(client, "jyj_fyr")
    html = client.get("/inbox/").get_data(as_text=True)
    assert html.count('class="badge unread"') == 2
    client.get(f"/cases/{first.id}")
    html = client.get("/inbox/").get_data(as_text=True)
    assert html.count('class="badge unread"') == 1
    row = re.search(r'<tr class="[^"]*unread[^"]*">.*?</tr>', html, re.S).group(0)
    assert "中山路积水" in row and second.title in row


def test_a_deadline_about_to_pass_reaches_the_centre(session, district, people):  # noqa: F811
    from opinion.sla.ladder import tick
    case = open_case(session, district)
    almost = case.acknowledge_due_at - (case.acknowledge_due_at - case.created_at) * 0.1  # 90 % of the time gone
    tick(session, district, almost)
    session.commit()
    kinds = session.execute(select(Notification.kind).where(Notification.case_id == case.id,
                                                            Notification.user_id == case.assignee_id)).scalars().all()
    assert "deadline" in kinds
