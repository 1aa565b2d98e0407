"""The composer in the case page, its live check, the edit lock and the approval queue, over HTTP."""
import pytest
from sqlalchemy import select

from opinion.cases.public import with_lookup_line
from opinion.models import Reply, ReplyTemplate
from tests.factories import PASSWORD, login, make_user
from tests.replies.test_services import GOOD, LINK


class As:
    """One person's browser. Each request gets its own app context: the fixture's shared one would
    keep the first person's log-in (Flask-Login caches the user in `g`)."""

    def __init__(self, app, username):
        self.app, self.client = app, app.test_client()
        self._call("post", "/login", data={"username": username, "password": PASSWORD})

    def _call(self, method, url, **kw):
        with self.app.app_context():
            return getattr(self.client, method)(url, **kw)

    def get(self, url, **kw):
        return self._call("get", url, **kw)

    def post(self, url, **kw):
        return self._call("post", url, **kw)


def test_case_page_shows_the_composer_with_templates_filled_for_the_case(client, session, case):
    session.add(ReplyTemplate(title="通用·答复口径", body="{称呼}：您好！关于“{话题}”，【请填写：办理情况】{单位}"))
    session.commit()
    login(client, "slj_fyr")
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'id="composer-form"' in html and "通用·答复口径" in html
    assert "网友“江边老王”：您好！" in html and "【请填写：办理情况】区水利局" in html
    assert "composer.js" in html


def test_live_check_returns_the_same_findings_as_the_submit(client, case):
    login(client, "slj_fyr")
    data = client.post(f"/replies/cases/{case.id}/check", json={"text": GOOD + "有人说是暴力执法。"}).get_json()
    sensitive = [f for f in data["findings"] if f["kind"] == "sensitive"]
    assert len(sensitive) == 1 and sensitive[0]["start"] == len(GOOD) + 4
    assert "敏感词" in data["approval"]


def test_blocked_submission_keeps_the_text_and_says_why(client, session, case):
    login(client, "slj_fyr")
    response = client.post(f"/replies/cases/{case.id}/submit", data={"text": GOOD + "【请填写：联系人】",
                           "action": "send", "link": LINK}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "未发送，草稿已保存" in html and "尚未填写：【请填写：联系人】" in html
    assert GOOD in html  # back in the textarea
    assert session.execute(select(Reply.status)).scalar_one() == "draft"
    assert 'class="reply-item"' not in html  # a draft is not shown as a reply


def test_send_shows_exactly_what_will_be_posted_then_publishes_on_confirm(client, session, case):
    login(client, "slj_fyr")
    preview = client.post(f"/replies/cases/{case.id}/submit", data={"text": GOOD, "action": "send", "link": LINK})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "确认发布回复" in html and GOOD in html and LINK in html
    session.refresh(case)
    assert case.first_response_at is None  # nothing is public before the confirmation
    assert session.execute(select(Reply.status)).scalar_one() == "draft"  # but nothing is lost either
    response = client.post(f"/replies/cases/{case.id}/submit", follow_redirects=True,
                           data={"text": GOOD, "action": "send", "link": LINK, "preview_ok": "1"})
    assert "回复已发布" in response.get_data(as_text=True)
    session.refresh(case)
    assert case.status == "replied" and case.first_response_at is not None


LONG = ("网友您好！经区水利局调查核实，中山路下穿隧道积水系排水泵站故障所致。我局已于12月7日晚组织抢修队伍连夜更换水泵，"
        "并安排两台移动抽水车在隧道口值守。目前隧道已恢复通行，下一步我局将会同交警部门在降雨期间实行临时交通管制，"
        "并在明年汛期前完成泵站扩容改造。如有疑问请致电 0731-88886666。感谢您的监督！")


def test_a_reply_too_long_for_the_channel_offers_split_or_a_short_reply_with_link(client, session, channel_case,
                                                                                   monkeypatch):
    from tests.replies import fake_channel
    monkeypatch.setattr(fake_channel.FakeChannel, "max_reply_chars", 140, raising=False)  # a Weibo comment
    case = channel_case
    assert len(LONG) > 140
    login(client, "slj_fyr")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'data-limit="140"' in page and "每条最多 140 字" in page
    offered = client.post(f"/replies/cases/{case.id}/submit", data={"text": LONG, "action": "send"})
    html = offered.get_data(as_text=True)
    assert "不能原样发布" in html and "分 2 条发布" in html and "生成短回复" in html
    shortened = client.post(f"/replies/cases/{case.id}/shorten", follow_redirects=True,
                            data={"text": LONG, "full_link": "https://slj.example.gov.cn/a/1"})
    html = shortened.get_data(as_text=True)
    assert "已改为" in html and "详细答复见：https://slj.example.gov.cn/a/1" in html
    split_preview = client.post(f"/replies/cases/{case.id}/submit", data={"text": LONG, "action": "send", "split": "1"})
    assert "（1/2）" in split_preview.get_data(as_text=True) and "（2/2）" in split_preview.get_data(as_text=True)
    done = client.post(f"/replies/cases/{case.id}/submit", follow_redirects=True,
                       data={"text": LONG, "action": "send", "split": "1", "preview_ok": "1"})
    assert "回复已发布" in done.get_data(as_text=True)
    assert [len(text) <= 140 for _, text in fake_channel.SENT] == [True, True]
    # the parts, numbered, carry the whole reply and then the case's lookup code (查询码) once
    assert "".join(t.split("）", 1)[1] for _, t in fake_channel.SENT) == with_lookup_line(LONG, case)


def test_a_second_person_sees_who_holds_the_lock(app, session, case):
    first, second = As(app, "slj_fyr"), As(app, "slj_fyr2")
    assert first.post(f"/replies/cases/{case.id}/lock").get_json()["ok"] is True
    taken = second.post(f"/replies/cases/{case.id}/lock")
    assert taken.status_code == 409 and "slj_fyr 正在撰写" in taken.get_json()["message"]
    html = second.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "slj_fyr 正在撰写此工单的回复" in html and 'id="composer-form"' not in html
    response = second.post(f"/replies/cases/{case.id}/submit", data={"text": "我的回复", "action": "send"},
                           follow_redirects=True)
    assert "正在撰写" in response.get_data(as_text=True)
    first.post(f"/replies/cases/{case.id}/cancel")
    assert second.post(f"/replies/cases/{case.id}/lock").get_json()["ok"] is True


def test_urgent_reply_goes_through_the_approval_queue(app, session, case):
    case.priority = "urgent"
    session.commit()
    author, head, other = As(app, "slj_fyr"), As(app, "slj_head"), As(app, "jyj_head")
    html = author.post(f"/replies/cases/{case.id}/submit", data={"text": GOOD, "action": "send"},
                       follow_redirects=True).get_data(as_text=True)
    assert "回复已提交审核：紧急工单的回复须经审核" in html
    reply = session.execute(select(Reply)).scalar_one()
    assert author.get("/replies/approvals").status_code == 403  # not a unit head
    assert GOOD not in other.get("/replies/approvals").get_data(as_text=True)  # another unit's
    assert other.post(f"/replies/{reply.id}/approve", data={"link": LINK}).status_code == 404
    queue = head.get("/replies/approvals").get_data(as_text=True)
    assert GOOD in queue and "批准发布" in queue
    html = head.post(f"/replies/{reply.id}/approve", data={}, follow_redirects=True).get_data(as_text=True)
    assert "发布链接" in html  # no channel and no link: refused, still pending
    html = head.post(f"/replies/{reply.id}/approve", data={"link": LINK}, follow_redirects=True).get_data(as_text=True)
    assert f"已批准并发布：工单 #{case.id}" in html
    session.refresh(case)
    session.refresh(reply)
    assert reply.status == "published" and case.first_response_at == reply.published_at


def test_leader_sees_no_composer(client, case):
    login(client, "leader")
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'id="composer-form"' not in html
    assert client.post(f"/replies/cases/{case.id}/lock").status_code == 403


def test_a_rejected_reply_comes_back_to_its_author_with_the_reason(app, session, case):
    author, monitor = As(app, "slj_fyr"), As(app, "monitor1")
    text = GOOD + "网传上访一事不实。"
    author.post(f"/replies/cases/{case.id}/submit", data={"text": text, "action": "send", "confirmed": "1"})
    reply = session.execute(select(Reply)).scalar_one()
    assert reply.status == "pending_approval"
    html = monitor.post(f"/replies/{reply.id}/reject", data={"note": ""}, follow_redirects=True).get_data(as_text=True)
    assert "退回须说明理由" in html
    monitor.post(f"/replies/{reply.id}/reject", data={"note": "请删去“上访”的说法"})
    page = author.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "审核退回：请删去“上访”的说法" in page and "网传上访一事不实。</textarea>" in page


@pytest.mark.parametrize("url", ["/replies/cases/{id}/check", "/replies/cases/{id}/lock",
                                 "/replies/cases/{id}/submit", "/replies/cases/{id}/cancel"])
def test_another_units_spokesperson_cannot_reach_the_composer(app, session, case, url):
    make_user(session, "jyj_fyr", "spokesperson", "jyj")
    other = As(app, "jyj_fyr")
    response = other.post(url.format(id=case.id), data={"text": GOOD, "action": "send"})
    assert response.status_code == 404
    assert session.execute(select(Reply)).first() is None


def test_the_author_withdraws_a_pending_reply_and_the_inbox_shows_what_waits(app, session, case):
    from opinion.models import AuditEvent
    case.priority = "urgent"
    session.commit()
    author, colleague, head = As(app, "slj_fyr"), As(app, "slj_fyr2"), As(app, "slj_head")
    author.post(f"/replies/cases/{case.id}/submit", data={"text": GOOD, "action": "send"})
    reply = session.execute(select(Reply)).scalar_one()
    assert reply.status == "pending_approval"
    inbox = author.get("/inbox/").get_data(as_text=True)
    assert "回复待审核" in inbox
    page = author.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "撤回修改" in page and "撤回修改" not in colleague.get(f"/cases/{case.id}").get_data(as_text=True)
    refused = colleague.post(f"/replies/{reply.id}/withdraw", follow_redirects=True).get_data(as_text=True)
    assert "只能撤回自己提交的回复" in refused
    done = author.post(f"/replies/{reply.id}/withdraw", follow_redirects=True).get_data(as_text=True)
    assert "已撤回" in done and GOOD + "</textarea>" in done  # back in the composer to change
    session.refresh(reply)
    assert reply.status == "draft"
    assert GOOD not in head.get("/replies/approvals").get_data(as_text=True)
    assert "回复待审核" not in author.get("/inbox/").get_data(as_text=True)
    again = author.post(f"/replies/{reply.id}/withdraw", follow_redirects=True).get_data(as_text=True)
    assert "不在待审核状态" in again
    assert session.execute(select(AuditEvent.actor).where(AuditEvent.action == "reply.withdrawn")).scalars().all() \
        == ["slj_fyr"]
