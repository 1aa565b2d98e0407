"""The public side of a case: the 查询码 lookup without log-in, masking, and the citizen's survey."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from opinion.cases import lifecycle, public, survey
from opinion.models import Case, Notification, Reply, SurveyLink, utcnow
from tests.cases.conftest import open_case
from tests.conftest import at


@pytest.mark.parametrize("text,shown,hidden", [
    ("电话13812345678找我", "138****5678", "13812345678"),
    ("打 +86 138-1234-5678", "138****5678", "1234-5678"),
    ("座机 010-62345678", "010-****78", "62345678"),
    ("身份证 11010519491231002X", "1101************2X", "19491231"),
    ("老证 110105491231002", "1101*********02", "491231"),
    ("幸福小区3栋2单元501室漏水", "幸福小区**栋**单元**室", "501"),
    ("解放路12号门口", "解放路**号", "12号"),
    ("住在5-2-301室", "**室", "301"),
])
def test_mask_personal_hides_phones_ids_and_house_numbers(text, shown, hidden):
    masked = public.mask_personal(text)
    assert shown in masked and hidden not in masked


@pytest.mark.parametrize("text", ["12月5号停水", "地铁1号线", "2026年", "3000元", "订单号AB12"])
def test_mask_personal_leaves_dates_lines_and_amounts(text):
    assert public.mask_personal(text) == text


def test_codes_are_read_forgivingly_and_malformed_ones_are_none():
    assert public.normalise_code(" ab12c-3de45 ") == "AB12C3DE45"
    assert public.normalise_code("oo1lI-22222") == "00111222 22".replace(" ", "")
    for bad in ("", "AB12C", "AB12C3DE45X", "AB12C-3DE4U", "<script>", "A" * 100, None):
        assert public.normalise_code(bad) is None


def _seeded(session, district, people):
    """A case whose title, reply and internal records carry personal data and internal notes."""
    case = open_case(session, district, label="幸福小区3栋501室 13812345678 家门口积水")
    case.routing_reason = "内部分拨依据：关键词命中"
    case.contact_phone = "13912345678"
    session.add(Reply(case=case, author_id=people["fyr"].id, text="内部草稿不应公开", status="draft"))
    lifecycle.add_reply(session, case, people["fyr"], "已派人处理，联系人身份证 11010519491231002X，电话 010-62345678",
                        at("2026-11-23 10:00"))
    session.commit()
    return case


def test_the_lookup_shows_status_deadlines_unit_and_published_replies_only(client, session, district, people):
    case = _seeded(session, district, people)
    reply = session.execute(select(Reply).where(Reply.status == "published")).scalar_one()
    assert reply.text.endswith(public.lookup_line(case))  # the reply carries the code
    survey.resolve(session, district, case, people["fyr"], "内部办结说明：已协调物业", utcnow(),
                   base_url="http://x.test")  # now: the page offers the survey while its link lives
    session.commit()
    page = client.get("/p/", query_string={"code": case.lookup_code.lower()}).get_data(as_text=True)
    assert "已办结" in page and "教育局" in page and "已派人处理" in page
    assert public.format_code(case.lookup_code) in page and "承诺时限" in page
    for secret in ("13812345678", "11010519491231002X", "62345678", "501室", "13912345678", "内部草稿",
                   "内部办结说明", "内部分拨依据", people["fyr"].name, people["fyr"].username):
        assert secret not in page, secret
    assert "138****5678" in page and "1101************2X" in page
    assert "参加满意度回访" not in page  # this case has a phone: the survey link goes by SMS only


def test_unknown_and_malformed_codes_get_the_same_answer(client, session, district, people):
    case = _seeded(session, district, people)
    real = case.lookup_code
    unknown = ("0" if real[0] != "0" else "1") + real[1:]
    answers = {(r.status_code, r.get_data(as_text=True))
               for code in (unknown, "ZZZZZ-ZZZZZ", "abc", "", "<b>x</b>", "U" * 10, "9" * 39)
               for r in [client.get("/p/", query_string={"code": code})]}
    assert len(answers) == 1
    status, body = answers.pop()
    assert status == 404 and "未查到与该查询码对应的事项" in body


def test_the_public_pages_are_rate_limited(app, client, session, district, people):
    app.config["PUBLIC_RATE_LIMIT"] = "3 per minute"
    codes = [client.get("/p/", query_string={"code": "x"}).status_code for _ in range(4)]
    assert codes == [404, 404, 404, 429]
    assert "请求过于频繁" in client.get("/p/").get_data(as_text=True)


def _resolved(session, district, people, phone=None):
    case = open_case(session, district)
    case.contact_phone = phone
    lifecycle.add_reply(session, case, people["fyr"], "已处理完毕", at("2026-11-23 10:00"))
    link = survey.resolve(session, district, case, people["fyr"], "已修复", at("2026-11-24 10:00"),
                          base_url="https://gov.example/")
    session.commit()
    return case, link


def test_resolving_sends_the_survey_link_by_sms_where_a_phone_is_known(session, district, people):
    case, link = _resolved(session, district, people, phone="13912345678")
    sms = session.execute(select(Notification).where(Notification.channel == "sms")).scalar_one()
    assert sms.address == "13912345678" and sms.case_id == case.id
    assert f"https://gov.example/p/survey/{link.token}" in sms.body
    assert link.expires_at == at("2026-11-24 10:00") + timedelta(days=district.callback_no_answer_days)
    _resolved(session, district, people)  # no phone: no SMS
    assert session.execute(select(Notification).where(Notification.channel == "sms")).scalars().all() == [sms]


def test_a_satisfied_answer_verifies_the_case_and_the_link_works_once(session, district, people):
    case, link = _resolved(session, district, people)
    survey.answer(session, district, link.token, "satisfied", "很快", at("2026-11-25 09:00"))
    session.commit()
    assert case.status == "verified" and case.satisfaction == "satisfied"
    assert session.get(SurveyLink, link.id).used_at is not None
    with pytest.raises(survey.LinkUnusable):
        survey.answer(session, district, link.token, "unsatisfied", "再来", at("2026-11-25 09:05"))


def test_an_unsatisfied_answer_reopens_the_case_without_a_required_reason(session, district, people):
    case, link = _resolved(session, district, people)
    survey.answer(session, district, link.token, "unsatisfied", "", at("2026-11-25 09:00"))
    session.commit()
    assert case.status == "reopened" and case.reopen_count == 1 and case.resolved_at is None


def test_expired_links_and_links_after_a_phone_callback_are_refused(session, district, people):
    case, link = _resolved(session, district, people)
    with pytest.raises(survey.LinkUnusable):
        survey.answer(session, district, link.token, "satisfied", "", link.expires_at + timedelta(seconds=1))
    lifecycle.record_callback(session, district, case, people["monitor"], "basic", "电话回访", at("2026-11-25 09:00"))
    session.commit()
    with pytest.raises(survey.LinkUnusable):
        survey.answer(session, district, link.token, "satisfied", "", at("2026-11-25 10:00"))
    with pytest.raises(survey.LinkUnusable):
        survey.answer(session, district, "not-a-token", "satisfied", "", at("2026-11-25 10:00"))
    assert session.get(Case, case.id).satisfaction == "basic"


def test_the_survey_page_records_the_callback_and_then_is_gone(client, session, district, people):
    case, link = _resolved(session, district, people)
    link.expires_at = utcnow() + timedelta(days=1)
    session.commit()
    assert "满意度回访" in client.get(f"/p/survey/{link.token}").get_data(as_text=True)
    bad = client.post(f"/p/survey/{link.token}", data={"satisfaction": "great"})
    assert "请选择您的评价" in bad.get_data(as_text=True)
    done = client.post(f"/p/survey/{link.token}", data={"satisfaction": "basic", "comment": "还行"},
                       follow_redirects=True)
    assert "您的评价已记录" in done.get_data(as_text=True)
    session.expire_all()
    assert session.get(Case, case.id).status == "verified"
    again = client.get(f"/p/survey/{link.token}")
    assert again.status_code == 410 and "已使用或已失效" in again.get_data(as_text=True)


def test_resolving_on_the_case_page_issues_the_citizens_survey_link(client, session, district, people):
    from tests.factories import login
    case = open_case(session, district)
    lifecycle.add_reply(session, case, people["fyr"], "已处理完毕", at("2026-11-23 10:00"))
    session.commit()
    login(client, "jyj_fyr")
    done = client.post(f"/cases/{case.id}/resolve", data={"note": "已修复", "version": case.version},
                       follow_redirects=True)
    assert "已生成群众满意度回访链接" in done.get_data(as_text=True)
    assert session.execute(select(SurveyLink.case_id)).scalar_one() == case.id
