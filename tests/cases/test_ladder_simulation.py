"""A scripted fortnight over 国庆 2026 (Oct 1-7 off, Saturday Oct 10 a make-up workday), driven by
`sla tick --now`: exactly the expected ladder levels, notifications and audit records."""
import pytest
from sqlalchemy import select

from opinion.cases import lifecycle as service
from opinion.jobs import ladder_pass as tick
from opinion.models import AuditEvent, Notification
from tests.cases.conftest import open_case
from tests.conftest import at

# High priority: acknowledge 2 h, first response 24 h, resolve 3 working days. Opened Wednesday
# 2026-09-30 10:00, the resolve deadline skips the holiday and lands on the make-up Saturday.
START = "2026-09-30 10:00"


def ticks(runner, when: str) -> int:
    result = runner.invoke(args=["sla", "tick", "--now", when.replace(" ", "T")])
    assert result.exit_code == 0, result.output
    return int(result.output.split("本次督办 ")[1].split(" 项")[0])


def ladder_record(session, names):
    rows = []
    for e in session.execute(select(AuditEvent).where(AuditEvent.action.in_(("case.reminded", "case.escalated")))
                             .order_by(AuditEvent.id)).scalars():
        what = e.after["key"].rsplit("@", 1)[0] if e.action == "case.reminded" else f"L{e.after['level']}"
        rows.append((names[e.object_id], what, e.at))
    return rows


def test_a_fortnight_over_national_day(app, session, district, people, runner):
    people["head"].phone = "13800000001"
    session.commit()
    ignored = open_case(session, district, priority="high", start=START, label="校车停运无人回应")
    answered = open_case(session, district, priority="high", start=START, label="学位分配疑问")
    late = open_case(session, district, priority="high", start=START, label="食堂卫生")
    names = {ignored.id: "ignored", answered.id: "answered", late.id: "late"}
    assert ignored.resolve_due_at == at("2026-10-10 10:00")  # Sep 30, (Oct 1-7 off), Oct 8, 9, 10 (Sat)
    fyr = people["fyr"]

    service.acknowledge(session, answered, fyr, at("2026-09-30 10:30"))
    session.commit()
    assert ticks(runner, "2026-09-30 10:59") == 0
    assert ticks(runner, "2026-09-30 11:00") == 2      # ack 50% for ignored and late
    assert ticks(runner, "2026-09-30 11:36") == 2      # ack 80%
    assert ticks(runner, "2026-09-30 12:00") == 2      # level 2 for both
    assert ticks(runner, "2026-09-30 12:00") == 0      # replayed: nothing new
    service.add_reply(session, answered, fyr, "网友您好，学位分配细则见教育局官网。", at("2026-09-30 15:00"))
    service.acknowledge(session, late, fyr, at("2026-09-30 13:00"))
    service.add_reply(session, late, fyr, "已责成学校整改食堂。", at("2026-10-01 09:00"))
    session.commit()
    assert ticks(runner, "2026-10-01 10:00") == 1      # ignored: response missed → level 3
    assert ticks(runner, "2026-10-02 10:00") == 1      # ignored: 24 h later → level 4 (SMS)
    assert ticks(runner, "2026-10-05 10:00") == 2      # resolve 50% for answered and late
    assert ticks(runner, "2026-10-08 10:00") == 2      # resolve 80%
    service.resolve(session, answered, fyr, "已逐一电话答复家长", at("2026-10-09 16:00"))
    session.commit()
    assert ticks(runner, "2026-10-10 09:59") == 0
    assert ticks(runner, "2026-10-10 10:00") == 2      # ignored and late: resolve missed → level 5
    assert ticks(runner, "2026-10-10 10:00") == 0

    assert ladder_record(session, names) == [
        ("ignored", "acknowledge@0.5", at("2026-09-30 11:00")), ("late", "acknowledge@0.5", at("2026-09-30 11:00")),
        ("ignored", "acknowledge@0.8", at("2026-09-30 11:36")), ("late", "acknowledge@0.8", at("2026-09-30 11:36")),
        ("ignored", "L2", at("2026-09-30 12:00")), ("late", "L2", at("2026-09-30 12:00")),
        ("ignored", "L3", at("2026-10-01 10:00")),
        ("ignored", "L4", at("2026-10-02 10:00")),
        ("answered", "resolve@0.5", at("2026-10-05 10:00")), ("late", "resolve@0.5", at("2026-10-05 10:00")),
        ("answered", "resolve@0.8", at("2026-10-08 10:00")), ("late", "resolve@0.8", at("2026-10-08 10:00")),
        ("ignored", "L5", at("2026-10-10 10:00")), ("late", "L5", at("2026-10-10 10:00")),
    ]
    session.expire_all()
    assert (ignored.escalation_level, late.escalation_level, answered.escalation_level) == (5, 5, 1)
    assert ignored.supervised and ignored.special_report and late.special_report
    assert not answered.supervised and not answered.special_report

    def told(case, subject_word):
        return sorted((n.user.username, n.channel, n.status) for n in session.execute(
            select(Notification).where(Notification.case_id == case.id)).scalars() if subject_word in n.subject)

    assert told(ignored, "电子催办") == [("jyj_fyr", "inapp", "sent")] * 2  # the assignee, twice
    assert told(ignored, "人工交办") == [("monitor1", "inapp", "sent"), ("monitor2", "inapp", "sent")]
    assert told(ignored, "现场督办") == [("jyj_head", "inapp", "sent")]
    # SMS to the head (has a phone, queued for the gateway) and the unit's supervising leader
    # (no phone registered: in-app instead, with why), plus the in-app copies.
    assert told(ignored, "短信督办") == [("jyj_head", "inapp", "sent"), ("jyj_head", "sms", "pending"),
                                      ("leader", "inapp", "sent"), ("leader", "inapp", "sent")]
    assert told(ignored, "专报批办") == [("leader", "inapp", "sent"), ("leader2", "inapp", "sent")]
    sms = session.execute(select(Notification).where(Notification.channel == "sms")).scalar_one()
    assert sms.address == "13800000001" and "校车停运无人回应" in sms.body and "请立即处理" in sms.body


def test_an_urgent_case_past_any_deadline_goes_to_level_5(app, session, district, people):
    case = open_case(session, district, priority="urgent", start="2026-11-23 22:00")
    lines = tick(session, district, at("2026-11-23 22:30"))
    assert [line.split(" ", 1)[1] for line in lines] == ["第2级 人工交办：签收时限已过", "第5级 专报批办：紧急工单超时"]
    assert case.escalation_level == 5 and case.special_report


def test_levels_are_configuration(app, session, district, people):
    district.escalation[1] = {**district.escalation[1], "notify": ["leaders"], "channel": ["email"],
                              "message": "请{unit}立即签收工单 #{case_id}，{unknown}保持原样"}
    case = open_case(session, district, priority="high", start="2026-11-23 09:00")
    tick(session, district, at("2026-11-23 11:00"))
    rows = session.execute(select(Notification).where(Notification.subject.contains("人工交办"))
                           .order_by(Notification.id)).scalars().all()
    assert {(n.user.username, n.channel) for n in rows} == {("leader", "inapp"), ("leader2", "inapp")}
    assert all(n.body == f"请区教育局立即签收工单 #{case.id}，{{unknown}}保持原样" for n in rows)
    assert any(n.error and "电子邮箱" in n.error for n in rows)  # no e-mail address: in-app, with why


@pytest.mark.parametrize("bad,message", [
    ({"trigger": "whenever"}, "触发条件"), ({"notify": ["mayor"]}, "通知对象"), ({"channel": "pigeon"}, "通知渠道"),
])
def test_a_broken_ladder_step_is_refused_with_its_line(tmp_path, bad, message):
    import yaml

    from opinion.errors import DistrictFileError
    from opinion.settings.district import load_district
    from tests.conftest import REPO
    data = yaml.safe_load((REPO / "opinion" / "district.yaml").read_text(encoding="utf-8"))
    data["escalation"][2].update(bad)
    path = tmp_path / "district.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DistrictFileError, match=message):
        load_district(path)
